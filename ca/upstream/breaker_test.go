package upstream

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

func TestBreaker(t *testing.T) {
	// A step advances the clock, asks allow, and if allowed reports o.
	type step struct {
		advance  time.Duration
		allowed  bool
		wait     time.Duration // retryAfter when refused
		o        outcome
		wantOpen bool // the gauge after the step
	}
	const cool = 10 * time.Second
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"ok/opens-after-threshold", []step{
			{allowed: true, o: unhealthy},
			{allowed: true, o: unhealthy},
			{allowed: true, o: unhealthy, wantOpen: true},
			{allowed: false, wait: cool, wantOpen: true},
			{advance: 4 * time.Second, allowed: false, wait: 6 * time.Second, wantOpen: true},
		}},
		{"ok/success-resets-the-count", []step{
			{allowed: true, o: unhealthy},
			{allowed: true, o: unhealthy},
			{allowed: true, o: healthy},
			{allowed: true, o: unhealthy},
			{allowed: true, o: unhealthy},
			{allowed: true, o: healthy},
		}},
		{"ok/neutral-neither-counts-nor-resets", []step{
			{allowed: true, o: unhealthy},
			{allowed: true, o: neutral},
			{allowed: true, o: unhealthy},
			{allowed: true, o: unhealthy, wantOpen: true},
		}},
		{"ok/half-open-trial-success-closes", []step{
			{allowed: true, o: unhealthy},
			{allowed: true, o: unhealthy},
			{allowed: true, o: unhealthy, wantOpen: true},
			{advance: cool, allowed: true, o: healthy},
			{allowed: true, o: healthy},
		}},
		{"ok/half-open-trial-failure-reopens", []step{
			{allowed: true, o: unhealthy},
			{allowed: true, o: unhealthy},
			{allowed: true, o: unhealthy, wantOpen: true},
			{advance: cool, allowed: true, o: unhealthy, wantOpen: true},
			{allowed: false, wait: cool, wantOpen: true},
		}},
		{"ok/half-open-canceled-trial-lets-the-next-try", []step{
			{allowed: true, o: unhealthy},
			{allowed: true, o: unhealthy},
			{allowed: true, o: unhealthy, wantOpen: true},
			{advance: cool, allowed: true, o: neutral, wantOpen: true},
			{allowed: true, o: healthy},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newFakeClock()
			open := false
			b := newBreaker(3, cool, clk.Now, func(o bool) { open = o })
			for i, s := range tc.steps {
				clk.Advance(s.advance)
				wait, ok := b.allow()
				if ok != s.allowed || (!ok && wait != s.wait) {
					t.Fatalf("step %d: allow = %v (wait %v), want %v (wait %v)", i, ok, wait, s.allowed, s.wait)
				}
				if ok {
					b.done(s.o)
				}
				if open != s.wantOpen {
					t.Fatalf("step %d: open %v, want %v", i, open, s.wantOpen)
				}
			}
		})
	}
}

// TestBreakerHalfOpenOneTrial: while the trial is in flight, others are
// refused.
func TestBreakerHalfOpenOneTrial(t *testing.T) {
	clk := newFakeClock()
	b := newBreaker(1, time.Second, clk.Now, nil)
	b.allow()
	b.done(unhealthy)
	clk.Advance(time.Second)
	if _, ok := b.allow(); !ok {
		t.Fatal("trial refused")
	}
	if _, ok := b.allow(); ok {
		t.Fatal("second call let through during the trial")
	}
	b.done(healthy)
	if _, ok := b.allow(); !ok {
		t.Fatal("closed circuit refused a call")
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want outcome
	}{
		{"nil", nil, healthy},
		{"rejected", &Rejected{}, healthy},
		{"pending", &PendingError{}, healthy},
		{"unavailable", &UnavailableError{Err: errors.New("HTTP 500")}, unhealthy},
		{"deadline", &UnavailableError{Err: fmt.Errorf("post: %w", context.DeadlineExceeded)}, unhealthy},
		{"canceled", &UnavailableError{Err: fmt.Errorf("post: %w", context.Canceled)}, neutral},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := classify(tc.err); got != tc.want {
				t.Fatalf("classify = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestESTCircuit drives the breaker through a forwarder: failures open
// it, an open circuit refuses without a request, refusals never open it.
func TestESTCircuit(t *testing.T) {
	for _, tc := range []struct {
		name         string
		status       int
		calls        int
		wantLast     string
		wantRequests int32
	}{
		{"ok/5xx-opens", http.StatusInternalServerError, 5, "unavailable", 3},
		{"ok/rejections-do-not-open", http.StatusForbidden, 5, "rejected:unauthorized", 5},
		{"ok/pending-does-not-open", http.StatusAccepted, 5, "pending", 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newESTFake(t)
			var requests atomic.Int32
			f.enroll = func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				w.WriteHeader(tc.status)
			}
			clk := newFakeClock()
			e := mustEST(t, ESTConfig{Name: "up", BaseURL: f.srv.URL + "/.well-known/est", Roots: f.roots(), FailureThreshold: 3, CoolDown: time.Minute, Now: clk.Now})
			csr, raw := deviceCSR(t, "d", "")
			var err error
			for range tc.calls {
				_, err = e.Forward(context.Background(), csr, raw, "")
			}
			wantErr(t, err, tc.wantLast)
			if n := requests.Load(); n != tc.wantRequests {
				t.Fatalf("%d requests reached the upstream, want %d", n, tc.wantRequests)
			}
			var u *UnavailableError
			if tc.wantRequests < int32(tc.calls) && (!errors.As(err, &u) || !errors.Is(err, errCircuitOpen) || u.RetryAfter != time.Minute) {
				t.Fatalf("error %v: want the open circuit with a minute to wait", err)
			}
		})
	}
}
