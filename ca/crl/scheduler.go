package crl

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/certgate/certgate/store"
)

// Backoff after a failed build, and the shortest wait between scheduled
// builds whatever RefreshAt says.
const (
	retryMin = time.Second
	retryMax = 5 * time.Minute
)

// Scheduler keeps one CA's CRL current: it rebuilds after revocations
// (Trigger) and halfway to nextUpdate (Run), keeps the result in the
// store.Cache and in memory, and hands it to the Handler (Current).
type Scheduler struct {
	b        *Builder
	cache    store.Cache
	debounce time.Duration
	log      zerolog.Logger
	trigger  chan struct{}

	// mu serialises builds and cache loads, so concurrent first requests
	// sign one CRL between them.
	mu  sync.Mutex
	cur atomic.Pointer[served]
	// failedAt is when a build Current started last failed; guarded by mu.
	failedAt time.Time

	// after and built are seams for tests: after is time.After; built, if
	// set, sees every build's outcome.
	after func(time.Duration) <-chan time.Time
	built func(*store.Blob, error)
}

// served is a CRL ready to answer with.
type served struct {
	blob *store.Blob
	etag string
}

func newServed(b *store.Blob) *served {
	sum := sha256.Sum256(b.Data)
	return &served{blob: b, etag: `"` + hex.EncodeToString(sum[:]) + `"`}
}

// NewScheduler checks opts (Cache is required) and returns a Scheduler;
// call Run to keep the CRL fresh.
func NewScheduler(opts Options) (*Scheduler, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if o.Cache == nil {
		return nil, errors.New("crl: Options.Cache is required")
	}
	b, err := newBuilder(o)
	if err != nil {
		return nil, err
	}
	return &Scheduler{
		b:        b,
		cache:    o.Cache,
		debounce: o.Debounce,
		log:      b.log,
		trigger:  make(chan struct{}, 1),
		after:    time.After,
	}, nil
}

// Name returns the CA name, the <name> of /crl/<name>.crl.
func (s *Scheduler) Name() string { return s.b.name }

// Trigger asks for a rebuild Debounce from now, because a certificate of
// this CA was just revoked; call it after Store.Revoke has returned, so
// the build sees the revocation. It never blocks, and triggers that come
// before the debounced build starts are all covered by that one build.
func (s *Scheduler) Trigger() {
	select {
	case s.trigger <- struct{}{}:
	default: // one is already pending; the build it causes covers this one
	}
}

// Run keeps the CRL fresh until ctx is done: it builds at once if no
// usable CRL is cached or the cached one is due for refresh, then again at
// each CRL's RefreshAt and Debounce after a Trigger. Failed builds are
// logged and retried with backoff from 1s to 5m while the previous CRL is
// still served. Run one per Scheduler.
func (s *Scheduler) Run(ctx context.Context) {
	wait := s.startWait(ctx)
	failures := 0
	var debounce <-chan time.Time
	for ctx.Err() == nil {
		if wait <= 0 {
			wait = s.rebuild(ctx, &failures)
			continue
		}
		next := s.after(wait)
		wait = 0
		for {
			select {
			case <-ctx.Done():
				return
			case <-s.trigger:
				if debounce == nil {
					debounce = s.after(s.debounce)
				}
				continue
			case <-debounce:
			case <-next:
			}
			break
		}
		// Whatever woke us, the build about to start reads every
		// revocation committed so far, so pending triggers are served.
		debounce = nil
		s.drainTrigger()
	}
}

func (s *Scheduler) drainTrigger() {
	select {
	case <-s.trigger:
	default:
	}
}

// startWait loads the cached CRL and says how long until it is due; zero
// when there is none worth serving.
func (s *Scheduler) startWait(ctx context.Context) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cur.Load()
	if c == nil {
		c = s.loadLocked(ctx)
	}
	if c == nil {
		return 0
	}
	// A RefreshAt further out than a fresh CRL's (the clock was stepped
	// back, Validity was shortened) must not postpone the refresh.
	return min(c.blob.RefreshAt.Sub(s.b.now()), s.b.validity/2)
}

// rebuild runs one scheduled build and returns the wait until the next.
func (s *Scheduler) rebuild(ctx context.Context, failures *int) time.Duration {
	s.mu.Lock()
	c, err := s.buildLocked(ctx)
	s.mu.Unlock()
	if err != nil {
		if ctx.Err() != nil {
			return retryMin // Run is returning; the wait is never taken
		}
		*failures++
		d := backoff(*failures)
		s.log.Error().Err(err).Dur("retry_in", d).Msg("crl build failed")
		return d
	}
	*failures = 0
	return max(c.blob.RefreshAt.Sub(s.b.now()), retryMin)
}

// backoff is the wait after the n-th failure in a row.
func backoff(n int) time.Duration {
	if n > 20 {
		return retryMax
	}
	return min(retryMin<<(n-1), retryMax)
}

// Current returns the CRL to serve: the one in memory or in the cache, or,
// when there is none yet (or it is past NextUpdate), one built now. If that
// build fails, a CRL past its NextUpdate is still returned (relying
// parties judge staleness themselves, and it beats no answer), and
// Current tries building again at most once per second. The blob is
// shared: do not modify it.
func (s *Scheduler) Current(ctx context.Context) (*store.Blob, error) {
	c, err := s.current(ctx)
	if err != nil {
		return nil, err
	}
	return c.blob, nil
}

func (s *Scheduler) current(ctx context.Context) (*served, error) {
	if c := s.cur.Load(); c != nil && s.b.now().Before(c.blob.NextUpdate) {
		return c, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cur.Load()
	if c == nil {
		c = s.loadLocked(ctx)
	}
	now := s.b.now()
	if c != nil && (now.Before(c.blob.NextUpdate) || now.Sub(s.failedAt) < retryMin) {
		return c, nil
	}
	fresh, err := s.buildLocked(ctx)
	if err == nil {
		return fresh, nil
	}
	s.failedAt = now
	if c != nil {
		s.log.Error().Err(err).Time("next_update", c.blob.NextUpdate).Msg("crl build failed, serving the expired CRL")
		return c, nil
	}
	return nil, err
}

// loadLocked reads the cached CRL and makes it current if this CA and URL
// could have signed it; nil if not. s.mu must be held.
func (s *Scheduler) loadLocked(ctx context.Context) *served {
	blob, err := s.cache.GetBlob(ctx, store.BlobCRL, s.b.name)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		s.log.Warn().Err(err).Msg("reading the cached CRL failed, building a new one")
		return nil
	}
	if err := s.b.matches(blob.Data); err != nil {
		s.log.Info().Err(err).Msg("cached CRL is not this CA's current one, building a new one")
		return nil
	}
	c := newServed(blob)
	s.cur.Store(c)
	return c
}

// buildLocked builds, caches and publishes a CRL. A cache write failure is
// logged, not returned: the CRL is valid and served from memory, and the
// next restart merely signs again. s.mu must be held.
func (s *Scheduler) buildLocked(ctx context.Context) (*served, error) {
	blob, err := s.b.Build(ctx)
	if s.built != nil {
		defer func() { s.built(blob, err) }()
	}
	if err != nil {
		return nil, err
	}
	if err := s.cache.PutBlob(ctx, store.BlobCRL, s.b.name, blob); err != nil {
		s.log.Warn().Err(err).Msg("caching the new CRL failed")
	}
	c := newServed(blob)
	s.cur.Store(c)
	return c, nil
}
