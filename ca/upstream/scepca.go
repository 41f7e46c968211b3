package upstream

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/smallstep/pkcs7"
)

// scepCA is what the gateway knows about a SCEP upstream: its
// capabilities (GetCACaps) and certificates (GetCACert), fetched together
// and cached.
type scepCA struct {
	// cipher and digest are the strongest the CA offers of those we send.
	cipher contentCipher
	digest string // "SHA-256" or "SHA-1"
	post   bool   // POSTPKIOperation
	// recipient is the certificate requests are encrypted to: an RA
	// encryption certificate if GetCACert returned one, else the CA.
	recipient *x509.Certificate
	// signers are all GetCACert certificates: the only ones a CertRep may
	// be signed by.
	signers []*x509.Certificate
	// chain is the CA certificates, issuing CA first.
	chain []*x509.Certificate
}

// parseCaps reads a GetCACaps answer (RFC 8894 §3.5.2): one keyword a
// line, case-insensitive. We choose AES and SHA-256 when offered (or
// implied by SCEPStandard), else DES-EDE3 and SHA-1, which every CA that
// predates RFC 8894 implements. RC2 and single DES are never sent.
func parseCaps(body []byte, ca *scepCA) {
	ca.cipher, ca.digest = cipherDES3, "SHA-1"
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		switch strings.ToUpper(strings.TrimSpace(sc.Text())) {
		case "AES":
			ca.cipher = cipherAES128
		case "SHA-256":
			ca.digest = "SHA-256"
		case "SCEPSTANDARD": // implies AES and SHA-256 (§3.5.2)
			ca.cipher, ca.digest = cipherAES128, "SHA-256"
		case "POSTPKIOPERATION":
			ca.post = true
		}
	}
}

// fetchCA asks GetCACaps, then GetCACert. Both are safe to repeat and are
// retried. A CA that does not answer GetCACaps with 200 (it is optional
// before RFC 8894) gets the oldest common choices: DES-EDE3, SHA-1, GET.
func (s *SCEP) fetchCA(ctx context.Context) (*scepCA, error) {
	ca := &scepCA{}
	parseCaps(nil, ca)
	err := s.c.doIdempotent(ctx, OpGetCACaps, s.getRequest("GetCACaps", s.caIdent), func(r *response) error {
		if r.status == http.StatusOK {
			parseCaps(r.body, ca)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = s.c.doIdempotent(ctx, OpCACerts, s.getRequest("GetCACert", s.caIdent), func(r *response) error {
		if r.status != http.StatusOK {
			return s.c.statusUnavailable(OpCACerts, r)
		}
		// application/x-x509-ca-cert (one DER certificate) or
		// application/x-x509-ca-ra-cert (degenerate PKCS#7), RFC 8894
		// §4.2.1; the content tells which, so the type is not checked.
		certs, err := parseCertsDER(r.body)
		if err != nil {
			return s.c.unavailable(OpCACerts, fmt.Errorf("garbage GetCACert answer: %w", err))
		}
		if err := s.checkRoots(certs); err != nil {
			return s.c.unavailable(OpCACerts, err)
		}
		if err := ca.setCerts(certs); err != nil {
			return s.c.unavailable(OpCACerts, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ca, nil
}

// setCerts assigns the GetCACert certificates their roles (RFC 8894
// §3.5.1, §4.2.1.2): with RA certificates present, requests are encrypted
// to the RA certificate with keyEncipherment; with the CA alone, to the
// CA.
func (ca *scepCA) setCerts(certs []*x509.Certificate) error {
	ca.signers = certs
	ca.chain = orderChain(certs)
	var ras []*x509.Certificate
	for _, c := range certs {
		if !(c.BasicConstraintsValid && c.IsCA) {
			ras = append(ras, c)
		}
	}
	const encipher = x509.KeyUsageKeyEncipherment | x509.KeyUsageDataEncipherment
	for _, c := range ras {
		if c.KeyUsage&encipher != 0 {
			ca.recipient = c
			break
		}
	}
	if ca.recipient == nil && len(ras) > 0 {
		ca.recipient = ras[0]
	}
	if ca.recipient == nil && len(ca.chain) > 0 {
		ca.recipient = ca.chain[0]
	}
	if ca.recipient == nil {
		return errors.New("GetCACert returned no certificate")
	}
	if _, ok := ca.recipient.PublicKey.(*rsa.PublicKey); !ok {
		return errors.New("the CA's encryption certificate has no RSA key (RFC 8894 needs RSA key transport)")
	}
	return nil
}

// checkRoots verifies every GetCACert certificate against the configured
// roots, the others serving as intermediates. Key usages are not checked
// here: RA and CA certificates carry none that x509 path validation knows.
func (s *SCEP) checkRoots(certs []*x509.Certificate) error {
	if s.roots == nil {
		return nil
	}
	inter := x509.NewCertPool()
	for _, c := range certs {
		inter.AddCert(c)
	}
	for _, c := range certs {
		opts := x509.VerifyOptions{Roots: s.roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}, CurrentTime: s.c.now()}
		if _, err := c.Verify(opts); err != nil {
			return fmt.Errorf("GetCACert certificate %q does not chain to the configured roots: %w", c.Subject.String(), err)
		}
	}
	return nil
}

// verifyCertRep checks a CertRep's signature against the GetCACert
// certificates only: a certificate the message carries proves nothing.
func (ca *scepCA) verifyCertRep(p7 *pkcs7.PKCS7) error {
	p7.Certificates = ca.signers
	return p7.Verify()
}

// issuedBy reports whether one of the CA certificates signed cert.
func (ca *scepCA) issuedBy(cert *x509.Certificate) bool {
	for _, c := range ca.chain {
		if cert.CheckSignatureFrom(c) == nil {
			return true
		}
	}
	return false
}
