package upstream

import (
	"context"
	"crypto/x509"
	"errors"
	"strconv"
	"time"
)

// Forwarder sends a device's CSR to an upstream CA, which picks serial and
// validity.
type Forwarder interface {
	// Name identifies the upstream in records, metrics and logs.
	Name() string
	// Forward returns the issued certificate, or ErrPending (errors.Is) when
	// the upstream holds the request beyond ctx's deadline budget (SCEP
	// PENDING, EST 202), or ErrUnavailable-wrapping errors for transport
	// failures, timeouts, garbage, an open circuit; or *Rejected for a
	// definite upstream refusal (SCEP FAILURE with failInfo, EST 4xx)
	// carrying a message safe to show.
	Forward(ctx context.Context, csr *x509.CertificateRequest, rawCSR []byte, transactionID string) (*x509.Certificate, error)
	// Chain is the upstream's issuing chain (cached), issuing CA first.
	Chain(ctx context.Context) ([]*x509.Certificate, error)
}

// Poller is implemented by forwarders whose upstream can hold a request.
// After Forward returned ErrPending, the enrollment service answers the
// device PENDING (or 202) and, when the device asks again, calls Poll with
// the same CSR and transactionID: Poll asks the upstream about the held
// request (SCEP CertPoll) instead of submitting a second one. Poll's
// results mean what Forward's do. Keeping "which requests are pending" in
// the caller's store, not here, lets any replica answer the poll.
type Poller interface {
	Poll(ctx context.Context, csr *x509.CertificateRequest, rawCSR []byte, transactionID string) (*x509.Certificate, error)
}

// Closer is implemented by forwarders that hold idle connections; Close
// releases them. Nothing in this package runs in the background, so after
// Close no goroutine of a forwarder remains.
type Closer interface {
	Close()
}

var (
	// ErrPending matches (errors.Is) a *PendingError.
	ErrPending = errors.New("upstream: request pending at the upstream CA")
	// ErrUnavailable matches (errors.Is) an *UnavailableError.
	ErrUnavailable = errors.New("upstream: upstream CA unavailable")
)

// PendingError says the upstream holds the request: the device should be
// answered PENDING (SCEP) or 202 (EST) and poll again.
type PendingError struct {
	Upstream string
	// TransactionID is the ID the upstream knows the request by.
	TransactionID string
	// RetryAfter is the upstream's hint (EST Retry-After); zero if none.
	RetryAfter time.Duration
	// Cause, for logs, is why the gateway could not learn more: a poll
	// found the upstream unavailable. Nil when the upstream itself said
	// pending. It is deliberately not unwrapped, so that the error is
	// pending and nothing else to errors.Is.
	Cause error
}

func (e *PendingError) Error() string {
	msg := "upstream: " + e.Upstream + ": request pending (transaction " + strconv.Quote(e.TransactionID) + ")"
	if e.Cause != nil {
		msg += ": last poll: " + e.Cause.Error()
	}
	return msg
}

// Is makes errors.Is(err, ErrPending) true.
func (e *PendingError) Is(target error) bool { return target == ErrPending }

// UnavailableError is a failure that says nothing about the request: the
// upstream could not be reached, was too slow, answered garbage or an
// error status, or its circuit is open. The device should retry later
// (SCEP FAILURE, EST 503 with Retry-After).
type UnavailableError struct {
	Upstream string
	// Op is the failed operation (an Op* constant).
	Op string
	// RetryAfter is when trying again makes sense (the upstream's
	// Retry-After, or the circuit's remaining cool-down); zero if unknown.
	RetryAfter time.Duration
	// Err is the cause, for logs only: it may name hosts and addresses.
	Err error
	// transient marks failures that the same call may not meet again
	// (transport errors, 5xx, 408, 429): only those are retried.
	transient bool
}

func (e *UnavailableError) Error() string {
	msg := "upstream: " + e.Upstream + ": " + e.Op + ": unavailable"
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Is makes errors.Is(err, ErrUnavailable) true.
func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }

// Unwrap exposes the cause (e.g. context.DeadlineExceeded).
func (e *UnavailableError) Unwrap() error { return e.Err }

// Reason classifies a definite refusal so that the edges can map it to a
// SCEP failInfo or an HTTP status, like enroll.Reason.
type Reason int

// Refusal reasons. The first five are RFC 8894 §3.2.1.4.5 failInfo values.
const (
	ReasonBadRequest Reason = iota
	ReasonBadMessageCheck
	ReasonBadAlg
	ReasonBadTime
	ReasonBadCertID
	// ReasonUnauthorized: the upstream refused the gateway's credentials
	// or challenge (EST 401/403).
	ReasonUnauthorized
)

var reasonNames = [...]string{
	ReasonBadRequest:      "badRequest",
	ReasonBadMessageCheck: "badMessageCheck",
	ReasonBadAlg:          "badAlg",
	ReasonBadTime:         "badTime",
	ReasonBadCertID:       "badCertId",
	ReasonUnauthorized:    "unauthorized",
}

// String names the reason for logs and metrics.
func (r Reason) String() string {
	if r >= 0 && int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "Reason(" + strconv.Itoa(int(r)) + ")"
}

// Rejected is a definite refusal by the upstream CA. Retrying the same
// request will not help.
type Rejected struct {
	Upstream string
	Reason   Reason
	// Message is safe to show the device: it is made here, never copied
	// from the upstream.
	Message string
	// Detail is what the upstream said (an EST error body, a SCEP
	// failInfo), truncated and stripped of control characters, for logs.
	Detail string
	// HTTPStatus is the EST status; zero for SCEP.
	HTTPStatus int
}

func (e *Rejected) Error() string {
	msg := "upstream: " + e.Upstream + ": rejected (" + e.Reason.String() + "): " + e.Message
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// Operation names, used in errors and as the operation label of the
// metrics.
const (
	OpEnroll    = "enroll"    // EST simpleenroll, SCEP PKCSReq
	OpPoll      = "poll"      // SCEP CertPoll (GetCertInitial), EST repeated simpleenroll
	OpCACerts   = "cacerts"   // EST cacerts, SCEP GetCACert
	OpGetCACaps = "getcacaps" // SCEP GetCACaps
	OpVerify    = "verify"    // checking an answer that arrived; errors only, never a metric label
)

// sanitize keeps upstream text printable and short enough for a log line.
func sanitize(s string) string {
	const max = 200
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if len(out) == max {
			out = append(out, '…')
			break
		}
		if r < 0x20 || r == 0x7f {
			r = ' '
		}
		out = append(out, r)
	}
	return string(out)
}
