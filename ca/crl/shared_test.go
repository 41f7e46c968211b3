package crl

import (
	"context"
	"errors"
	"math/big"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certgate/certgate/store"
	"github.com/certgate/certgate/store/bolt"
)

// replica is one replica's Scheduler over the shared records and cache,
// with a local cache of its own; builds counts what it signed.
type replica struct {
	s      *Scheduler
	builds atomic.Int32
	cancel context.CancelFunc
	done   chan struct{}
}

func newReplica(t *testing.T, records, shared *bolt.Store, numbers store.Sequencer, clk *clock) *replica {
	t.Helper()
	o := options(loadCA(t), records, clk)
	o.Cache = openBolt(t, filepath.Join(t.TempDir(), "cache.db"))
	o.Shared, o.Numbers, o.Debounce = shared, numbers, 10*time.Millisecond
	s, err := NewScheduler(o)
	if err != nil {
		t.Fatal(err)
	}
	r := &replica{s: s}
	s.built = func(_ *store.Blob, err error) {
		if err == nil {
			r.builds.Add(1)
		}
	}
	return r
}

// lead runs the replica's Scheduler as the leader until stepDown.
func (r *replica) lead(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel, r.done = cancel, make(chan struct{})
	go func() {
		defer close(r.done)
		r.s.Run(ctx)
	}()
	t.Cleanup(r.stepDown)
}

func (r *replica) stepDown() {
	if r.cancel != nil {
		r.cancel()
		<-r.done
		r.cancel = nil
	}
}

// number is the CRL number r serves.
func (r *replica) number(t *testing.T) int64 {
	t.Helper()
	blob, err := r.s.Current(context.Background())
	if err != nil {
		t.Fatalf("Current: %v", err)
	}
	return parse(t, blob.Data, loadCA(t).Certificate()).Number.Int64()
}

// sharedNumber polls the shared cache until it holds a CRL numbered above
// after, and returns it.
func sharedNumber(t *testing.T, shared *bolt.Store, after int64) (int64, *store.Blob) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if b, err := shared.GetBlob(context.Background(), store.BlobCRL, testCAName); err == nil {
			if n := parse(t, b.Data, loadCA(t).Certificate()).Number.Int64(); n > after {
				return n, b
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no CRL numbered above %d published within 5s", after)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestSharedLeaderAndFollower: only the leader builds; the follower serves
// the leader's CRL byte for byte after Sync, a newer one after a
// revocation, and takes over with a higher number when it leads.
func TestSharedLeaderAndFollower(t *testing.T) {
	dir := t.TempDir()
	records, shared := openBolt(t, filepath.Join(dir, "records.db")), openBolt(t, filepath.Join(dir, "shared.db"))
	clk := newClock()
	a, b := newReplica(t, records, shared, records, clk), newReplica(t, records, shared, records, clk)
	ctx := context.Background()

	if _, err := b.s.Current(ctx); !errors.Is(err, errNotPublished) {
		t.Fatalf("follower before anything is published: %v, want errNotPublished", err)
	}
	a.lead(t)
	n1, _ := sharedNumber(t, shared, 0)
	if err := b.s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	aBlob, _ := a.s.Current(ctx)
	bBlob, _ := b.s.Current(ctx)
	if string(aBlob.Data) != string(bBlob.Data) || b.number(t) != n1 {
		t.Fatalf("follower serves CRL %d, not the leader's %d", b.number(t), n1)
	}

	record(t, records, testCAName, big.NewInt(77), clk.now().Add(30*24*time.Hour), store.ReasonKeyCompromise, clk.now())
	a.s.Trigger()
	n2, blob := sharedNumber(t, shared, n1)
	for !listed(t, blob, 77) { // one more build may have been under way
		n2, blob = sharedNumber(t, shared, n2)
	}
	if err := b.s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if b.number(t) != n2 {
		t.Fatalf("follower serves %d after Sync, want %d", b.number(t), n2)
	}
	// A follower's CRL past nextUpdate with no newer one published: it
	// serves the old one and still does not sign.
	a.stepDown()
	clk.add(25 * time.Hour)
	if got := b.number(t); got != n2 {
		t.Fatalf("expired follower serves %d, want %d", got, n2)
	}
	if n := b.builds.Load(); n != 0 {
		t.Fatalf("the follower built %d CRLs", n)
	}

	// B takes over: it rebuilds once with a higher number and publishes;
	// A, now a follower, takes it.
	b.lead(t)
	n3, _ := sharedNumber(t, shared, n2)
	if err := a.s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := a.number(t); got != n3 || b.number(t) != n3 {
		t.Fatalf("after the takeover A serves %d and B %d, want %d", got, b.number(t), n3)
	}
}

// TestSharedNeverGoesBack: neither Sync nor a leader that lost the lease
// during its build replaces a CRL with an older one.
func TestSharedNeverGoesBack(t *testing.T) {
	dir := t.TempDir()
	records, shared := openBolt(t, filepath.Join(dir, "records.db")), openBolt(t, filepath.Join(dir, "shared.db"))
	clk := newClock()
	ahead := &counter{}
	ahead.n.Store(100)
	a, stale := newReplica(t, records, shared, ahead, clk), newReplica(t, records, shared, &counter{}, clk)
	ctx := context.Background()

	a.lead(t)
	n, _ := sharedNumber(t, shared, 0)
	// The stale leader builds number 1 (its own sequence is behind, as a
	// build that drew its number before the takeover would be).
	stale.s.leading.Store(true)
	if _, err := stale.s.Current(ctx); err != nil {
		t.Fatal(err)
	}
	stale.s.leading.Store(false)
	if got, _ := sharedNumber(t, shared, 0); got != n {
		t.Fatalf("the shared CRL went from %d to %d", n, got)
	}
	// As a follower it moves on to the newer CRL, and back never.
	if err := stale.s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := stale.number(t); got != n {
		t.Fatalf("after Sync: %d, want %d", got, n)
	}
	if err := shared.PutBlob(ctx, store.BlobCRL, testCAName, mustOlder(t, stale)); err != nil {
		t.Fatal(err)
	}
	if err := stale.s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := stale.number(t); got != n {
		t.Fatalf("Sync went back from %d to %d", n, got)
	}
}

// mustOlder returns a CRL numbered below anything r serves, signed by the
// fixture CA.
func mustOlder(t *testing.T, r *replica) *store.Blob {
	t.Helper()
	o := options(loadCA(t), openBolt(t, filepath.Join(t.TempDir(), "old.db")), newClock())
	b, err := NewBuilder(o)
	if err != nil {
		t.Fatal(err)
	}
	blob, err := b.Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if parse(t, blob.Data, loadCA(t).Certificate()).Number.Int64() >= r.number(t) {
		t.Fatal("the old CRL is not older")
	}
	return blob
}
