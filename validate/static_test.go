package validate_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/certgate/certgate/validate"
)

func TestStaticValidate(t *testing.T) {
	// Two secrets, as during a rotation.
	const old, cur = "old-secret-4f2a", "current-secret-77c1"
	v, err := validate.NewStatic([]string{old, cur})
	if err != nil {
		t.Fatalf("NewStatic: %v", err)
	}
	tests := []struct {
		name      string
		challenge string
		// wantReject is the Rejection's reason; empty means accepted.
		wantReject string
	}{
		{"ok/first secret", old, ""},
		{"ok/second secret", cur, ""},
		{"fail/wrong", "guess-1234", "wrong challenge"},
		{"fail/missing", "", "missing challenge"},
		{"fail/prefix of the secret", cur[:len(cur)-1], "wrong challenge"},
		{"fail/secret plus suffix", cur + "x", "wrong challenge"},
		{"fail/secret with trailing newline", cur + "\n", "wrong challenge"},
		{"fail/case differs", strings.ToUpper(cur), "wrong challenge"},
		{"fail/both secrets joined", old + cur, "wrong challenge"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dec, err := v.Validate(context.Background(), &validate.Request{
				Profile: "device", Protocol: "scep", Challenge: tt.challenge,
			})
			if tt.wantReject == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				if dec != (validate.Decision{}) {
					t.Errorf("Decision = %+v; a static secret identifies no device", dec)
				}
				return
			}
			var rej *validate.Rejection
			if !errors.As(err, &rej) {
				t.Fatalf("Validate error = %v (%T), want a *validate.Rejection", err, err)
			}
			if rej.Reason != tt.wantReject {
				t.Errorf("Rejection.Reason = %q, want %q", rej.Reason, tt.wantReject)
			}
			msg := err.Error()
			if tt.challenge != "" && strings.Contains(msg, tt.challenge) {
				t.Errorf("error %q holds the submitted challenge", msg)
			}
			if strings.Contains(msg, old) || strings.Contains(msg, cur) {
				t.Errorf("error %q holds a configured secret", msg)
			}
		})
	}
}

func TestNewStatic(t *testing.T) {
	tests := []struct {
		name    string
		secrets []string
		wantErr string
	}{
		{"ok/one", []string{"s"}, ""},
		{"fail/nil", nil, "validate: static: no secret configured"},
		{"fail/none", []string{}, "validate: static: no secret configured"},
		{"fail/empty", []string{""}, "validate: static: empty secret"},
		{"fail/empty among others", []string{"s", ""}, "validate: static: empty secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := validate.NewStatic(tt.secrets)
			if tt.wantErr == "" {
				if err != nil || v == nil {
					t.Fatalf("NewStatic = %v, %v", v, err)
				}
				return
			}
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("NewStatic error = %v, want %q", err, tt.wantErr)
			}
			if v != nil {
				t.Errorf("NewStatic returned a validator with an error")
			}
		})
	}
}

// NewStatic keeps no reference to the caller's slice: changing it later
// (say, zeroing secrets after start-up) must not change what is accepted.
func TestStaticCopiesSecrets(t *testing.T) {
	secrets := []string{"kept-secret"}
	v, err := validate.NewStatic(secrets)
	if err != nil {
		t.Fatal(err)
	}
	secrets[0] = "replaced"
	for _, tt := range []struct {
		challenge string
		ok        bool
	}{{"kept-secret", true}, {"replaced", false}} {
		_, err := v.Validate(context.Background(), &validate.Request{Challenge: tt.challenge})
		if (err == nil) != tt.ok {
			t.Errorf("Validate(%q) error = %v, want accepted=%v", tt.challenge, err, tt.ok)
		}
	}
}

func TestRejectionError(t *testing.T) {
	err := error(&validate.Rejection{Reason: "wrong challenge"})
	if got, want := err.Error(), "validate: rejected: wrong challenge"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestValidatorFunc(t *testing.T) {
	var seen *validate.Request
	f := validate.ValidatorFunc(func(_ context.Context, r *validate.Request) (validate.Decision, error) {
		seen = r
		return validate.Decision{DeviceID: "dev-1"}, nil
	})
	req := &validate.Request{Challenge: "c"}
	dec, err := f.Validate(context.Background(), req)
	if err != nil || dec.DeviceID != "dev-1" || seen != req {
		t.Errorf("ValidatorFunc.Validate = %+v, %v; saw %p, want %p", dec, err, seen, req)
	}
}
