package ocsp

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Refresh makes one refresher pass: it re-signs up to RefreshBatch
// cached responses whose RefreshAt has passed, with the status the store
// has now, so hot certificates are re-signed before clients notice and a
// revocation whose Invalidate failed is corrected by RefreshAt at the
// latest. Responses for expired certificates, unknown serials and CAs no
// longer served are deleted instead; they are signed again if asked for.
// Without a store.Cache it does nothing: memory entries are re-signed on
// demand. With Options.Shared it walks the shared cache instead, so
// only one replica needs to run it.
func (r *Responder) Refresh(ctx context.Context) error {
	walk := r.cache
	if r.shared != nil {
		walk = r.shared
	}
	if walk == nil {
		return nil
	}
	due, err := r.dueKeys(ctx, walk, r.now())
	if err != nil {
		return fmt.Errorf("ocsp: refresh: %w", err)
	}
	var failed int
	var first error
	for _, key := range due {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("ocsp: refresh: %w", err)
		}
		if err := r.refreshKey(ctx, key); err != nil {
			failed++
			if first == nil {
				first = err
			}
		}
	}
	if failed > 0 {
		return fmt.Errorf("ocsp: refresh: %d of %d responses failed, first: %w", failed, len(due), first)
	}
	return nil
}

func (r *Responder) refreshKey(ctx context.Context, key string) error {
	name, serial, h, ok := parseCacheKey(key)
	s := r.byName[name]
	if !ok || s == nil {
		var err error
		r.mem.invalidate(key, func() { err = r.remove(ctx, key) })
		return err
	}
	// Not through r.flight: a request waiting there needs an answer,
	// which a background renew may not produce. A request racing the
	// refresher may sign the same response once more; mem.commit keeps
	// either result consistent with Invalidate.
	_, err := r.renew(ctx, s, h, serial, key, true, true)
	return err
}

// Run calls Refresh every RefreshInterval, starting now, until ctx ends.
// With Options.Shared, run it on one replica at a time (the leader).
func (r *Responder) Run(ctx context.Context) {
	t := time.NewTicker(r.refreshInterval)
	defer t.Stop()
	for {
		if err := r.Refresh(ctx); err != nil && !errors.Is(err, context.Canceled) {
			r.log.Error().Err(err).Msg("ocsp: refresh")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
