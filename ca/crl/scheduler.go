package crl

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
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
// store.Cache and in memory, and hands it to the Handler (Current). With
// Options.Shared, only a Scheduler in Run builds; the others Sync.
type Scheduler struct {
	b        *Builder
	cache    store.Cache
	shared   store.Cache
	debounce time.Duration
	log      zerolog.Logger
	trigger  chan struct{}
	// leading is set while Run runs: with a shared cache, only then does
	// this replica build.
	leading atomic.Bool

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
	blob   *store.Blob
	number *big.Int
	etag   string
}

func newServed(b *store.Blob, number *big.Int) *served {
	sum := sha256.Sum256(b.Data)
	return &served{blob: b, number: number, etag: `"` + hex.EncodeToString(sum[:]) + `"`}
}

// newer reports whether c has a higher CRL number than old (or old is nil).
func (c *served) newer(old *served) bool {
	return c != nil && (old == nil || c.number.Cmp(old.number) > 0)
}

// errNotPublished: a follower has no CRL because the leader has not
// published one yet.
var errNotPublished = errors.New("crl: the leading replica has not published a CRL yet")

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
		shared:   o.Shared,
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
//
// With Options.Shared, Run is what makes this replica the leader: call it
// only while this replica holds the leadership, and end ctx when it is
// lost. A new leader starts from the newest CRL, its own or the shared
// one, and rebuilds at once or Debounce after it starts, so revocations
// the previous leader had not published yet are listed.
func (s *Scheduler) Run(ctx context.Context) {
	s.leading.Store(true)
	defer s.leading.Store(false)
	wait := s.startWait(ctx)
	if s.shared != nil && wait > 0 {
		s.Trigger()
	}
	failures := 0
	var debounce <-chan time.Time
	for ctx.Err() == nil {
		if wait <= 0 {
			// The build about to start covers every pending trigger.
			s.drainTrigger()
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
	if s.shared != nil && !s.leading.Load() {
		// Only the leader builds: serve what it published, or the expired
		// CRL until it publishes a new one.
		s.failedAt = now
		if err := s.syncLocked(ctx); err != nil {
			s.log.Warn().Err(err).Msg("crl: taking the shared CRL failed")
		}
		if c = s.cur.Load(); c == nil {
			return nil, errNotPublished
		}
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

// loadLocked reads the cached CRL, and the shared one if there is a
// shared cache, and makes the newer current if this CA and URL could have
// signed it; nil if neither. s.mu must be held.
func (s *Scheduler) loadLocked(ctx context.Context) *served {
	c := s.read(ctx, s.cache, "cached")
	if s.shared != nil {
		if sc := s.read(ctx, s.shared, "shared"); sc.newer(c) {
			c = sc
		}
	}
	if c != nil {
		s.cur.Store(c)
	}
	return c
}

// read returns the CRL in cache if it is usable, else nil; what names the
// cache in log lines.
func (s *Scheduler) read(ctx context.Context, cache store.Cache, what string) *served {
	blob, err := cache.GetBlob(ctx, store.BlobCRL, s.b.name)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		s.log.Warn().Err(err).Msgf("reading the %s CRL failed", what)
		return nil
	}
	rl, err := s.b.matches(blob.Data)
	if err != nil {
		s.log.Info().Err(err).Msgf("the %s CRL is not this CA's current one", what)
		return nil
	}
	return newServed(blob, rl.Number)
}

// Sync serves the CRL in Options.Shared if it is newer (a higher CRL
// number) than the one served, and keeps it in Cache. Followers call it
// when the leader announces a CRL and now and then; it does nothing
// without Shared or while this Scheduler is the leader.
func (s *Scheduler) Sync(ctx context.Context) error {
	if s.shared == nil || s.leading.Load() {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.syncLocked(ctx)
}

// syncLocked is Sync; s.mu must be held.
func (s *Scheduler) syncLocked(ctx context.Context) error {
	blob, err := s.shared.GetBlob(ctx, store.BlobCRL, s.b.name)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("crl: %s: read the shared CRL: %w", s.b.name, err)
	}
	rl, err := s.b.matches(blob.Data)
	if err != nil {
		// Replicas must agree on the CA and on public_url, which the
		// Issuing Distribution Point is made of.
		return fmt.Errorf("crl: %s: the shared CRL is not this CA's (do all replicas have the same CA and public URL?): %w", s.b.name, err)
	}
	c := newServed(blob, rl.Number)
	if !c.newer(s.cur.Load()) {
		return nil
	}
	s.cur.Store(c)
	s.b.metrics.took(s.b.name, len(rl.RevokedCertificateEntries), rl.Number)
	s.log.Info().Str("crl_number", rl.Number.String()).Time("next_update", blob.NextUpdate).Msg("crl taken from the leading replica")
	if err := s.cache.PutBlob(ctx, store.BlobCRL, s.b.name, blob); err != nil {
		s.log.Warn().Err(err).Msg("caching the shared CRL failed")
	}
	return nil
}

// buildLocked builds, caches and publishes a CRL. A cache write failure is
// logged, not returned: the CRL is valid and served from memory, and the
// next restart merely signs again. s.mu must be held.
func (s *Scheduler) buildLocked(ctx context.Context) (*served, error) {
	blob, number, err := s.b.buildNumbered(ctx)
	if s.built != nil {
		defer func() { s.built(blob, err) }()
	}
	if err != nil {
		return nil, err
	}
	if err := s.cache.PutBlob(ctx, store.BlobCRL, s.b.name, blob); err != nil {
		s.log.Warn().Err(err).Msg("caching the new CRL failed")
	}
	c := newServed(blob, new(big.Int).SetUint64(number))
	s.cur.Store(c)
	if s.shared != nil {
		s.publish(ctx, c)
	}
	return c, nil
}

// publish puts c in the shared cache for the other replicas, unless a
// newer CRL is there already: a leader that lost the lease during its
// build must not replace its successor's CRL with an older one. Failure
// is logged: followers keep the previous CRL until the next build.
func (s *Scheduler) publish(ctx context.Context, c *served) {
	if old := s.read(ctx, s.shared, "shared"); old != nil && !c.newer(old) {
		s.log.Warn().Str("crl_number", c.number.String()).Str("shared_crl_number", old.number.String()).
			Msg("a newer CRL is published already; not publishing this one")
		return
	}
	if err := s.shared.PutBlob(ctx, store.BlobCRL, s.b.name, c.blob); err != nil {
		s.log.Warn().Err(err).Msg("publishing the new CRL to the other replicas failed")
	}
}
