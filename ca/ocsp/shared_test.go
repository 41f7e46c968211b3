package ocsp

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/certgate/certgate/ca/ocsp/ocsptest"
	"github.com/certgate/certgate/store"
	xocsp "golang.org/x/crypto/ocsp"
)

// replicaPair is two Responders on one certificate store and one shared
// cache, each with its own local cache, memory and signature count.
func replicaPair(t *testing.T) (leader, follower *env, shared *ocsptest.Cache) {
	t.Helper()
	shared = &ocsptest.Cache{}
	leader = newEnv(t, modeCA, func(o *Options, _ *SignerConfig) { o.Shared = shared })
	follower = newEnv(t, modeCA, func(o *Options, _ *SignerConfig) { o.Source, o.Shared = leader.certs, shared })
	follower.certs = leader.certs
	return leader, follower, shared
}

// TestSharedAnswers: a response one replica signed is served by the other
// without a signature, unless the store's status has changed since.
func TestSharedAnswers(t *testing.T) {
	a, b, shared := replicaPair(t)
	serial := a.addCert(store.StatusValid)
	first := a.ask(t, serial)
	if shared.Len(store.BlobOCSP) != 1 {
		t.Fatalf("%d shared responses after a signature, want 1", shared.Len(store.BlobOCSP))
	}
	if got := b.ask(t, serial); !bytes.Equal(got.Raw, first.Raw) || b.signatures() != 0 {
		t.Fatalf("the other replica signed %d responses (same bytes: %v), want the shared one", b.signatures(), bytes.Equal(got.Raw, first.Raw))
	}

	// A revocation whose shared "good" lingers (its replica has not
	// heard of it yet): the status check refuses it and signs anew.
	revoked := a.addCert(store.StatusValid)
	a.ask(t, revoked)
	if err := a.certs.Revoke(revoked, xocsp.KeyCompromise, t0); err != nil {
		t.Fatal(err)
	}
	if p := b.ask(t, revoked); p.Status != xocsp.Revoked || b.signatures() != 1 {
		t.Fatalf("status %d after %d signatures, want revoked, signed once", p.Status, b.signatures())
	}

	// Invalidate drops the shared response too.
	if err := a.r.Invalidate(context.Background(), "corp", serial); err != nil {
		t.Fatal(err)
	}
	if _, err := shared.GetBlob(context.Background(), store.BlobOCSP, cacheKey("corp", serial, hashSHA1)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("shared response after Invalidate: %v", err)
	}
}

// TestSharedRefresh: the leader's refresher re-signs what only the
// follower was asked about, and the follower, at its response's
// RefreshAt, serves the leader's instead of signing.
func TestSharedRefresh(t *testing.T) {
	a, b, _ := replicaPair(t)
	serial := b.addCert(store.StatusValid)
	b.ask(t, serial)
	for _, e := range []*env{a, b} {
		e.clock.Add(DefaultValidity/2 + time.Minute)
	}
	if err := a.r.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if a.signatures() != 1 {
		t.Fatalf("the leader's refresher made %d signatures, want 1", a.signatures())
	}
	p := b.ask(t, serial)
	if b.signatures() != 1 || !p.ThisUpdate.Equal(a.clock.Now()) {
		t.Fatalf("follower: %d signatures, thisUpdate %s; want 1 (its first) and the leader's %s", b.signatures(), p.ThisUpdate, a.clock.Now())
	}
	// The follower does not refresh: Run is the leader's.
}

// TestSharedOutage: with the shared cache failing, answers are signed
// locally as without one.
func TestSharedOutage(t *testing.T) {
	a, b, shared := replicaPair(t)
	shared.Fail(ocsptest.OpGet, true)
	shared.Fail(ocsptest.OpPut, true)
	serial := a.addCert(store.StatusValid)
	a.ask(t, serial)
	b.ask(t, serial)
	if a.signatures() != 1 || b.signatures() != 1 {
		t.Fatalf("signatures %d and %d, want one each", a.signatures(), b.signatures())
	}
	// Cache hits stay local.
	b.ask(t, serial)
	if b.signatures() != 1 {
		t.Fatal("a cache hit signed")
	}
}
