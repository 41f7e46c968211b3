package ocsp

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/certgate/certgate/ca/ocsp/ocsptest"
	"github.com/certgate/certgate/store"
	xocsp "golang.org/x/crypto/ocsp"
)

func TestRefresh(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, modeDelegated)
	refresh := e.addCert(store.StatusValid)
	revokeLater := e.addCert(store.StatusValid)
	expired := big.NewInt(0xe1)
	e.certs.Add(store.CertRecord{Serial: expired, Issuer: "corp", Status: store.StatusValid, NotAfter: t0.Add(time.Hour)})
	vanished := big.NewInt(0xe2)
	e.certs.Add(store.CertRecord{Serial: vanished, Issuer: "corp", Status: store.StatusValid, NotAfter: t0.AddDate(1, 0, 0)})
	for _, s := range []*big.Int{refresh, revokeLater, expired, vanished} {
		e.ask(t, s)
	}
	stray := e.blob(t, cacheKey("corp", refresh, hashSHA1))
	for _, k := range []string{"gone/1f", "junk", "corp/0x1f", "corp/1f/sha512"} {
		if err := e.cache.PutBlob(ctx, store.BlobOCSP, k, stray); err != nil {
			t.Fatal(err)
		}
	}
	e.clock.Add(DefaultValidity / 2)
	notDue := e.addCert(store.StatusValid)
	e.ask(t, notDue) // signed now: due in 12 h
	if err := e.certs.Revoke(revokeLater, xocsp.CessationOfOperation, t0); err != nil {
		t.Fatal(err)
	}
	// vanished now belongs to another CA, as if the store had been
	// rebuilt: its answer turns unknown, which is not cached.
	e.certs.Add(store.CertRecord{Serial: vanished, Issuer: "other", Status: store.StatusValid})
	signsBefore := e.signatures()

	if err := e.r.Refresh(ctx); err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	now := e.clock.Now()
	tests := []struct {
		name       string
		key        string
		wantGone   bool
		wantStatus string
		wantThis   time.Time
	}{
		{name: "ok/due: re-signed", key: cacheKey("corp", refresh, hashSHA1), wantStatus: "good", wantThis: now},
		{name: "ok/revoked without Invalidate: corrected", key: cacheKey("corp", revokeLater, hashSHA1), wantStatus: "revoked", wantThis: now},
		{name: "ok/not due: untouched", key: cacheKey("corp", notDue, hashSHA1), wantStatus: "good", wantThis: now},
		{name: "ok/expired certificate: dropped", key: cacheKey("corp", expired, hashSHA1), wantGone: true},
		{name: "ok/now unknown: dropped", key: cacheKey("corp", vanished, hashSHA1), wantGone: true},
		{name: "ok/CA not served: dropped", key: "gone/1f", wantGone: true},
		{name: "ok/bad key: dropped", key: "junk", wantGone: true},
		{name: "ok/non-canonical serial: dropped", key: "corp/0x1f", wantGone: true},
		{name: "ok/unknown suffix: dropped", key: "corp/1f/sha512", wantGone: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := e.cache.GetBlob(ctx, store.BlobOCSP, tt.key)
			if tt.wantGone {
				if !errors.Is(err, store.ErrNotFound) {
					t.Errorf("GetBlob = %+v, %v; want ErrNotFound", b, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b.Status != tt.wantStatus || !b.ThisUpdate.Equal(tt.wantThis) || !b.RefreshAt.Equal(tt.wantThis.Add(DefaultValidity/2)) {
				t.Errorf("blob status %s thisUpdate %s refreshAt %s; want %s, %s, +12h", b.Status, b.ThisUpdate, b.RefreshAt, tt.wantStatus, tt.wantThis)
			}
		})
	}
	if got := e.signatures() - signsBefore; got != 2 {
		t.Errorf("Refresh made %d signatures, want 2", got)
	}
	// The refreshed responses are in memory too: asking signs nothing.
	signsBefore = e.signatures()
	if p := e.ask(t, refresh); !p.ThisUpdate.Equal(now) {
		t.Errorf("after Refresh: thisUpdate %s, want %s", p.ThisUpdate, now)
	}
	if p := e.ask(t, revokeLater); p.Status != xocsp.Revoked {
		t.Errorf("after Refresh: status %d, want revoked", p.Status)
	}
	if got := e.signatures() - signsBefore; got != 0 {
		t.Errorf("%d signatures answering refreshed entries, want 0", got)
	}
}

func TestRefreshBatch(t *testing.T) {
	e := newEnv(t, modeCA, func(o *Options, _ *SignerConfig) { o.RefreshBatch = 2 })
	for range 3 {
		e.ask(t, e.addCert(store.StatusValid))
	}
	e.clock.Add(DefaultValidity / 2)
	for pass, want := range []int64{2, 1, 0} {
		before := e.signatures()
		if err := e.r.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := e.signatures() - before; got != want {
			t.Errorf("pass %d re-signed %d, want %d", pass, got, want)
		}
	}
}

func TestRefreshErrors(t *testing.T) {
	tests := []struct {
		name    string
		break_  func(e *env)
		wantErr string
		wantIs  error
	}{
		{name: "fail/RangeBlobs", break_: func(e *env) { e.cache.Fail(ocsptest.OpRange, true) },
			wantErr: "ocsp: refresh: ocsptest: injected failure", wantIs: ocsptest.ErrInjected},
		{name: "fail/store lookups", break_: func(e *env) { e.certs.Fail(ocsptest.ErrInjected) },
			wantErr: "ocsp: refresh: 2 of 2 responses failed, first: ocsp: status of corp/", wantIs: ocsptest.ErrInjected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, modeCA)
			for range 2 {
				e.ask(t, e.addCert(store.StatusValid))
			}
			e.clock.Add(DefaultValidity / 2)
			tt.break_(e)
			err := e.r.Refresh(context.Background())
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) || !errors.Is(err, tt.wantIs) {
				t.Fatalf("Refresh error = %v, want %q… wrapping %v", err, tt.wantErr, tt.wantIs)
			}
			if n := e.cache.Len(store.BlobOCSP); n != 2 {
				t.Errorf("%d blobs after a failed pass, want the 2 untouched", n)
			}
		})
	}
}

func TestRefreshWithoutCache(t *testing.T) {
	e := newEnv(t, modeCA, func(o *Options, _ *SignerConfig) { o.Cache = nil })
	e.ask(t, e.addCert(store.StatusValid))
	e.clock.Add(DefaultValidity)
	if err := e.r.Refresh(context.Background()); err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if e.signatures() != 1 {
		t.Errorf("%d signatures, want 1: without a cache there is nothing to walk", e.signatures())
	}
}

// TestRun: Run makes a pass at once and returns when ctx ends.
func TestRun(t *testing.T) {
	e := newEnv(t, modeCA)
	e.ask(t, e.addCert(store.StatusValid))
	e.clock.Add(DefaultValidity / 2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	looked := make(chan struct{}, 1)
	e.certs.OnLookup(func(*big.Int) {
		select {
		case looked <- struct{}{}:
		default:
		}
	})
	done := make(chan struct{})
	go func() {
		e.r.Run(ctx)
		close(done)
	}()
	<-looked // the first pass re-signs the due response
	cancel()
	<-done // and Run returns, or the test times out
}
