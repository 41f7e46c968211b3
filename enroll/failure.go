package enroll

import (
	"errors"
	"fmt"
	"time"
)

// Reason classifies why an enrollment failed. The protocol edges map it to
// the wire once: SCEP to a failInfo, EST to an HTTP status.
type Reason int

// Failure reasons. The first five follow RFC 8894 §3.2.1.4.5 failInfo.
const (
	// BadRequest: the request is not acceptable (unknown profile, policy).
	BadRequest Reason = iota
	// BadMessageCheck: an integrity check failed (e.g. CSR signature).
	BadMessageCheck
	// BadAlg: an algorithm or key size is not accepted.
	BadAlg
	// BadTime: a time was out of range (e.g. renewal with an expired cert).
	BadTime
	// BadCertID: no certificate matches (e.g. renewal by an unknown cert).
	BadCertID
	// Unauthorized: the validator rejected the requester (wrong challenge).
	Unauthorized
	// Unavailable: certgate could not decide or record (store, MDM API
	// down); the requester may retry later.
	Unavailable
	// Pending: the request is held for approval; the requester asks again
	// later (SCEP PENDING and GetCertInitial, EST 202 with Retry-After).
	// Failure.RequestID names it.
	Pending
)

var reasonNames = map[Reason]string{
	BadRequest:      "badRequest",
	BadMessageCheck: "badMessageCheck",
	BadAlg:          "badAlg",
	BadTime:         "badTime",
	BadCertID:       "badCertId",
	Unauthorized:    "unauthorized",
	Unavailable:     "unavailable",
	Pending:         "pending",
}

func (r Reason) String() string {
	if s, ok := reasonNames[r]; ok {
		return s
	}
	return fmt.Sprintf("reason(%d)", int(r))
}

// Failure is the one error type the protocol edges map to the wire. Detail
// is safe to show the requester; Err (if any) is for logs only.
type Failure struct {
	Reason Reason
	Detail string
	// RetryAfter, when non-zero, tells the requester when to try again.
	RetryAfter time.Duration
	// RequestID is the held request, for Pending.
	RequestID string
	Err       error
}

func (f *Failure) Error() string {
	if f.Err != nil {
		return "enroll: " + f.Reason.String() + ": " + f.Detail + ": " + f.Err.Error()
	}
	return "enroll: " + f.Reason.String() + ": " + f.Detail
}

// Unwrap exposes the cause to errors.Is/As.
func (f *Failure) Unwrap() error { return f.Err }

// AsFailure returns err's *Failure, or an Unavailable failure wrapping err
// when err is some other error: an edge never has to guess.
func AsFailure(err error) *Failure {
	var f *Failure
	if errors.As(err, &f) {
		return f
	}
	return &Failure{Reason: Unavailable, Detail: "internal error", Err: err}
}

func fail(r Reason, detail string, err error) *Failure {
	return &Failure{Reason: r, Detail: detail, Err: err}
}
