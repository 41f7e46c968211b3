package upstream

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// TestESTChain checks the cacerts cache: fetched once per refresh
// interval, retried when unavailable, served stale when the upstream
// fails, ordered issuing CA first.
func TestESTChain(t *testing.T) {
	root := newRootCA(t, "root", 1)
	issuing := root.subCA(t, "issuing", 2)

	// step is one Chain call after advancing the clock, with the upstream
	// answering status (200: the chain) from then on.
	type step struct {
		advance  time.Duration
		status   int
		want     string // error class of Chain
		requests int32  // cacerts requests the upstream has seen so far
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"ok/fetched-once-per-refresh", []step{
			{status: 200, requests: 1},
			{advance: 59 * time.Minute, status: 200, requests: 1},
			{advance: 2 * time.Minute, status: 200, requests: 2},
		}},
		{"ok/stale-when-refresh-fails", []step{
			{status: 200, requests: 1},
			{advance: 2 * time.Hour, status: 500, requests: 1 + retryAttempts},
			// Still expired: every call tries again, and still gets the old chain.
			{status: 500, requests: 1 + 2*retryAttempts},
		}},
		{"fail/nothing-cached", []step{
			{status: 503, want: "unavailable", requests: retryAttempts},
			{status: 200, requests: retryAttempts + 1},
		}},
		{"fail/not-retried-on-404", []step{
			{status: 404, want: "unavailable", requests: 1},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newESTFake(t)
			var status atomic.Int32
			var requests atomic.Int32
			f.cacerts = func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				if s := int(status.Load()); s != 200 {
					http.Error(w, "nope", s)
					return
				}
				// Root first: the forwarder orders.
				_, _ = w.Write(certsOnly(t, true, root.cert, issuing.cert))
			}
			clk := newFakeClock()
			e := mustEST(t, ESTConfig{Name: "up", BaseURL: f.srv.URL + "/.well-known/est", Roots: f.roots(), Now: clk.Now, FailureThreshold: 100})
			e.c.sleep = clk.Sleep
			for i, s := range tc.steps {
				clk.Advance(s.advance)
				status.Store(int32(s.status))
				chain, err := e.Chain(context.Background())
				wantErr(t, err, s.want)
				if err == nil && (len(chain) != 2 || !chain[0].Equal(issuing.cert) || !chain[1].Equal(root.cert)) {
					t.Fatalf("step %d: chain of %d, want issuing then root", i, len(chain))
				}
				if n := requests.Load(); n != s.requests {
					t.Fatalf("step %d: %d cacerts requests, want %d", i, n, s.requests)
				}
			}
		})
	}
}
