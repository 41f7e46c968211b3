package crl

import (
	"context"
	"errors"
	"math/big"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/certgate/certgate/store"
	"github.com/certgate/certgate/store/bolt"
)

// timerReq is one call of the scheduler's after; the test fires it.
type timerReq struct {
	d    time.Duration
	fire chan time.Time
}

// buildResult is one build the scheduler reported.
type buildResult struct {
	blob *store.Blob
	err  error
}

// harness runs a Scheduler on fake timers: every wait the scheduler
// starts shows up on timers, and every build on builds, so the tests step
// it without sleeping.
type harness struct {
	s      *Scheduler
	clk    *clock
	st     *bolt.Store
	timers chan timerReq
	builds chan buildResult
	logs   *syncBuffer
	cancel context.CancelFunc
	done   chan struct{}
}

func newHarness(t *testing.T, mod func(o *Options)) *harness {
	t.Helper()
	h := &harness{
		clk:    newClock(),
		st:     openBolt(t, filepath.Join(t.TempDir(), "certgate.db")),
		timers: make(chan timerReq, 64),
		builds: make(chan buildResult, 64),
		logs:   &syncBuffer{},
	}
	o := options(loadCA(t), h.st, h.clk)
	o.Validity, o.Debounce = 24*time.Hour, 5*time.Second
	o.Log = zerolog.New(h.logs)
	if mod != nil {
		mod(&o)
	}
	s, err := NewScheduler(o)
	if err != nil {
		t.Fatalf("NewScheduler: %v", err)
	}
	s.after = func(d time.Duration) <-chan time.Time {
		fire := make(chan time.Time, 1)
		h.timers <- timerReq{d, fire}
		return fire
	}
	s.built = func(b *store.Blob, err error) { h.builds <- buildResult{b, err} }
	h.s = s
	return h
}

// run starts Run; it is stopped when t ends.
func (h *harness) run(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan struct{})
	go func() {
		defer close(h.done)
		h.s.Run(ctx)
	}()
	t.Cleanup(h.stop)
}

// stop cancels Run and waits for it to return.
func (h *harness) stop() {
	if h.cancel != nil {
		h.cancel()
		<-h.done
		h.cancel = nil
	}
}

// wantTimer takes the next wait the scheduler started and checks its
// length.
func (h *harness) wantTimer(t *testing.T, what string, d time.Duration) timerReq {
	t.Helper()
	r := <-h.timers
	if r.d != d {
		t.Fatalf("%s: scheduler waits %v, want %v", what, r.d, d)
	}
	return r
}

// wantBuild takes the next build and checks it succeeded with number n.
func (h *harness) wantBuild(t *testing.T, n int64) *store.Blob {
	t.Helper()
	r := <-h.builds
	if r.err != nil {
		t.Fatalf("build %d failed: %v", n, r.err)
	}
	if got := parse(t, r.blob.Data, loadCA(t).Certificate()).Number.Int64(); got != n {
		t.Fatalf("built CRL number %d, want %d", got, n)
	}
	return r.blob
}

// wantQuiet stops Run and checks it started no build or wait beyond
// those the test took.
func (h *harness) wantQuiet(t *testing.T) {
	t.Helper()
	h.stop()
	if n := len(h.builds); n != 0 {
		t.Fatalf("%d builds the test did not expect", n)
	}
	if n := len(h.timers); n != 0 {
		r := <-h.timers
		t.Fatalf("%d waits the test did not expect, the first %v", n, r.d)
	}
}

// revoke records and revokes a certificate of the fixture CA.
func (h *harness) revoke(t *testing.T, serial int64) {
	t.Helper()
	now := h.clk.now()
	record(t, h.st, testCAName, big.NewInt(serial), now.Add(time.Hour*24*30), store.ReasonKeyCompromise, now)
}

func listed(t *testing.T, blob *store.Blob, serial int64) bool {
	t.Helper()
	for _, e := range parse(t, blob.Data, loadCA(t).Certificate()).RevokedCertificateEntries {
		if e.SerialNumber.Int64() == serial {
			return true
		}
	}
	return false
}

const refresh = 12 * time.Hour // Validity/2 in the harness

