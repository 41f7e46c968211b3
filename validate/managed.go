package validate

import (
	"context"
	"crypto/subtle"
	"fmt"
	"time"

	"github.com/certgate/certgate/store"
)

// SecretStore is the part of the store managed static secrets need.
type SecretStore interface {
	StaticSecrets(ctx context.Context, profile string) ([]store.StaticSecret, error)
}

// ManagedStatic is a static validator whose secret can be rotated through
// the admin API: it accepts the profile's current managed secret, earlier
// ones until their grace period ends, and the config's secrets until a
// rotation retires them.
type ManagedStatic struct {
	config *Static // nil when the config has no static secret
	st     SecretStore
	now    func() time.Time
}

// NewManagedStatic wraps config (may be nil) with the store's rotations.
func NewManagedStatic(config *Static, st SecretStore, now func() time.Time) *ManagedStatic {
	if now == nil {
		now = time.Now
	}
	return &ManagedStatic{config: config, st: st, now: now}
}

// Validate implements Validator.
func (m *ManagedStatic) Validate(ctx context.Context, r *Request) (Decision, error) {
	if r.Challenge == "" {
		return Decision{}, &Rejection{Reason: "missing challenge"}
	}
	list, err := m.st.StaticSecrets(ctx, r.Profile)
	if err != nil {
		return Decision{}, fmt.Errorf("validate: static: %w", err)
	}
	h := ChallengeHash(r.Challenge)
	for _, s := range list {
		if subtle.ConstantTimeCompare([]byte(h), []byte(s.Hash)) != 1 {
			continue
		}
		if s.ExpiresAt.IsZero() || m.now().Before(s.ExpiresAt) {
			return Decision{}, nil
		}
		return Decision{}, &Rejection{Reason: "static challenge retired by a rotation"}
	}
	if m.config == nil {
		return Decision{}, &Rejection{Reason: "wrong challenge"}
	}
	return m.config.Validate(ctx, r)
}
