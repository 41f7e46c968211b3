package local

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"time"

	"github.com/certgate/certgate/ca"
)

// oidOCSPNoCheck is id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1).
var oidOCSPNoCheck = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 5}

// responderBackdate covers relying parties whose clocks run a little
// behind ours; a responder certificate is used the moment it is issued.
const responderBackdate = 5 * time.Minute

// responderCNSuffix names the delegated responder after its CA.
const responderCNSuffix = " OCSP Responder"

// IssueOCSPResponder signs a delegated OCSP responder certificate (RFC
// 6960 §4.2.2.2) for key: keyUsage digitalSignature, extKeyUsage
// OCSPSigning, id-pkix-ocsp-nocheck, a random serial, and subject CN
// "<CA name> OCSP Responder". It is valid from 5 minutes ago for
// validity, clamped to the CA's own validity, so keep validity short
// (days): nocheck tells relying parties not to ask about the responder
// itself, which leaves expiry as the only way it stops being trusted.
//
// The certificate is deliberately not recorded in the store. It is
// infrastructure, not an enrollment: nobody revokes it (rotation and its
// short life replace revocation, and with nocheck a revocation would not
// be looked at anyway), it never appears in a CRL, and recording one per
// rotation and restart would only add noise to certificate searches.
func (c *CA) IssueOCSPResponder(key crypto.Signer, validity time.Duration) (*x509.Certificate, error) {
	if key == nil {
		return nil, fmt.Errorf("ca: local: ocsp responder: nil key")
	}
	return c.issueInternal("ocsp responder", key.Public(), validity, &x509.Certificate{
		Subject:     pkix.Name{CommonName: responderCN(c.name)},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning},
		// RFC 6960 §4.2.2.2.1: the value of nocheck is NULL.
		ExtraExtensions: []pkix.Extension{{Id: oidOCSPNoCheck, Value: asn1.NullBytes}},
	})
}

// issueInternal signs one of the gateway's own certificates (not an
// enrollment): tpl gives subject, usages and extensions; serial, SKI,
// validity (backdated, clamped to the CA's) and signature algorithm are
// filled in here. what names the certificate in errors.
func (c *CA) issueInternal(what string, pub crypto.PublicKey, validity time.Duration, tpl *x509.Certificate) (*x509.Certificate, error) {
	if pub == nil {
		return nil, fmt.Errorf("ca: local: %s: nil key", what)
	}
	if validity <= 0 {
		return nil, fmt.Errorf("ca: local: %s: validity %s is not positive", what, validity)
	}
	now := c.now()
	if !now.Before(c.cert.NotAfter) {
		return nil, fmt.Errorf("ca: local: issuing CA %q expired on %s", c.cert.Subject, c.cert.NotAfter.UTC().Format(time.RFC3339))
	}
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("ca: local: %s: %w", what, err)
	}
	if tpl.SubjectKeyId, err = ca.SubjectKeyID(spki); err != nil {
		return nil, err
	}
	if tpl.SerialNumber, err = randomSerial(rand.Reader); err != nil {
		return nil, err
	}
	tpl.NotBefore = now.Add(-responderBackdate)
	tpl.NotAfter = now.Add(validity)
	tpl.BasicConstraintsValid = true
	tpl.SignatureAlgorithm = x509.SHA256WithRSA
	// As for leaves (see Prepare): nothing may outlive or predate its issuer.
	if tpl.NotAfter.After(c.cert.NotAfter) {
		tpl.NotAfter = c.cert.NotAfter
	}
	if tpl.NotBefore.Before(c.cert.NotBefore) {
		tpl.NotBefore = c.cert.NotBefore
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, c.cert, pub, c.key)
	if err != nil {
		return nil, fmt.Errorf("ca: local: %s: %w", what, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("ca: local: %s: parse: %w", what, err)
	}
	return cert, nil
}

// responderCN keeps the CN within X.520's 64 characters (maxCNLen) by
// shortening the CA name, which may itself be 64 characters long.
func responderCN(name string) string {
	if room := maxCNLen - len(responderCNSuffix); len(name) > room {
		name = name[:room]
	}
	return name + responderCNSuffix
}