func TestSchedulerDebounce(t *testing.T) {
	t.Run("ok/10 triggers within the window make one build", func(t *testing.T) {
		h := newHarness(t, nil)
		h.run(t)
		h.wantBuild(t, 1) // nothing cached: build at start
		h.wantTimer(t, "after the first build", refresh)

		h.revoke(t, 0xa1)
		for range 10 {
			h.s.Trigger()
		}
		debounce := h.wantTimer(t, "after the triggers", 5*time.Second)
		debounce.fire <- h.clk.now()
		if blob := h.wantBuild(t, 2); !listed(t, blob, 0xa1) {
			t.Fatalf("the debounced build does not list the revocation that triggered it")
		}
		// The next wait is the refresh: no second debounce was armed.
		h.wantTimer(t, "after the debounced build", refresh)
		h.wantQuiet(t)
	})

	t.Run("ok/a trigger after the build starts a new window", func(t *testing.T) {
		h := newHarness(t, nil)
		h.run(t)
		h.wantBuild(t, 1)
		h.wantTimer(t, "after the first build", refresh)
		for serial := range int64(2) {
			h.revoke(t, 0xb0+serial)
			h.s.Trigger()
			h.wantTimer(t, "debounce", 5*time.Second).fire <- h.clk.now()
			if blob := h.wantBuild(t, 2+serial); !listed(t, blob, 0xb0+serial) {
				t.Fatalf("build %d does not list serial %x", 2+serial, 0xb0+serial)
			}
			h.wantTimer(t, "refresh", refresh)
		}
		h.wantQuiet(t)
	})

	t.Run("ok/the refresh timer rebuilds", func(t *testing.T) {
		h := newHarness(t, nil)
		h.run(t)
		h.wantBuild(t, 1)
		r := h.wantTimer(t, "after the first build", refresh)
		h.clk.add(refresh)
		r.fire <- h.clk.now()
		blob := h.wantBuild(t, 2)
		if !blob.ThisUpdate.Equal(h.clk.now()) {
			t.Fatalf("refreshed CRL thisUpdate = %v, want %v", blob.ThisUpdate, h.clk.now())
		}
		h.wantTimer(t, "after the refresh", refresh)
		h.wantQuiet(t)
	})
}

func TestSchedulerStart(t *testing.T) {
	// prime has another scheduler on the same store build and cache a CRL
	// signed by issuer (the fixture CA if nil).
	prime := func(t *testing.T, h *harness, issuer Issuer) *store.Blob {
		t.Helper()
		o := options(loadCA(t), h.st, h.clk)
		if issuer != nil {
			o.CA = issuer
		}
		b, err := NewBuilder(o)
		if err != nil {
			t.Fatalf("NewBuilder: %v", err)
		}
		blob, err := b.Build(context.Background())
		if err != nil {
			t.Fatalf("Build: %v", err)
		}
		if err := h.st.PutBlob(context.Background(), store.BlobCRL, testCAName, blob); err != nil {
			t.Fatalf("PutBlob: %v", err)
		}
		return blob
	}

	t.Run("ok/a fresh cached CRL is served until its RefreshAt", func(t *testing.T) {
		h := newHarness(t, nil)
		cached := prime(t, h, nil)
		h.clk.add(time.Hour)
		h.run(t)
		h.wantTimer(t, "at start", refresh-time.Hour)
		got, err := h.s.Current(context.Background())
		if err != nil {
			t.Fatalf("Current: %v", err)
		}
		if string(got.Data) != string(cached.Data) {
			t.Fatalf("Current is not the cached CRL")
		}
		h.wantQuiet(t)
	})

	t.Run("ok/a cached CRL past RefreshAt is rebuilt at start", func(t *testing.T) {
		h := newHarness(t, nil)
		prime(t, h, nil)
		h.clk.add(refresh)
		h.run(t)
		h.wantBuild(t, 2)
		h.wantTimer(t, "after the build", refresh)
		h.wantQuiet(t)
	})

	t.Run("ok/a cached CRL of another CA is rebuilt at start", func(t *testing.T) {
		h := newHarness(t, nil)
		prime(t, h, newTestIssuer(t, testCAName, nil))
		h.run(t)
		h.wantBuild(t, 2)
		h.wantTimer(t, "after the build", refresh)
		h.wantQuiet(t)
		if !strings.Contains(h.logs.String(), "cached CRL is not this CA's current one") {
			t.Fatalf("log does not say why the cached CRL was replaced:\n%s", h.logs)
		}
	})

	t.Run("ok/a cached CRL with another distribution point is rebuilt at start", func(t *testing.T) {
		h := newHarness(t, func(o *Options) { o.PublicURL = "https://moved.example" })
		prime(t, h, nil) // built with testPublicURL
		h.run(t)
		h.wantBuild(t, 2)
		h.wantTimer(t, "after the build", refresh)
		h.wantQuiet(t)
	})
}

