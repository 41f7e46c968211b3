package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certgate/certgate/store"
)

// Short periods keep the lease tests fast; a confirmation still has twice
// Check to answer, which a loaded test machine gives it.
var testLeaseOpts = LeaseOptions{Retry: 100 * time.Millisecond, Check: 200 * time.Millisecond}

// leader is one Lead loop under test.
type leader struct {
	running atomic.Bool
	// started and stopped are when fn last started and returned.
	mu               sync.Mutex
	started, stopped time.Time
	lostWhy          error
	stop             context.CancelFunc
	done             chan struct{}
}

// startLeader runs Lead on a lease of st until the test ends or stop.
func startLeader(t *testing.T, st *Store, name string, opts LeaseOptions) *leader {
	t.Helper()
	l := &leader{done: make(chan struct{})}
	opts.OnChange = func(leading bool, why error) {
		if !leading {
			l.mu.Lock()
			l.lostWhy = why
			l.mu.Unlock()
		}
	}
	lease, err := st.Lease(name, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	l.stop = func() { cancel(); <-l.done }
	t.Cleanup(l.stop)
	go func() {
		defer close(l.done)
		lease.Lead(ctx, func(ctx context.Context) {
			l.mu.Lock()
			l.started = time.Now()
			l.mu.Unlock()
			l.running.Store(true)
			<-ctx.Done()
			l.running.Store(false)
			l.mu.Lock()
			l.stopped = time.Now()
			l.mu.Unlock()
		})
	}()
	return l
}

// waitWhy waits until l has been told why it lost the lease: OnChange
// reports the loss after fn has returned and the session is closed, a
// moment after running turns false.
func (l *leader) waitWhy(t *testing.T) {
	t.Helper()
	waitFor(t, "the lost lease's reason", 5*time.Second, func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.lostWhy != nil
	})
}

// waitFor polls cond until it holds or d has passed, and says how long it
// took.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > d {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}

// never checks that cond stays false for d.
func never(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if cond() {
			t.Fatalf("%s", what)
		}
	}
}

func TestLeaseAcquireAndHeldElsewhere(t *testing.T) {
	st := openTest(t, Options{})
	defer st.Close()
	a := startLeader(t, st, "crl_ocsp", testLeaseOpts)
	waitFor(t, "the only replica leads", 5*time.Second, a.running.Load)

	// A second replica (its own store, as in another process) waits.
	st2, err := Open(context.Background(), Options{DSN: st.pool.Config().ConnString()})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	b := startLeader(t, st2, "crl_ocsp", testLeaseOpts)
	other := startLeader(t, st2, "something else", testLeaseOpts)
	waitFor(t, "a lease of another name is free", 5*time.Second, other.running.Load)
	never(t, "B leads while A holds the lease", 10*testLeaseOpts.Retry, b.running.Load)
	if !a.running.Load() {
		t.Fatal("A stopped leading")
	}

	// A shuts down: its session ends and B takes over at its next try.
	a.stop()
	took := waitFor(t, "B takes over after A stopped", 5*time.Second, b.running.Load)
	t.Logf("takeover after a clean stop: %s (Retry %s)", took.Round(time.Millisecond), testLeaseOpts.Retry)
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.lostWhy != nil {
		t.Errorf("a clean stop reported %v", a.lostWhy)
	}
}

