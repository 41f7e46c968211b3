package bolt

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/certgate/certgate/store"
)

var _ store.Challenges = (*Store)(nil)

// Error messages about challenges name the profile, never the hash: a
// short secret could be recovered from its hash by brute force, so the hash
// stays out of the logs.

// PutChallenge implements store.Challenges. It stores a copy of c,
// CreatedAt defaulting to Options.Now. Profile, Hash and ExpiresAt are
// required: a challenge without an expiry could never be consumed (it has
// expired before any now) and would lie in the bucket for ever.
func (s *Store) PutChallenge(ctx context.Context, c *store.Challenge) error {
	if c == nil {
		return fmt.Errorf("store: bolt: put challenge: nil challenge: %w", store.ErrInvalid)
	}
	k, err := writableChallengeKey(c)
	if err != nil {
		return fmt.Errorf("store: bolt: put challenge (profile %q): %w", c.Profile, err)
	}
	rec := *c
	if rec.CreatedAt.IsZero() {
		rec.CreatedAt = s.now()
	}
	v, err := json.Marshal(&rec)
	if err != nil {
		return fmt.Errorf("store: bolt: put challenge (profile %q): encode: %w", c.Profile, err)
	}
	err = s.update(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketChallenges)
		if b.Get(k) != nil {
			return fmt.Errorf("challenge already exists: %w", store.ErrConflict)
		}
		return b.Put(k, v)
	})
	if err != nil {
		return fmt.Errorf("store: bolt: put challenge (profile %q): %w", c.Profile, err)
	}
	return nil
}

// ConsumeChallenge implements store.Challenges. A zero now means
// Options.Now. The lookup and the delete are one read-write transaction,
// and bbolt runs one of those at a time, so two callers can never both read
// the challenge before either deletes it.
func (s *Store) ConsumeChallenge(ctx context.Context, profile, hash string, now time.Time) (*store.Challenge, error) {
	if err := checkChallengeKey(profile, hash); err != nil {
		return nil, fmt.Errorf("store: bolt: consume challenge (profile %q): %w", profile, err)
	}
	k, ok := pairKey(profile, hash)
	if !ok {
		// Too long to have been stored.
		return nil, fmt.Errorf("store: bolt: consume challenge (profile %q): %w", profile, store.ErrNotFound)
	}
	if now.IsZero() {
		now = s.now()
	}
	var (
		got     *store.Challenge
		expired bool
	)
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		// Reset on every run: group commit may run this twice.
		got, expired = nil, false
		b := tx.Bucket(bucketChallenges)
		v := b.Get(k)
		if v == nil {
			return store.ErrNotFound
		}
		// Decode before Delete: v points into a page the delete may
		// rewrite.
		c := new(store.Challenge)
		if err := json.Unmarshal(v, c); err != nil {
			return fmt.Errorf("decode challenge: %w", err)
		}
		if err := b.Delete(k); err != nil {
			return fmt.Errorf("delete challenge: %w", err)
		}
		// An expired challenge is reported after the transaction commits:
		// returning an error here would roll its removal back.
		expired = c.ExpiresAt.Before(now)
		got = c
		return nil
	})
	if err == nil && expired {
		err = fmt.Errorf("challenge expired at %s: %w", got.ExpiresAt.UTC().Format(time.RFC3339), store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: bolt: consume challenge (profile %q): %w", profile, err)
	}
	return got, nil
}

// writableChallengeKey checks c and returns the key it is filed under.
func writableChallengeKey(c *store.Challenge) ([]byte, error) {
	if err := checkChallengeKey(c.Profile, c.Hash); err != nil {
		return nil, err
	}
	if c.ExpiresAt.IsZero() {
		return nil, fmt.Errorf("no expiry: %w", store.ErrInvalid)
	}
	k, ok := pairKey(c.Profile, c.Hash)
	if !ok {
		return nil, fmt.Errorf("profile and hash are %d bytes, the limit is %d: %w", len(c.Profile)+len(c.Hash), bbolt.MaxKeySize-2, store.ErrInvalid)
	}
	return k, nil
}

func checkChallengeKey(profile, hash string) error {
	switch {
	case profile == "":
		return fmt.Errorf("empty profile: %w", store.ErrInvalid)
	case hash == "":
		return fmt.Errorf("empty hash: %w", store.ErrInvalid)
	}
	return nil
}