func TestSchedulerRetry(t *testing.T) {
	src := &memSource{err: errSource}
	h := newHarness(t, func(o *Options) { o.Source = src })
	h.run(t)
	for i, wait := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second} {
		if r := <-h.builds; !errors.Is(r.err, errSource) {
			t.Fatalf("build %d: error = %v, want the source's", i+1, r.err)
		}
		r := h.wantTimer(t, "backoff", wait)
		if i == 3 {
			src.fail(nil)
		}
		r.fire <- h.clk.now()
	}
	h.wantBuild(t, 1) // the failed builds stopped before drawing a number
	h.wantTimer(t, "after recovery", refresh)
	h.wantQuiet(t)
	logs := h.logs.String()
	if n := strings.Count(logs, `"message":"crl build failed"`); n != 4 {
		t.Fatalf("log has %d build failures, want 4:\n%s", n, logs)
	}
	if !strings.Contains(logs, `"retry_in":8000`) || !strings.Contains(logs, "disk on fire") {
		t.Fatalf("failure log lacks retry_in or the cause:\n%s", logs)
	}
}

func TestBackoff(t *testing.T) {
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 9: 256 * time.Second, 10: 5 * time.Minute, 64: 5 * time.Minute, 1 << 30: 5 * time.Minute} {
		if got := backoff(n); got != want {
			t.Errorf("backoff(%d) = %v, want %v", n, got, want)
		}
	}
}

func TestCurrent(t *testing.T) {
	t.Run("ok/builds and caches when nothing is cached", func(t *testing.T) {
		h := newHarness(t, nil)
		blob, err := h.s.Current(context.Background())
		if err != nil {
			t.Fatalf("Current: %v", err)
		}
		h.wantBuild(t, 1)
		cached, err := h.st.GetBlob(context.Background(), store.BlobCRL, testCAName)
		if err != nil {
			t.Fatalf("GetBlob: %v", err)
		}
		if string(cached.Data) != string(blob.Data) {
			t.Fatalf("the cache does not hold the CRL Current built")
		}
	})

	t.Run("ok/concurrent first calls build once", func(t *testing.T) {
		h := newHarness(t, nil)
		var wg sync.WaitGroup
		var failed atomic.Int32
		for range 8 {
			wg.Go(func() {
				if _, err := h.s.Current(context.Background()); err != nil {
					failed.Add(1)
				}
			})
		}
		wg.Wait()
		if failed.Load() != 0 {
			t.Fatalf("%d calls failed", failed.Load())
		}
		h.wantBuild(t, 1)
		if n := len(h.builds); n != 0 {
			t.Fatalf("%d more builds, want none", n)
		}
	})

	t.Run("ok/an expired CRL is served while rebuilding fails", func(t *testing.T) {
		src := &memSource{}
		h := newHarness(t, func(o *Options) { o.Source = src })
		first, err := h.s.Current(context.Background())
		if err != nil {
			t.Fatalf("Current: %v", err)
		}
		h.wantBuild(t, 1)
		src.fail(errSource)
		h.clk.add(24 * time.Hour)
		for i, wantAttempt := range []bool{true, false, true} {
			got, err := h.s.Current(context.Background())
			if err != nil || string(got.Data) != string(first.Data) {
				t.Fatalf("call %d: Current = %v; want the expired CRL", i, err)
			}
			attempted := len(h.builds) == 1
			if attempted {
				<-h.builds
			}
			if attempted != wantAttempt {
				t.Fatalf("call %d: build attempted = %v, want %v (at most one a second)", i, attempted, wantAttempt)
			}
			if i == 1 {
				h.clk.add(time.Second)
			}
		}
	})

	t.Run("fail/nothing cached and the build fails", func(t *testing.T) {
		h := newHarness(t, func(o *Options) { o.Source = &memSource{err: errSource} })
		if _, err := h.s.Current(context.Background()); !errors.Is(err, errSource) {
			t.Fatalf("Current error = %v, want the source's", err)
		}
	})
}

func TestNewSchedulerErrors(t *testing.T) {
	c := loadCA(t)
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"fail/no cache", Options{CA: c, Source: &memSource{}, Numbers: &counter{}}, "crl: Options.Cache is required"},
		{"fail/options checked like NewBuilder", Options{Source: &memSource{}}, "crl: Options.CA is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewScheduler(tc.opts); err == nil || err.Error() != tc.want {
				t.Fatalf("error = %v, want %q", err, tc.want)
			}
		})
	}
}
