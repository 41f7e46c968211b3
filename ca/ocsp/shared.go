package ocsp

import (
	"context"
	"errors"
	"math/big"
	"time"

	"github.com/certgate/certgate/store"
)

// sharedTimeout bounds each use of the shared cache: it is a network
// database, and a response can always be signed without it.
const sharedTimeout = 2 * time.Second

// fromShared returns the response the replicas share for key if it is
// fresh and states the status the store has now, and keeps it in memory
// and Cache; nil otherwise. It costs a status lookup instead of a
// signature. The lookup is what makes a shared "good" safe: the replica
// that put it may have signed it just before a revocation on another.
func (r *Responder) fromShared(ctx context.Context, s *Signer, serial *big.Int, key string) *entry {
	gen := r.mem.generation(key)
	sctx, cancel := context.WithTimeout(ctx, sharedTimeout)
	b, err := r.shared.GetBlob(sctx, store.BlobOCSP, key)
	cancel()
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			r.errLog.Warn().Err(err).Str("key", key).Msg("ocsp: read shared response; signing anew")
		}
		return nil
	}
	e := entryFromBlob(b)
	if e == nil || !r.now().Before(e.refreshAt) {
		return nil
	}
	state, err := lookup(ctx, r.src, s.name, serial, r.validityFor)
	if err != nil || state.status != e.status {
		return nil
	}
	if !r.mem.commit(key, gen, func() { r.keep(ctx, key, e) }) {
		return nil // invalidated meanwhile: sign from the new status
	}
	return e
}

// share puts a response this replica signed in the shared cache, for the
// other replicas and the leader's refresher. Failure costs another
// replica a signature, so it is logged, not returned.
func (r *Responder) share(ctx context.Context, key string, e *entry) {
	if r.shared == nil {
		return
	}
	sctx, cancel := context.WithTimeout(ctx, sharedTimeout)
	defer cancel()
	if err := r.shared.PutBlob(sctx, store.BlobOCSP, key, toBlob(e)); err != nil {
		r.errLog.Warn().Err(err).Str("key", key).Msg("ocsp: share signed response")
	}
}

// unshare deletes key from the shared cache. A response left there is
// harmless (fromShared checks its status), so failure is only logged.
func (r *Responder) unshare(ctx context.Context, key string) {
	if r.shared == nil {
		return
	}
	sctx, cancel := context.WithTimeout(ctx, sharedTimeout)
	defer cancel()
	if err := r.shared.DeleteBlob(sctx, store.BlobOCSP, key); err != nil {
		r.errLog.Warn().Err(err).Str("key", key).Msg("ocsp: delete shared response")
	}
}

// DueLister is what a cache may implement so that Refresh finds the
// responses due without reading every one (the PostgreSQL store does).
type DueLister interface {
	// DueBlobs returns up to limit keys of kind whose RefreshAt is at or
	// before at.
	DueBlobs(ctx context.Context, kind store.BlobKind, at time.Time, limit int) ([]string, error)
}

// dueKeys returns up to RefreshBatch keys in c due for refresh at now.
func (r *Responder) dueKeys(ctx context.Context, c store.Cache, now time.Time) ([]string, error) {
	if dl, ok := c.(DueLister); ok {
		return dl.DueBlobs(ctx, store.BlobOCSP, now, r.refreshBatch)
	}
	var due []string
	err := c.RangeBlobs(ctx, store.BlobOCSP, func(key string, b *store.Blob) bool {
		if !now.Before(b.RefreshAt) {
			due = append(due, key)
		}
		return len(due) < r.refreshBatch
	})
	return due, err
}
