package ocsp

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/certgate/certgate/store"
	xocsp "golang.org/x/crypto/ocsp"
)

// errUnauthorized: the request names an issuer we do not answer for.
var errUnauthorized = errors.New("ocsp: issuer not served")

// answer returns the response for req and the cache label of how it was
// obtained.
func (r *Responder) answer(ctx context.Context, req *request) (*entry, string, error) {
	if e := r.ready(req); e != nil {
		return e, cacheHit, nil
	}
	s := r.signerFor(req)
	if s == nil {
		return nil, cacheNone, errUnauthorized
	}
	if req.nonce != nil {
		// A nonce asks for a fresh signature bound to this request (RFC
		// 6960 §4.4.1); caching it would serve the nonce to others.
		state, err := lookup(ctx, r.src, s.name, req.serial, r.validityFor)
		if err != nil {
			return nil, cacheNonce, err
		}
		e, err := r.signWaiting(ctx, s, req.hash, req.serial, state, req.nonce)
		return e, cacheNonce, err
	}
	var keyBuf [maxKeyLen]byte
	keyBytes := appendCacheKey(keyBuf[:0], s.name, req.serial, req.hash)
	cached := r.mem.get(keyBytes)
	key := string(keyBytes)
	// One client giving up must not fail the others waiting on the same
	// signature; the store is local, so nothing waits on it for long.
	ctx = context.WithoutCancel(ctx)
	res, err := r.flight.do(key, func() (filled, error) {
		return r.fill(ctx, s, req.hash, req.serial, key, cached)
	})
	if err == nil && res.e == nil {
		err = fmt.Errorf("ocsp: %s: no response", key)
	}
	return res.e, res.cache, err
}

// signerFor returns the signer of the issuer req names, nil if none.
func (r *Responder) signerFor(req *request) *Signer {
	var idBuf [1 + 2*sha256.Size]byte
	return r.byCertID[string(appendCertIDKey(idBuf[:0], req.hash, req.issuerNameHash, req.issuerKeyHash))]
}

// ready returns the in-memory response to req when serving it takes
// nothing else: no nonce, and a cached response before its RefreshAt. It
// is served without any lookup: Invalidate is what keeps it true.
func (r *Responder) ready(req *request) *entry {
	if req.nonce != nil {
		return nil
	}
	s := r.signerFor(req)
	if s == nil {
		return nil
	}
	var keyBuf [maxKeyLen]byte
	e := r.mem.get(appendCacheKey(keyBuf[:0], s.name, req.serial, req.hash))
	if e == nil || !r.now().Before(e.refreshAt) {
		return nil
	}
	return e
}

// filled is a response obtained on the slow path and how.
type filled struct {
	e     *entry
	cache string
}

// fill answers a memory miss: from store.Cache if it holds a fresh blob,
// else by signing anew. stale is the memory entry past its RefreshAt, if
// any; it is served when re-signing fails and it is still valid.
func (r *Responder) fill(ctx context.Context, s *Signer, h hashAlg, serial *big.Int, key string, stale *entry) (filled, error) {
	now := r.now()
	if stale == nil && r.cache != nil && !r.mem.isPoisoned(key) {
		gen := r.mem.generation(key)
		b, err := r.cache.GetBlob(ctx, store.BlobOCSP, key)
		switch {
		case err == nil:
			if e := entryFromBlob(b); e != nil {
				if now.Before(e.refreshAt) {
					r.mem.commit(key, gen, func() { r.mem.put(key, e) })
					return filled{e, cacheHit}, nil
				}
				stale = e
			}
		case !errors.Is(err, store.ErrNotFound):
			r.errLog.Error().Err(err).Str("key", key).Msg("ocsp: read cached response; signing anew")
		}
	}
	if r.shared != nil {
		if e := r.fromShared(ctx, s, serial, key); e != nil {
			return filled{e, cacheHit}, nil
		}
	}
	e, err := r.renew(ctx, s, h, serial, key, stale != nil, false)
	if err != nil {
		if stale != nil && now.Before(stale.nextUpdate) {
			r.errLog.Error().Err(err).Str("key", key).Msg("ocsp: re-sign failed; serving the previous response")
			return filled{stale, cacheStale}, nil
		}
		return filled{cache: cacheMiss}, err
	}
	return filled{e, cacheMiss}, nil
}

