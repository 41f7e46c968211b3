package upstream

import (
	"context"
	"errors"
	"net/http"
	"runtime"
	"testing"
	"time"

	smallscep "github.com/smallstep/scep"
)

// TestDeadline hangs the upstream until the test releases it, which it
// does only after the call returned: a call that waited for the upstream
// instead of for its context would never return. Then no goroutine of the
// call may remain once the forwarder and the server are closed.
func TestDeadline(t *testing.T) {
	ca := newRootCA(t, "upstream CA", 1)
	type call func(ctx context.Context) error
	type env struct {
		call  call
		close func()
	}
	// Each kind sets up a hanging upstream whose handler runs arrived()
	// on arrival and blocks until release closes.
	kinds := []struct {
		name  string
		setup func(t *testing.T, timeout time.Duration, arrived func(), release chan struct{}) env
	}{
		{"est-forward", func(t *testing.T, timeout time.Duration, arrived func(), release chan struct{}) env {
			f := newESTFake(t)
			f.enroll = hangHandler(arrived, release)
			e := mustEST(t, ESTConfig{Name: "up", BaseURL: f.srv.URL + "/.well-known/est", Roots: f.roots(), Timeout: timeout})
			csr, raw := deviceCSR(t, "d", "")
			return env{func(ctx context.Context) error { _, err := e.Forward(ctx, csr, raw, ""); return err }, func() { e.Close(); f.srv.Close() }}
		}},
		{"est-chain", func(t *testing.T, timeout time.Duration, arrived func(), release chan struct{}) env {
			f := newESTFake(t)
			f.cacerts = hangHandler(arrived, release)
			e := mustEST(t, ESTConfig{Name: "up", BaseURL: f.srv.URL + "/.well-known/est", Roots: f.roots(), Timeout: timeout})
			return env{func(ctx context.Context) error { _, err := e.Chain(ctx); return err }, func() { e.Close(); f.srv.Close() }}
		}},
		{"scep-forward", func(t *testing.T, timeout time.Duration, arrived func(), release chan struct{}) env {
			f := newSCEPFake(t, ca)
			f.reply = func(*fakeMsg, int) fakeReply { arrived(); return fakeReply{block: release} }
			s, _ := newTestSCEP(t, f.url(), func(c *SCEPConfig) { c.Timeout = timeout })
			csr, raw := deviceCSR(t, "d", "")
			return env{func(ctx context.Context) error { _, err := s.Forward(ctx, csr, raw, ""); return err }, func() { s.Close(); f.srv.Close() }}
		}},
		{"scep-poll-wait", func(t *testing.T, timeout time.Duration, arrived func(), release chan struct{}) env {
			// PENDING, then a poll that hangs: the deadline ends the wait
			// and the device is told pending.
			f := newSCEPFake(t, ca)
			f.reply = func(_ *fakeMsg, n int) fakeReply {
				if n == 0 {
					return fakeReply{status: smallscep.PENDING}
				}
				arrived()
				return fakeReply{block: release}
			}
			s, _ := newTestSCEP(t, f.url(), func(c *SCEPConfig) { c.Timeout = timeout })
			s.pollMargin, s.pollInterval = 0, time.Millisecond
			csr, raw := deviceCSR(t, "d", "")
			return env{func(ctx context.Context) error { _, err := s.Forward(ctx, csr, raw, ""); return err }, func() { s.Close(); f.srv.Close() }}
		}},
	}
	for _, k := range kinds {
		for _, tc := range []struct {
			name    string
			how     string // "deadline", "cancel" or "timeout" (the forwarder's own)
			wantErr error
		}{
			{"ctx-deadline", "deadline", context.DeadlineExceeded},
			{"ctx-canceled", "cancel", context.Canceled},
			{"config-timeout", "timeout", context.DeadlineExceeded},
		} {
			t.Run(k.name+"/"+tc.name, func(t *testing.T) {
				base := runtime.NumGoroutine()
				release := make(chan struct{})
				ctx, cancel := context.Background(), context.CancelFunc(func() {})
				arrived := func() {}
				timeout := time.Hour
				switch tc.how {
				case "deadline":
					ctx, cancel = context.WithTimeout(ctx, 250*time.Millisecond)
				case "cancel":
					ctx, cancel = context.WithCancel(ctx)
					arrived = cancel
				case "timeout":
					timeout = 250 * time.Millisecond
				}
				defer cancel()
				e := k.setup(t, timeout, arrived, release)
				err := e.call(ctx)
				close(release)
				if k.name == "scep-poll-wait" {
					wantErr(t, err, "pending")
				} else {
					wantErr(t, err, "unavailable")
					if !errors.Is(err, tc.wantErr) {
						t.Fatalf("error %v, want %v", err, tc.wantErr)
					}
				}
				e.close()
				settleGoroutines(t, base)
			})
		}
	}
}

// hangHandler blocks until release. If the client leaves first, it
// aborts the response: an empty 200 written then can still reach a client
// whose context ended at the same moment.
func hangHandler(arrived func(), release chan struct{}) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		arrived()
		select {
		case <-release:
		case <-r.Context().Done():
			panic(http.ErrAbortHandler)
		}
	}
}
