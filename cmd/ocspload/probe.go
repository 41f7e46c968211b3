package main

import (
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	xocsp "golang.org/x/crypto/ocsp"
)

// probe is one prebuilt request and the serial it asks about.
type probe struct {
	serial *big.Int
	der    []byte // POST body
	getURL string // the same request as a GET
}

// buildProbes makes one RFC 5019 request per serial: SHA-1 CertID, one
// singleRequest, no nonce and no signature, which is what RADIUS/NAC
// servers send and what a responder may answer from a cache. The GET URL
// is base + "/" + the url-encoded base64 (RFC 6960 Appendix A.1).
func buildProbes(base *url.URL, issuer *x509.Certificate, serials []*big.Int) ([]probe, error) {
	prefix := strings.TrimRight(base.String(), "/") + "/"
	opts := &xocsp.RequestOptions{Hash: crypto.SHA1}
	out := make([]probe, len(serials))
	for i, s := range serials {
		der, err := xocsp.CreateRequest(&x509.Certificate{SerialNumber: s}, issuer, opts)
		if err != nil {
			return nil, fmt.Errorf("ocspload: build request for %x: %w", s, err)
		}
		out[i] = probe{serial: s, der: der, getURL: prefix + url.QueryEscape(base64.StdEncoding.EncodeToString(der))}
	}
	return out, nil
}

// checkResponse verifies that der is what a relying party accepts as an
// answer with certStatus want for serial: status successful, a
// singleResponse for that serial, that certStatus, nextUpdate set and not
// passed (RFC 5019 §2.2.4), and a signature by issuer or by a delegated
// responder that issuer certified for OCSP signing (RFC 6960 §4.2.2.2).
func checkResponse(der []byte, serial *big.Int, issuer *x509.Certificate, now time.Time, want int) error {
	resp, err := xocsp.ParseResponseForCert(der, &x509.Certificate{SerialNumber: serial}, issuer)
	if err != nil {
		return fmt.Errorf("ocspload: response for %x: %w", serial, err)
	}
	if resp.SerialNumber.Cmp(serial) != 0 {
		// ParseResponseForCert picks by serial; this guards a library change.
		return fmt.Errorf("ocspload: response for %x names serial %x", serial, resp.SerialNumber)
	}
	if resp.Status != want {
		return fmt.Errorf("ocspload: response for %x: certStatus %s, want %s", serial, statusName(resp.Status), statusName(want))
	}
	if resp.NextUpdate.IsZero() || !now.Before(resp.NextUpdate) {
		return fmt.Errorf("ocspload: response for %x: nextUpdate %v is missing or passed", serial, resp.NextUpdate)
	}
	if c := resp.Certificate; c != nil && !c.Equal(issuer) && !slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageOCSPSigning) {
		return fmt.Errorf("ocspload: response for %x: responder certificate %q lacks extKeyUsage OCSPSigning", serial, c.Subject)
	}
	return nil
}

func statusName(s int) string {
	switch s {
	case xocsp.Good:
		return "good"
	case xocsp.Revoked:
		return "revoked"
	case xocsp.Unknown:
		return "unknown"
	}
	return fmt.Sprintf("%d", s)
}

// readIssuer loads the first certificate of a PEM file.
func readIssuer(path string) (*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ocspload: -issuer: %w", err)
	}
	for len(data) > 0 {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type == "CERTIFICATE" {
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("ocspload: -issuer %s: %w", path, err)
			}
			return c, nil
		}
	}
	return nil, errors.New("ocspload: -issuer " + path + ": no CERTIFICATE PEM block")
}
