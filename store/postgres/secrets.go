package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/certgate/certgate/store"
)

var _ store.Secrets = (*Store)(nil)

// StaticSecrets implements store.Secrets.
func (s *Store) StaticSecrets(ctx context.Context, profile string) ([]store.StaticSecret, error) {
	if err := readableIdent("profile", profile, maxKeyLen); err != nil {
		return nil, fmt.Errorf("store: postgres: static secrets %s: %w", label(profile), err)
	}
	var out []store.StaticSecret
	err := s.do(ctx, func(pool *pgxpool.Pool) error {
		rows, err := pool.Query(ctx, `SELECT hash, created_at, expires_at FROM static_secrets WHERE profile = $1 ORDER BY created_at, hash`, profile)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.StaticSecret, error) {
			var sec store.StaticSecret
			var exp *time.Time
			if err := r.Scan(&sec.Hash, &sec.CreatedAt, &exp); err != nil {
				return sec, err
			}
			if exp != nil {
				sec.ExpiresAt = *exp
			}
			return sec, nil
		})
		return err
	})
	if err != nil {
		return nil, s.wrap("static secrets "+label(profile), err)
	}
	return out, nil
}

// RotateStaticSecret implements store.Secrets in one transaction, under a
// per-profile advisory lock so that two replicas rotating at once cannot
// both leave a current secret.
func (s *Store) RotateStaticSecret(ctx context.Context, profile, hash string, retire []string, graceUntil, now time.Time) error {
	op := "rotate static secret " + label(profile)
	if err := writablePair("profile", profile, "hash", hash); err != nil {
		return fmt.Errorf("store: postgres: %s: %w", op, err)
	}
	if now.IsZero() {
		now = s.now()
	}
	err := s.do(ctx, func(pool *pgxpool.Pool) error {
		return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('certgate static secret ' || $1))`, profile); err != nil {
				return err
			}
			var used bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM static_secrets WHERE profile = $1 AND hash = $2)`, profile, hash).Scan(&used); err != nil {
				return err
			}
			if used {
				return fmt.Errorf("that secret was used before: %w", store.ErrConflict)
			}
			// Secrets whose grace is over go before retiring: a retired
			// config secret must not come back with a new grace period.
			if _, err := tx.Exec(ctx, `UPDATE static_secrets SET expires_at = $2 WHERE profile = $1 AND expires_at IS NULL`, profile, graceUntil); err != nil {
				return err
			}
			for _, h := range retire {
				if h == hash {
					continue
				}
				if _, err := tx.Exec(ctx, `INSERT INTO static_secrets (profile, hash, created_at, expires_at) VALUES ($1, $2, $3, $4)
					ON CONFLICT (profile, hash) DO NOTHING`, profile, h, now, graceUntil); err != nil {
					return err
				}
			}
			if _, err := tx.Exec(ctx, `DELETE FROM static_secrets WHERE profile = $1 AND expires_at <= $2 AND NOT (hash = ANY($3))`, profile, now, retire); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO static_secrets (profile, hash, created_at) VALUES ($1, $2, $3)`, profile, hash, now)
			return err
		})
	})
	if err != nil {
		return s.wrap(op, err)
	}
	return nil
}
