// Package ca turns an approved certificate request into a certificate.
//
// The Issuer contract is split in two steps so that enroll can record before
// it signs (see store): Prepare decides everything about the certificate
// (serial, validity, extensions) and returns a Draft; the caller persists the
// Draft's serial; Sign then signs exactly that Draft once. Profile (profile.go)
// is the policy that shapes a Draft from a CSR.
package ca

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"math/big"
	"strconv"
)

// Issuer signs certificates for one CA, local or upstream.
type Issuer interface {
	// Name identifies the CA in records, metrics and URLs (/crl/<name>.crl).
	Name() string
	// Prepare applies the profile to the CSR and returns the certificate to
	// be signed. Policy violations are returned as *PolicyError.
	Prepare(ctx context.Context, csr *x509.CertificateRequest, p *Profile) (*Draft, error)
	// Sign signs a Draft returned by Prepare. A Draft is signed at most once.
	Sign(ctx context.Context, d *Draft) (*x509.Certificate, error)
	// Chain is the issuing CA certificate followed by its issuers up to the
	// root, as GetCACert and EST cacerts serve it.
	Chain() []*x509.Certificate
}

// Draft is a prepared, not yet signed certificate.
type Draft struct {
	// Serial is the serial the certificate will carry; record it before Sign.
	Serial *big.Int
	// Template is what Sign passes to x509.CreateCertificate.
	Template *x509.Certificate
	// PublicKey is the subject's key from the CSR.
	PublicKey crypto.PublicKey
	signed    bool
}

// MarkSigned flags the draft as used and reports whether it already was, so
// an Issuer can refuse to sign one Draft twice.
func (d *Draft) MarkSigned() (already bool) {
	already = d.signed
	d.signed = true
	return already
}

// ErrDraftReused is returned by Sign for a Draft that was already signed.
var ErrDraftReused = errors.New("ca: draft already signed")

// PolicyError says which profile rule a CSR broke. Code tells the edge
// which protocol error to send (a weak key is badAlg in SCEP terms).
type PolicyError struct {
	Code   PolicyCode
	Detail string
}

// PolicyCode classifies policy violations.
type PolicyCode int

// Policy violation classes.
const (
	// PolicyBadRequest: the CSR asks for something the profile does not allow.
	PolicyBadRequest PolicyCode = iota
	// PolicyBadAlg: key type, size or signature algorithm not accepted.
	PolicyBadAlg
	// PolicyBadMessageCheck: the CSR's self-signature does not verify, so
	// nothing proves the requester holds the key.
	PolicyBadMessageCheck
)

// String names the code for logs and metrics.
func (c PolicyCode) String() string {
	switch c {
	case PolicyBadRequest:
		return "badRequest"
	case PolicyBadAlg:
		return "badAlg"
	case PolicyBadMessageCheck:
		return "badMessageCheck"
	}
	return "PolicyCode(" + strconv.Itoa(int(c)) + ")"
}

func (e *PolicyError) Error() string { return "ca: policy: " + e.Detail }
