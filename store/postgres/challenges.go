package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/certgate/certgate/store"
)

var _ store.Challenges = (*Store)(nil)

// Error messages about challenges name the profile, never the hash: a
// short secret could be recovered from its hash by brute force, so the hash
// stays out of the logs.

// challengeColumns are the challenges columns in the order scanChallenge
// reads them.
const challengeColumns = `profile, hash, subject, device_id, created_at, expires_at`

// PutChallenge implements store.Challenges. It stores a copy of c,
// CreatedAt defaulting to Options.Now. Profile, Hash and ExpiresAt are
// required: a challenge without an expiry could never be consumed (it has
// expired before any now) and would lie in the table for ever.
func (s *Store) PutChallenge(ctx context.Context, c *store.Challenge) error {
	if c == nil {
		return fmt.Errorf("store: postgres: put challenge: nil challenge: %w", store.ErrInvalid)
	}
	op := "put challenge (profile " + label(c.Profile) + ")"
	err := writablePair("profile", c.Profile, "hash", c.Hash)
	if err == nil && c.ExpiresAt.IsZero() {
		err = fmt.Errorf("no expiry: %w", store.ErrInvalid)
	}
	if err != nil {
		return fmt.Errorf("store: postgres: %s: %w", op, err)
	}
	created := c.CreatedAt
	if created.IsZero() {
		created = s.now()
	}
	err = s.do(ctx, func(pool *pgxpool.Pool) error {
		return retryConcurrent(func() error {
			_, err := pool.Exec(ctx, `INSERT INTO challenges (`+challengeColumns+`) VALUES ($1, $2, $3, $4, $5, $6)`,
				c.Profile, c.Hash, cleanText(c.Subject), cleanText(c.DeviceID), created, c.ExpiresAt)
			if _, ok := uniqueViolation(err); ok {
				return fmt.Errorf("challenge already exists: %w", store.ErrConflict)
			}
			return err
		})
	})
	return s.wrap(op, err)
}

// ConsumeChallenge implements store.Challenges. A zero now means
// Options.Now. The removal is one DELETE ... RETURNING, so of several
// replicas consuming one challenge exactly one gets the row; expiry is
// judged afterwards from the row returned, so an expired challenge is
// removed (the delete has committed) and still reported as
// store.ErrNotFound. Times are stored to the microsecond, so now is
// compared at that precision: a challenge is valid at its ExpiresAt, and
// expired a microsecond later.
func (s *Store) ConsumeChallenge(ctx context.Context, profile, hash string, now time.Time) (*store.Challenge, error) {
	op := "consume challenge (profile " + label(profile) + ")"
	if err := readablePair("profile", profile, "hash", hash); err != nil {
		return nil, fmt.Errorf("store: postgres: %s: %w", op, err)
	}
	if now.IsZero() {
		now = s.now()
	}
	var c *store.Challenge
	err := s.do(ctx, func(pool *pgxpool.Pool) error {
		return retryConcurrent(func() error {
			var err error
			c, err = scanChallenge(pool.QueryRow(ctx, `DELETE FROM challenges WHERE profile = $1 AND hash = $2
				RETURNING `+challengeColumns, profile, hash))
			if errors.Is(err, pgx.ErrNoRows) {
				return store.ErrNotFound
			}
			return err
		})
	})
	if err == nil && c.ExpiresAt.Before(now.Truncate(time.Microsecond)) {
		err = fmt.Errorf("challenge expired at %s: %w", c.ExpiresAt.Format(time.RFC3339), store.ErrNotFound)
	}
	if err != nil {
		return nil, s.wrap(op, err)
	}
	return c, nil
}

// scanChallenge reads one row of challengeColumns.
func scanChallenge(row pgx.Row) (*store.Challenge, error) {
	var c store.Challenge
	err := row.Scan(&c.Profile, &c.Hash, &c.Subject, &c.DeviceID, &c.CreatedAt, &c.ExpiresAt)
	if err != nil {
		return nil, err
	}
	c.CreatedAt, c.ExpiresAt = c.CreatedAt.UTC(), c.ExpiresAt.UTC()
	return &c, nil
}
