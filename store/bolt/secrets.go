package bolt

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/certgate/certgate/store"
)

var _ store.Secrets = (*Store)(nil)

// StaticSecrets implements store.Secrets.
func (s *Store) StaticSecrets(ctx context.Context, profile string) ([]store.StaticSecret, error) {
	if profile == "" {
		return nil, fmt.Errorf("store: bolt: static secrets: empty profile: %w", store.ErrInvalid)
	}
	var out []store.StaticSecret
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketStaticSecrets).Get([]byte(profile))
		if v == nil {
			return nil
		}
		return json.Unmarshal(v, &out)
	})
	if err != nil {
		return nil, fmt.Errorf("store: bolt: static secrets (profile %q): %w", profile, err)
	}
	return out, nil
}

// RotateStaticSecret implements store.Secrets in one write transaction.
func (s *Store) RotateStaticSecret(ctx context.Context, profile, hash string, retire []string, graceUntil, now time.Time) error {
	if profile == "" || hash == "" {
		return fmt.Errorf("store: bolt: rotate static secret: empty profile or hash: %w", store.ErrInvalid)
	}
	if now.IsZero() {
		now = s.now()
	}
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketStaticSecrets)
		var list []store.StaticSecret
		if v := b.Get([]byte(profile)); v != nil {
			if err := json.Unmarshal(v, &list); err != nil {
				return err
			}
		}
		known := map[string]bool{}
		isRetired := map[string]bool{}
		for _, h := range retire {
			isRetired[h] = true
		}
		var kept []store.StaticSecret
		for _, e := range list {
			if e.Hash == hash {
				return fmt.Errorf("that secret was used before: %w", store.ErrConflict)
			}
			if e.ExpiresAt.IsZero() {
				e.ExpiresAt = graceUntil
			}
			known[e.Hash] = true
			// A retired config secret stays listed after its grace:
			// without its entry the config would make it valid again.
			if e.ExpiresAt.After(now) || isRetired[e.Hash] {
				kept = append(kept, e)
			}
		}
		for _, h := range retire {
			if !known[h] && h != hash {
				kept = append(kept, store.StaticSecret{Hash: h, CreatedAt: now, ExpiresAt: graceUntil})
			}
		}
		kept = append(kept, store.StaticSecret{Hash: hash, CreatedAt: now})
		v, err := json.Marshal(kept)
		if err != nil {
			return err
		}
		return b.Put([]byte(profile), v)
	})
	if err != nil {
		return fmt.Errorf("store: bolt: rotate static secret (profile %q): %w", profile, err)
	}
	return nil
}