// renew looks up the status and signs a response for key, caching it
// when it is good or revoked; unknown is never cached, so a serial
// issued later is good at once. hadCached says a cached response may
// exist, which an unknown status must then remove. In the background
// (the refresher), nobody waits for the answer: an unknown serial's or an
// expired certificate's response is only removed, which bounds the
// cache (on demand it is signed again), and renew returns a nil entry.
func (r *Responder) renew(ctx context.Context, s *Signer, h hashAlg, serial *big.Int, key string, hadCached, background bool) (*entry, error) {
	gen := r.mem.generation(key)
	state, err := lookup(ctx, r.src, s.name, serial, r.validityFor)
	if err != nil {
		return nil, err
	}
	if state.status == xocsp.Unknown || (background && state.notAfter.Before(r.now())) {
		if hadCached {
			r.mem.commit(key, gen, func() { _ = r.remove(ctx, key) })
		}
		if background {
			return nil, nil
		}
		return r.signWaiting(ctx, s, h, serial, state, nil)
	}
	sign := r.sign
	if !background {
		sign = func(s *Signer, h hashAlg, serial *big.Int, state certState, nonce []byte) (*entry, error) {
			return r.signWaiting(ctx, s, h, serial, state, nonce)
		}
	}
	e, err := sign(s, h, serial, state, nil)
	if err != nil {
		return nil, err
	}
	if r.mem.commit(key, gen, func() { r.keep(ctx, key, e) }) {
		r.share(ctx, key, e)
		return e, nil
	}
	// Invalidate ran since the lookup, which may predate a revocation:
	// look again and answer with that, uncached (the next miss caches).
	if state, err = lookup(ctx, r.src, s.name, serial, r.validityFor); err != nil {
		return nil, err
	}
	return sign(s, h, serial, state, nil)
}

// keep stores e in memory and store.Cache; run it under mem.commit.
func (r *Responder) keep(ctx context.Context, key string, e *entry) {
	r.mem.put(key, e)
	if r.cache == nil {
		return
	}
	if err := r.cache.PutBlob(ctx, store.BlobOCSP, key, toBlob(e)); err != nil {
		r.errLog.Error().Err(err).Str("key", key).Msg("ocsp: store signed response; serving it from memory")
		return
	}
	r.mem.clearPoison(key)
}

// remove drops key from memory, store.Cache and the shared cache; run it
// under mem.commit or mem.invalidate. A blob that cannot be deleted from
// Cache is poisoned: never served from this process, and replaced by the
// next signature.
func (r *Responder) remove(ctx context.Context, key string) error {
	r.unshare(ctx, key)
	if r.cache == nil {
		r.mem.drop(key, false)
		return nil
	}
	if err := r.cache.DeleteBlob(ctx, store.BlobOCSP, key); err != nil {
		r.mem.drop(key, true)
		return fmt.Errorf("ocsp: delete cached response %s: %w", key, err)
	}
	r.mem.drop(key, false)
	r.mem.clearPoison(key)
	return nil
}

// signWaiting is sign for a client that waits for the answer: it takes a
// signing slot first (see signSlots), or fails with errBusy.
func (r *Responder) signWaiting(ctx context.Context, s *Signer, h hashAlg, serial *big.Int, state certState, nonce []byte) (*entry, error) {
	if err := r.slots.acquire(ctx); err != nil {
		return nil, err
	}
	defer r.slots.release()
	return r.sign(s, h, serial, state, nonce)
}

// sign signs state as a response valid for Validity from now, or for
// the state's shorter maxValidity.
func (r *Responder) sign(s *Signer, h hashAlg, serial *big.Int, state certState, nonce []byte) (*entry, error) {
	now := r.now().UTC().Truncate(time.Second)
	id, rotated, err := s.identity(now)
	if err != nil {
		r.metrics.signed(err)
		return nil, err
	}
	if rotated {
		r.log.Info().Str("ca", s.name).Str("serial", store.SerialHex(id.cert.SerialNumber)).
			Time("not_after", id.cert.NotAfter).Msg("ocsp: new delegated responder certificate")
	}
	validity := r.validity
	if state.maxValidity > 0 && state.maxValidity < validity {
		validity = state.maxValidity
	}
	next := now.Add(validity)
	if limit := s.notAfter(id); next.After(limit) {
		next = limit.UTC().Truncate(time.Second)
	}
	if !next.After(now) {
		err := fmt.Errorf("ocsp: signer %s: the signing certificate expires at %s", s.name, s.notAfter(id).Format(time.RFC3339))
		r.metrics.signed(err)
		return nil, err
	}
	der, err := encodeResponse(s.issuer, &s.hashes, id, &template{
		hash: h, serial: serial,
		status: state.status, revokedAt: state.revokedAt, reason: state.reason,
		producedAt: now, thisUpdate: now, nextUpdate: next,
		nonce: nonce,
	})
	r.metrics.signed(err)
	if err != nil {
		return nil, fmt.Errorf("ocsp: signer %s: %w", s.name, err)
	}
	// RefreshAt is half-way, to the second like the times it sits between.
	return newEntry(der, state.status, now, next, now.Add(next.Sub(now)/2).Truncate(time.Second)), nil
}
