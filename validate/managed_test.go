package validate

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/certgate/certgate/store"
)

type memSecrets map[string][]store.StaticSecret

func (m memSecrets) StaticSecrets(_ context.Context, profile string) ([]store.StaticSecret, error) {
	return m[profile], nil
}

type brokenSecrets struct{}

func (brokenSecrets) StaticSecrets(context.Context, string) ([]store.StaticSecret, error) {
	return nil, errors.New("store down")
}

func TestManagedStatic(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	config, _ := NewStatic([]string{"from-config", "retired-config"})
	st := memSecrets{"p": {
		{Hash: ChallengeHash("retired-config"), ExpiresAt: now.Add(-time.Minute)},
		{Hash: ChallengeHash("in-grace"), ExpiresAt: now.Add(time.Hour)},
		{Hash: ChallengeHash("current")},
	}}
	v := NewManagedStatic(config, st, func() time.Time { return now })
	tests := []struct {
		name, profile, secret, wantReject string
	}{
		{name: "ok/current", profile: "p", secret: "current"},
		{name: "ok/in grace", profile: "p", secret: "in-grace"},
		{name: "ok/config not retired", profile: "p", secret: "from-config"},
		{name: "fail/config retired", profile: "p", secret: "retired-config", wantReject: "retired"},
		{name: "fail/wrong", profile: "p", secret: "nope", wantReject: "wrong challenge"},
		{name: "fail/other profile's secret", profile: "q", secret: "current", wantReject: "wrong challenge"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Validate(context.Background(), &Request{Profile: tc.profile, Challenge: tc.secret})
			if tc.wantReject == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var rej *Rejection
			if !errors.As(err, &rej) || !strings.Contains(rej.Reason, tc.wantReject) {
				t.Fatalf("err = %v, want a rejection containing %q", err, tc.wantReject)
			}
		})
	}
	t.Run("fail/store error is not a rejection", func(t *testing.T) {
		_, err := NewManagedStatic(config, brokenSecrets{}, nil).Validate(context.Background(), &Request{Profile: "p", Challenge: "x"})
		var rej *Rejection
		if err == nil || errors.As(err, &rej) {
			t.Fatalf("err = %v, want a plain error", err)
		}
	})
}
