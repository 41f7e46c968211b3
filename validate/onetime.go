package validate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/certgate/certgate/store"
)

// ChallengeConsumer is the part of the store one-time challenges need.
type ChallengeConsumer interface {
	ConsumeChallenge(ctx context.Context, profile, hash string, now time.Time) (*store.Challenge, error)
}

// ChallengeHash is how one-time challenges are stored and looked up: the
// hex SHA-256 of the secret, so the store holds nothing usable.
func ChallengeHash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// OneTime accepts a request whose challenge is an unused, unexpired
// one-time challenge of its profile (as NDES hands out), and uses it up in
// the same atomic step, so of two requests racing with one challenge
// exactly one passes. A challenge bound to a subject or device ID passes
// only a request for it; a mismatch still uses it up, so a guessed or
// leaked challenge gets one try.
type OneTime struct {
	store ChallengeConsumer
	now   func() time.Time
}

// NewOneTime returns a one-time validator over st; now nil means time.Now.
func NewOneTime(st ChallengeConsumer, now func() time.Time) (*OneTime, error) {
	if st == nil {
		return nil, errors.New("validate: one-time: no challenge store")
	}
	if now == nil {
		now = time.Now
	}
	return &OneTime{store: st, now: now}, nil
}

// Validate implements Validator.
func (o *OneTime) Validate(ctx context.Context, r *Request) (Decision, error) {
	if r.Challenge == "" {
		return Decision{}, &Rejection{Reason: "missing challenge"}
	}
	c, err := o.store.ConsumeChallenge(ctx, r.Profile, ChallengeHash(r.Challenge), o.now())
	if errors.Is(err, store.ErrNotFound) {
		return Decision{}, &Rejection{Reason: "unknown, used or expired one-time challenge"}
	}
	if err != nil {
		return Decision{}, fmt.Errorf("validate: one-time: %w", err)
	}
	if c.Subject != "" && (r.CSR == nil || r.CSR.Subject.CommonName != c.Subject) {
		return Decision{}, &Rejection{Reason: "one-time challenge is bound to another subject"}
	}
	if c.DeviceID != "" && !mentionsDevice(r, c.DeviceID) {
		return Decision{}, &Rejection{Reason: "one-time challenge is bound to another device"}
	}
	return Decision{DeviceID: c.DeviceID}, nil
}

// mentionsDevice reports whether the CSR names the device: as its CN or
// as a URI SAN ending in the ID (IntuneDeviceId://<id> and the like).
func mentionsDevice(r *Request, id string) bool {
	if r.CSR == nil {
		return false
	}
	if r.CSR.Subject.CommonName == id {
		return true
	}
	for _, u := range r.CSR.URIs {
		if s := u.String(); len(s) >= len(id) && s[len(s)-len(id):] == id {
			return true
		}
	}
	return false
}

// AnyOf tries validators in order and accepts the first that accepts. A
// rejection from every one is a rejection (the last one's reason); an
// error that is not a rejection stops the chain, since a validator that
// cannot decide must not be skipped (fail closed).
type AnyOf []Validator

// Validate implements Validator.
func (a AnyOf) Validate(ctx context.Context, r *Request) (Decision, error) {
	var last error = &Rejection{Reason: "no validator"}
	for _, v := range a {
		dec, err := v.Validate(ctx, r)
		if err == nil {
			return dec, nil
		}
		var rej *Rejection
		if !errors.As(err, &rej) {
			return Decision{}, err
		}
		last = err
	}
	return Decision{}, last
}