// TestLeaseTakeoverWhenSessionDies: the holder's session is killed on the
// server (as when its process is killed, or an administrator terminates
// it): the holder stops leading with the error and the other replica
// takes over.
func TestLeaseTakeoverWhenSessionDies(t *testing.T) {
	st := openTest(t, Options{})
	defer st.Close()
	a := startLeader(t, st, "crl_ocsp", testLeaseOpts)
	waitFor(t, "A leads", 5*time.Second, a.running.Load)
	b := startLeader(t, st, "crl_ocsp", testLeaseOpts)

	ctx := context.Background()
	var killed int
	if err := st.pool.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = 'certgate lease crl_ocsp' AND pid IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted)`).Scan(&killed); err != nil {
		t.Fatal(err)
	}
	if killed != 1 {
		t.Fatalf("terminated %d lock-holding lease sessions, want 1", killed)
	}
	gaveUp := waitFor(t, "A gives up leading once its session is gone", 5*time.Second, func() bool { return !a.running.Load() })
	took := waitFor(t, "B takes over", 5*time.Second, b.running.Load)
	t.Logf("A gave up after %s; B led %s after the kill", gaveUp.Round(time.Millisecond), (gaveUp + took).Round(time.Millisecond))
	a.waitWhy(t)
	// A, back at trying, does not lead while B holds the lease.
	never(t, "A leads again while B holds the lease", 5*testLeaseOpts.Retry, a.running.Load)
}

// TestLeaseGivesUpBeforeTakeover: the holder's connection goes silent (a
// network partition: nothing answers, nothing is closed). The holder must
// stop leading on its own, and must have stopped before the server ends
// its session and another replica can take the lease.
func TestLeaseGivesUpBeforeTakeover(t *testing.T) {
	st := openTest(t, Options{})
	defer st.Close()
	u, err := url.Parse(st.pool.Config().ConnString())
	if err != nil || u.Host == "" {
		t.Skipf("the test DSN is not a URL with a host (%v)", err)
	}
	proxy := newSilencer(t, u.Host)
	u.Host = proxy.addr
	viaProxy, err := Open(context.Background(), Options{DSN: u.String()})
	if err != nil {
		t.Fatal(err)
	}
	defer viaProxy.Close()

	a := startLeader(t, viaProxy, "crl_ocsp", testLeaseOpts)
	waitFor(t, "A leads", 5*time.Second, a.running.Load)
	b := startLeader(t, st, "crl_ocsp", testLeaseOpts)

	proxy.silence()
	silenced := time.Now()
	waitFor(t, "A gives up leading", 5*time.Second, func() bool { return !a.running.Load() })
	waitFor(t, "B takes over once the server ends A's session", 10*idleChecks*testLeaseOpts.Check, b.running.Load)
	a.waitWhy(t)
	a.mu.Lock()
	stopped := a.stopped
	a.mu.Unlock()
	b.mu.Lock()
	started := b.started
	b.mu.Unlock()
	t.Logf("A stopped %s after the partition, B started %s after it", stopped.Sub(silenced).Round(time.Millisecond), started.Sub(silenced).Round(time.Millisecond))
	if !stopped.Before(started) {
		t.Errorf("A still led (until %s) when B started (%s)", stopped, started)
	}
	if max := 3*testLeaseOpts.Check + time.Second; stopped.Sub(silenced) > max {
		t.Errorf("A took %s to give up, want at most %s", stopped.Sub(silenced), max)
	}
}

// silencer is a TCP proxy that can stop forwarding without closing
// anything, as a network partition does.
type silencer struct {
	addr   string
	silent atomic.Bool
}

func newSilencer(t *testing.T, target string) *silencer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &silencer{addr: ln.Addr().String()}
	var conns sync.WaitGroup
	t.Cleanup(func() { ln.Close(); conns.Wait() })
	var mu sync.Mutex
	var open []net.Conn
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range open {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			open = append(open, c, up)
			mu.Unlock()
			conns.Add(2)
			go func() { defer conns.Done(); s.pipe(up, c) }()
			go func() { defer conns.Done(); s.pipe(c, up) }()
		}
	}()
	return s
}

func (s *silencer) silence() { s.silent.Store(true) }

// pipe copies until either side closes, dropping everything once silent.
func (s *silencer) pipe(dst io.Writer, src io.Reader) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !s.silent.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func TestLeaseRefusesBadNames(t *testing.T) {
	st := openTest(t, Options{})
	defer st.Close()
	if _, err := st.Lease("", LeaseOptions{}); err == nil {
		t.Error("empty lease name accepted")
	}
	st.Close()
	if _, err := st.Lease("x", LeaseOptions{}); !errors.Is(err, store.ErrClosed) {
		t.Errorf("lease on a closed store: %v, want ErrClosed", err)
	}
}
