package local

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/certgate/certgate/ca"
)

// Prepare applies p to csr (ca.Profile.Template), draws a random serial,
// adds the CRL distribution point, OCSP and CA issuers URLs, and clamps
// the validity into the CA's own. Policy violations are *ca.PolicyError.
func (c *CA) Prepare(ctx context.Context, csr *x509.CertificateRequest, p *ca.Profile) (*ca.Draft, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("ca: local: prepare: %w", err)
	}
	if p == nil {
		return nil, errors.New("ca: local: prepare: nil profile")
	}
	now := c.now()
	if !now.Before(c.cert.NotAfter) {
		return nil, fmt.Errorf("ca: local: issuing CA %q expired on %s", c.cert.Subject, c.cert.NotAfter.UTC().Format(time.RFC3339))
	}
	tpl, err := p.Template(csr, now)
	if err != nil {
		return nil, err
	}
	serial, err := randomSerial(rand.Reader)
	if err != nil {
		return nil, err
	}
	tpl.SerialNumber = serial
	tpl.SignatureAlgorithm = x509.SHA256WithRSA
	if c.crlURL != "" {
		tpl.CRLDistributionPoints = []string{c.crlURL}
		tpl.OCSPServer = []string{c.ocspURL}
		tpl.IssuingCertificateURL = []string{c.issuerURL}
	}
	// Some verifiers (Windows, older Java) reject a certificate that
	// outlives its issuer, so the CA's expiry caps every leaf.
	if tpl.NotAfter.After(c.cert.NotAfter) {
		tpl.NotAfter = c.cert.NotAfter
	}
	if tpl.NotBefore.Before(c.cert.NotBefore) {
		tpl.NotBefore = c.cert.NotBefore
	}
	return &ca.Draft{Serial: serial, Template: tpl, PublicKey: csr.PublicKey}, nil
}

// Sign signs d, which must come from Prepare, and returns the certificate.
// A Draft is used up by the first Sign even if signing fails, so one serial
// never names two different certificates; prepare a new Draft to retry.
func (c *CA) Sign(ctx context.Context, d *ca.Draft) (*x509.Certificate, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("ca: local: sign: %w", err)
	}
	if d == nil || d.Template == nil || d.Serial == nil || d.PublicKey == nil {
		return nil, errors.New("ca: local: sign: incomplete draft")
	}
	if d.MarkSigned() {
		return nil, ca.ErrDraftReused
	}
	if d.Template.SerialNumber == nil || d.Template.SerialNumber.Cmp(d.Serial) != 0 {
		// The caller recorded d.Serial; the certificate must carry it.
		return nil, errors.New("ca: local: sign: draft serial and template serial differ")
	}
	der, err := x509.CreateCertificate(rand.Reader, d.Template, c.cert, d.PublicKey, c.key)
	if err != nil {
		return nil, fmt.Errorf("ca: local: sign: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("ca: local: parse signed certificate: %w", err)
	}
	return cert, nil
}
