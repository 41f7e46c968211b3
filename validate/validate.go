// Package validate decides whether an enrollment request may proceed: it
// checks the challenge (static secret today; one-time, Intune and Jamf
// validators plug in later) and may say who the device is.
//
// Policy: validators fail closed. A *Rejection means the requester is not
// authorised (wrong or missing challenge); any other error means the
// validator could not decide (an MDM API down, a timeout), and the
// enrollment is refused as well. Neither error ever carries the secret.
package validate

import (
	"context"
	"crypto/x509"
)

// Request is what a validator sees of an enrollment.
type Request struct {
	// Profile is the certificate profile the request is for.
	Profile string
	// Protocol is "scep" or "est".
	Protocol string
	// Challenge is the challengePassword (SCEP) or the credential the edge
	// extracted (EST Basic password). Never log it.
	Challenge string
	// TransactionID is the SCEP transaction ID, if any.
	TransactionID string
	// CSR is the parsed request; RawCSR its DER (the Intune API wants it).
	CSR    *x509.CertificateRequest
	RawCSR []byte
	// RemoteAddr is the requester's network address.
	RemoteAddr string
}

// Decision is what a validator learned while allowing a request.
type Decision struct {
	// DeviceID is the MDM's device identifier, when the validator knows it.
	DeviceID string
}

// Validator decides whether an enrollment may proceed.
type Validator interface {
	// Validate returns nil error to allow the request. It returns a
	// *Rejection when the requester is not authorised, and any other error
	// when it cannot decide.
	Validate(ctx context.Context, r *Request) (Decision, error)
}

// Rejection is a definite "no" from a validator.
type Rejection struct {
	// Reason is safe to log and to count in metrics; it never holds the
	// submitted challenge.
	Reason string
}

func (e *Rejection) Error() string { return "validate: rejected: " + e.Reason }

// ValidatorFunc adapts a function to the Validator interface.
type ValidatorFunc func(ctx context.Context, r *Request) (Decision, error)

// Validate calls f.
func (f ValidatorFunc) Validate(ctx context.Context, r *Request) (Decision, error) { return f(ctx, r) }
