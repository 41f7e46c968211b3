//go:build integration

package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smallstep/scep"
)

// TestCrashRestart: after SIGKILL the data dir holds every issued record,
// the stale admin socket neither confuses the CLI nor blocks a restart, and
// serials stay unique across the restart.
func TestCrashRestart(t *testing.T) {
	dataDir := newDataDir(t)
	srv := startServer(t, dataDir)
	challenge := srv.Challenge()
	c := newSCEPClient(t, srv.URL+"/scep")
	seen := map[string]bool{}
	for i := range 5 {
		seen[serialHex(c.mustEnroll(t, fmt.Sprintf("crash-before-%d", i), challenge).Cert)] = true
	}

	srv.Kill()
	if _, err := os.Stat(filepath.Join(dataDir, "admin.sock")); err != nil {
		t.Fatalf("no admin.sock left behind by SIGKILL (%v): the stale-socket cases below test nothing", err)
	}
	mustAllValid(t, "after SIGKILL, server down", certsList(t, dataDir), seen)

	srv = startServer(t, dataDir)
	mustAllValid(t, "after restart", certsList(t, dataDir), seen)
	c = newSCEPClient(t, srv.URL+"/scep")
	for i := range 5 {
		serial := serialHex(c.mustEnroll(t, fmt.Sprintf("crash-after-%d", i), challenge).Cert)
		if seen[serial] {
			t.Fatalf("serial %s issued twice", serial)
		}
		seen[serial] = true
	}
	recs := certsList(t, dataDir)
	if len(recs) != 10 {
		t.Errorf("certs list: %d records, want 10", len(recs))
	}
	mustAllValid(t, "after 10 enrollments", recs, seen)
}

// mustAllValid checks every serial in want has a valid record in recs.
func mustAllValid(t *testing.T, when string, recs []certRecord, want map[string]bool) {
	t.Helper()
	for serial := range want {
		rec := recordBySerial(recs, serial)
		if rec == nil {
			t.Errorf("%s: serial %s missing", when, serial)
			continue
		}
		if rec.Status != "valid" || rec.IssuedAt.IsZero() {
			t.Errorf("%s: serial %s status %q, issued at %v; want valid and issued", when, serial, rec.Status, rec.IssuedAt)
		}
	}
}

// TestCrashDurability kills the server while enrollments run concurrently.
// certgate promises a certificate is recorded before it is returned, so
// every SUCCESS a client received must be in the store after a restart.
func TestCrashDurability(t *testing.T) {
	const (
		workers   = 8
		perWorker = 12
		// After killAfter successes the server is killed; the other
		// workers are mid-request by then, since their messages are built
		// beforehand and the server is all they wait for.
		killAfter = 40
	)
	dataDir := newDataDir(t)
	srv := startServer(t, dataDir)
	challenge := srv.Challenge()
	c := newSCEPClient(t, srv.URL+"/scep")

	type prepared struct {
		req scepRequest
		raw []byte
	}
	queues := make([][]prepared, workers)
	for w := range queues {
		for i := range perWorker {
			r := pkcsReq(t, fmt.Sprintf("durable-%d-%d", w, i), challenge)
			raw, err := c.build(r)
			if err != nil {
				t.Fatal(err)
			}
			queues[w] = append(queues[w], prepared{r, raw})
		}
	}

	var (
		mu        sync.Mutex
		succeeded = map[string]bool{}
		failures  []string
		cut       int // requests that failed because of the kill
		killing   atomic.Bool
		enough    = make(chan struct{}) // closed at killAfter successes or the first failure
		closeOnce sync.Once
		wg        sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for w, queue := range queues {
		wg.Go(func() {
			for _, p := range queue {
				if ctx.Err() != nil {
					return
				}
				body, postErr := c.post(ctx, p.raw)
				var rep *scep.PKIMessage
				var err error
				if postErr == nil {
					rep, err = c.open(body, p.req.Signer)
				}
				mu.Lock()
				switch {
				case postErr != nil && killing.Load():
					cut++
					mu.Unlock()
					return
				case postErr != nil:
					failures = append(failures, fmt.Sprintf("worker %d before the kill: %v", w, postErr))
				case err != nil:
					failures = append(failures, fmt.Sprintf("worker %d: %v", w, err))
				case rep.PKIStatus != scep.SUCCESS:
					failures = append(failures, fmt.Sprintf("worker %d: pkiStatus %s failInfo %q", w, string(rep.PKIStatus), string(rep.FailInfo)))
				case !p.req.Key.PublicKey.Equal(rep.Certificate.PublicKey):
					failures = append(failures, fmt.Sprintf("worker %d: certificate for another key", w))
				default:
					succeeded[serialHex(rep.Certificate)] = true
				}
				stop := len(failures) > 0
				if stop || len(succeeded) >= killAfter {
					closeOnce.Do(func() { close(enough) })
				}
				mu.Unlock()
				if stop {
					return
				}
			}
		})
	}

	select {
	case <-enough:
	case <-time.After(5 * time.Minute):
		t.Error("the workers never reached the kill point")
	}
	killing.Store(true)
	srv.Kill()
	cancel()
	wg.Wait()
	for _, f := range failures {
		t.Error(f)
	}
	if t.Failed() {
		return
	}

	startServer(t, dataDir)
	recs := certsList(t, dataDir)
	mustAllValid(t, "after SIGKILL during enrollments", recs, succeeded)
	reserved := certsList(t, dataDir, "--status", "reserved")
	t.Logf("%d SUCCESS replies before the kill, %d requests cut by it, %d valid records, %d reservations never signed",
		len(succeeded), cut, len(recs), len(reserved))
}
