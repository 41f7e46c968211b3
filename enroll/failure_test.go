package enroll_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/certgate/certgate/enroll"
)

func TestReasonString(t *testing.T) {
	for r, want := range map[enroll.Reason]string{
		enroll.BadRequest:      "badRequest",
		enroll.BadMessageCheck: "badMessageCheck",
		enroll.BadAlg:          "badAlg",
		enroll.BadTime:         "badTime",
		enroll.BadCertID:       "badCertId",
		enroll.Unauthorized:    "unauthorized",
		enroll.Unavailable:     "unavailable",
		enroll.Reason(99):      "reason(99)",
	} {
		if got := r.String(); got != want {
			t.Errorf("Reason(%d).String() = %q, want %q", int(r), got, want)
		}
	}
}

func TestFailureError(t *testing.T) {
	cause := errors.New("bolt: timeout")
	tests := []struct {
		name string
		f    *enroll.Failure
		want string
	}{
		{"ok/detail only", &enroll.Failure{Reason: enroll.BadAlg, Detail: "RSA 1024-bit key"}, "enroll: badAlg: RSA 1024-bit key"},
		{"ok/with cause", &enroll.Failure{Reason: enroll.Unavailable, Detail: "could not reserve serial", Err: cause},
			"enroll: unavailable: could not reserve serial: bolt: timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.f.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
			if (tt.f.Err != nil) != errors.Is(tt.f, cause) {
				t.Errorf("errors.Is(failure, cause) = %v with Err %v", errors.Is(tt.f, cause), tt.f.Err)
			}
		})
	}
}

func TestAsFailure(t *testing.T) {
	bad := &enroll.Failure{Reason: enroll.BadTime, Detail: "expired"}
	plain := errors.New("disk on fire")
	tests := []struct {
		name       string
		err        error
		wantReason enroll.Reason
		wantSame   *enroll.Failure
		wantCause  error
	}{
		{"ok/failure itself", bad, enroll.BadTime, bad, nil},
		{"ok/wrapped failure", fmt.Errorf("scep: %w", bad), enroll.BadTime, bad, nil},
		{"ok/plain error is unavailable", plain, enroll.Unavailable, nil, plain},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := enroll.AsFailure(tt.err)
			if f.Reason != tt.wantReason {
				t.Errorf("Reason = %s, want %s", f.Reason, tt.wantReason)
			}
			if tt.wantSame != nil && f != tt.wantSame {
				t.Errorf("AsFailure returned a new *Failure %v, want the one in the chain", f)
			}
			if tt.wantCause != nil && !errors.Is(f, tt.wantCause) {
				t.Errorf("AsFailure(%v) does not wrap the error", tt.err)
			}
			if tt.wantCause != nil && f.Detail != "internal error" {
				t.Errorf("Detail = %q; a plain error's text must not reach the requester", f.Detail)
			}
		})
	}
}
