package ocsp

import (
	"context"
	"errors"
	"fmt"
	"math/big"

	"github.com/certgate/certgate/store"
)

// Invalidate forgets every pre-signed response for serial under the CA
// named caName, in memory and in store.Cache, so the next request reads
// the store and signs the current status.
//
// Revocation must call it after the store records the revocation and
// before reporting success: cache hits do not consult the store, so
// without it a revoked certificate stays "good" until the cached
// response's RefreshAt (half of Validity). A response signed from a
// status read before Invalidate is never cached after it.
//
// A CA this Responder does not answer for is not an error (nothing is
// cached for it), so callers may invalidate every revocation. If
// store.Cache cannot delete a response, Invalidate returns the error and
// this process never serves that response again; another process opening
// the same cache could, until its RefreshAt, so surface the error.
func (r *Responder) Invalidate(ctx context.Context, caName string, serial *big.Int) error {
	if serial == nil {
		return errors.New("ocsp: invalidate: nil serial")
	}
	var errs []error
	for h := range numHashAlgs {
		key := cacheKey(caName, serial, h)
		r.mem.invalidate(key, func() {
			if err := r.remove(ctx, key); err != nil {
				errs = append(errs, err)
			}
		})
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("ocsp: invalidate: %w", err)
	}
	return nil
}

// DropStored deletes the stored responses for one certificate from cache
// without a running Responder. `certgate revoke` uses it when no server
// runs: the next server start must not serve a pre-signed "good" for a
// certificate revoked while it was down.
func DropStored(ctx context.Context, cache store.Cache, caName string, serial *big.Int) error {
	if serial == nil {
		return errors.New("ocsp: drop stored: nil serial")
	}
	var errs []error
	for h := range numHashAlgs {
		if err := cache.DeleteBlob(ctx, store.BlobOCSP, cacheKey(caName, serial, h)); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("ocsp: drop stored: %w", err)
	}
	return nil
}
