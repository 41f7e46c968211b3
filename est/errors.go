package est

import (
	"errors"
	"net/http"
	"time"

	"github.com/certgate/certgate/enroll"
)

// Error is a failure decided by the EST edge itself (authentication,
// encoding, content type), with the HTTP status RFC 7030 gives it.
// Msg is safe to show the client.
type Error struct {
	Status int
	Msg    string
	Err    error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return "est: " + e.Msg + ": " + e.Err.Error()
	}
	return "est: " + e.Msg
}

// Unwrap exposes the cause to errors.Is/As.
func (e *Error) Unwrap() error { return e.Err }

func errorf(status int, msg string) *Error { return &Error{Status: status, Msg: msg} }

// unavailableRetry is the Retry-After sent with 503 when the enrollment
// service gives no better hint.
const unavailableRetry = 30 * time.Second

// statusOf maps any error from the Server's methods to the HTTP status,
// the text for the client, and a Retry-After (zero for none). It is the
// one place EST meets enroll's failure reasons (RFC 7030 §4.2.3).
func statusOf(err error) (status int, msg string, retry time.Duration) {
	var e *Error
	if errors.As(err, &e) {
		return e.Status, e.Msg, 0
	}
	f := enroll.AsFailure(err)
	switch f.Reason {
	case enroll.Unauthorized, enroll.BadCertID, enroll.BadTime:
		// Wrong challenge, a renewal by a certificate we did not issue or
		// that expired: the credential is refused.
		return http.StatusForbidden, f.Detail, 0
	case enroll.Pending:
		// RFC 7030 §4.2.3: held for manual approval; ask again later.
		retry := f.RetryAfter
		if retry <= 0 {
			retry = unavailableRetry
		}
		return http.StatusAccepted, f.Detail, retry
	case enroll.Unavailable:
		retry := f.RetryAfter
		if retry <= 0 {
			retry = unavailableRetry
		}
		return http.StatusServiceUnavailable, f.Detail, retry
	default:
		return http.StatusBadRequest, f.Detail, 0
	}
}
