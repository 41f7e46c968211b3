package upstream

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/smallstep/pkcs7"
)

// decodeCertsOnly reads an EST certs-only answer (RFC 7030 §4.1.3,
// §4.2.3): base64 of a degenerate PKCS#7 SignedData. RFC 8951 lets the
// base64 come with or without line breaks. We also accept, because servers
// send them: binary DER (the PKCS#7 or one certificate) and PEM.
func decodeCertsOnly(body []byte) ([]*x509.Certificate, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, errors.New("empty answer")
	}
	if bytes.HasPrefix(trimmed, []byte("-----BEGIN")) {
		return decodePEMCerts(trimmed)
	}
	der, err := decodeBase64(trimmed)
	if err != nil {
		if trimmed[0] != 0x30 { // not an ASN.1 SEQUENCE either
			return nil, fmt.Errorf("neither base64 nor DER: %w", err)
		}
		der = trimmed
	}
	return parseCertsDER(der)
}

// decodeBase64 ignores whitespace (line breaks of any style) and accepts
// missing padding.
func decodeBase64(b []byte) ([]byte, error) {
	clean := make([]byte, 0, len(b))
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
		default:
			clean = append(clean, c)
		}
	}
	out, err := base64.StdEncoding.DecodeString(string(clean))
	if err != nil {
		out, err = base64.RawStdEncoding.DecodeString(string(bytes.TrimRight(clean, "=")))
	}
	return out, err
}

// parseCertsDER reads a degenerate PKCS#7 SignedData or a single DER
// certificate.
func parseCertsDER(der []byte) ([]*x509.Certificate, error) {
	p7, err := pkcs7.Parse(der)
	if err == nil {
		if len(p7.Certificates) == 0 {
			return nil, errors.New("PKCS#7 holds no certificate")
		}
		return p7.Certificates, nil
	}
	if cert, certErr := x509.ParseCertificate(der); certErr == nil {
		return []*x509.Certificate{cert}, nil
	}
	return nil, fmt.Errorf("not a PKCS#7 certs-only message: %w", err)
}

func decodePEMCerts(b []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			break
		}
		switch block.Type {
		case "CERTIFICATE":
			cert, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, err
			}
			certs = append(certs, cert)
		case "PKCS7":
			more, err := parseCertsDER(block.Bytes)
			if err != nil {
				return nil, err
			}
			certs = append(certs, more...)
		}
	}
	if len(certs) == 0 {
		return nil, errors.New("PEM holds no certificate")
	}
	return certs, nil
}

// certForKey returns the certificate among certs whose public key is the
// CSR's: an answer may carry the chain too, in any order, and a
// certificate for another key is never the device's.
func certForKey(certs []*x509.Certificate, csr *x509.CertificateRequest) (*x509.Certificate, error) {
	want, err := x509.MarshalPKIXPublicKey(csr.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("CSR public key: %w", err)
	}
	for _, c := range certs {
		if bytes.Equal(c.RawSubjectPublicKeyInfo, want) {
			return c, nil
		}
	}
	return nil, fmt.Errorf("none of the %d returned certificates is for the CSR's key", len(certs))
}

// orderChain returns the CA certificates of certs issuing CA first, each
// followed by its issuer. Non-CA certificates (SCEP RA certificates) are
// dropped. Certificates off the path (cross-certificates, a second root)
// follow it in their original order rather than being lost.
func orderChain(certs []*x509.Certificate) []*x509.Certificate {
	var cas []*x509.Certificate
	for _, c := range certs {
		if c.BasicConstraintsValid && c.IsCA {
			cas = append(cas, c)
		}
	}
	if len(cas) == 0 {
		// A CA certificate without basicConstraints (X.509 v1): keep what
		// we were given.
		cas = certs
	}
	if len(cas) < 2 {
		return cas
	}
	issues := func(parent, child *x509.Certificate) bool {
		return parent != child && bytes.Equal(parent.RawSubject, child.RawIssuer) && child.CheckSignatureFrom(parent) == nil
	}
	// The issuing CA is the one that issued no other certificate here;
	// of several (a missing intermediate, a second root), the one not
	// self-issued.
	var leaves, issued []*x509.Certificate
	for _, c := range cas {
		leaf := true
		for _, o := range cas {
			if issues(c, o) {
				leaf = false
				break
			}
		}
		if leaf {
			leaves = append(leaves, c)
			if !bytes.Equal(c.RawSubject, c.RawIssuer) {
				issued = append(issued, c)
			}
		}
	}
	var first *x509.Certificate
	switch {
	case len(leaves) == 1:
		first = leaves[0]
	case len(issued) == 1:
		first = issued[0]
	default:
		return cas // no single issuing CA to put first
	}
	used := map[*x509.Certificate]bool{first: true}
	out := []*x509.Certificate{first}
	for cur := first; ; {
		var next *x509.Certificate
		for _, c := range cas {
			if !used[c] && issues(c, cur) {
				next = c
				break
			}
		}
		if next == nil {
			break
		}
		used[next] = true
		out = append(out, next)
		cur = next
	}
	for _, c := range cas {
		if !used[c] {
			out = append(out, c)
		}
	}
	return out
}
