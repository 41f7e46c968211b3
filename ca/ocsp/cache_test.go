package ocsp

import (
	"context"
	"errors"
	"math/big"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/certgate/certgate/ca/ocsp/ocsptest"
	"github.com/certgate/certgate/store"
	xocsp "golang.org/x/crypto/ocsp"
)

// ask POSTs a request for serial and returns the decoded answer.
func (e *env) ask(t *testing.T, serial *big.Int, spec ...reqSpec) *parsed {
	t.Helper()
	s := reqSpec{issuer: e.ca.cert, serial: serial}
	if len(spec) > 0 {
		s = spec[0]
	}
	w := e.do(postReq(s.build(t)))
	if w.Code != http.StatusOK {
		t.Fatalf("HTTP %d, body %x", w.Code, w.Body.Bytes())
	}
	return checkSigned(t, w.Body.Bytes(), e.ca, serial)
}

func (e *env) blob(t *testing.T, key string) *store.Blob {
	t.Helper()
	b, err := e.cache.GetBlob(context.Background(), store.BlobOCSP, key)
	if err != nil {
		t.Fatalf("GetBlob(%s): %v", key, err)
	}
	return b
}

func TestCacheHitSignsNothing(t *testing.T) {
	for _, mode := range []string{modeDelegated, modeCA} {
		t.Run(mode, func(t *testing.T) {
			e := newEnv(t, mode)
			serial := e.addCert(store.StatusValid)
			key := cacheKey("corp", serial, hashSHA1)
			steps := []struct {
				name           string
				spec           reqSpec
				wantSigns      int64
				wantLookups    int
				wantThisUpdate time.Time
			}{
				{name: "miss signs and stores", wantSigns: 1, wantLookups: 1, wantThisUpdate: t0},
				{name: "hit signs nothing and reads nothing", wantSigns: 1, wantLookups: 1, wantThisUpdate: t0},
				{name: "sha256 CertID is its own entry", spec: reqSpec{hash: oidSHA256}, wantSigns: 2, wantLookups: 2, wantThisUpdate: t0},
				{name: "sha256 hit", spec: reqSpec{hash: oidSHA256}, wantSigns: 2, wantLookups: 2, wantThisUpdate: t0},
				{name: "nonce signs afresh", spec: reqSpec{nonce: octets(t, 16)}, wantSigns: 3, wantLookups: 3, wantThisUpdate: t0.Add(time.Minute)},
				{name: "nonce again signs again", spec: reqSpec{nonce: octets(t, 16)}, wantSigns: 4, wantLookups: 4, wantThisUpdate: t0.Add(2 * time.Minute)},
				{name: "no nonce: still the first response", wantSigns: 4, wantLookups: 4, wantThisUpdate: t0},
			}
			for i, st := range steps {
				if i >= 4 {
					e.clock.Add(time.Minute)
				}
				spec := st.spec
				spec.issuer, spec.serial = e.ca.cert, serial
				p := e.ask(t, serial, spec)
				if got := e.signatures(); got != st.wantSigns {
					t.Errorf("%s: %d signatures, want %d", st.name, got, st.wantSigns)
				}
				if got := e.certs.Lookups(); got != st.wantLookups {
					t.Errorf("%s: %d store lookups, want %d", st.name, got, st.wantLookups)
				}
				if !p.ThisUpdate.Equal(st.wantThisUpdate) {
					t.Errorf("%s: thisUpdate %s, want %s", st.name, p.ThisUpdate, st.wantThisUpdate)
				}
			}
			b := e.blob(t, key)
			if b.Status != "good" || !b.ThisUpdate.Equal(t0) || !b.NextUpdate.Equal(t0.Add(DefaultValidity)) || !b.RefreshAt.Equal(t0.Add(DefaultValidity/2)) {
				t.Errorf("stored blob %+v: want good, thisUpdate t0, nextUpdate t0+24h, refreshAt t0+12h", b)
			}
			if n := e.cache.Len(store.BlobOCSP); n != 2 {
				t.Errorf("%d blobs stored, want 2 (SHA-1 and SHA-256; nonce answers are not stored)", n)
			}
		})
	}
}

// TestStoreCacheSurvivesRestart: a new Responder on the same store.Cache
// serves the stored response without signing or reading the store.
func TestStoreCacheSurvivesRestart(t *testing.T) {
	first := newEnv(t, modeCA)
	serial := first.addCert(store.StatusValid)
	want := first.ask(t, serial)
	second := newEnv(t, modeCA, func(o *Options, _ *SignerConfig) { o.Cache = first.cache; o.Source = first.certs })
	got := second.ask(t, serial)
	if second.signatures() != 0 || first.certs.Lookups() != 1 {
		t.Errorf("restart: %d signatures and %d lookups in all, want 0 and 1", second.signatures(), first.certs.Lookups())
	}
	if string(got.Raw) != string(want.Raw) {
		t.Error("the restarted responder did not serve the stored response")
	}
}

func TestUnknownNotCached(t *testing.T) {
	e := newEnv(t, modeDelegated)
	serial := big.NewInt(0x5151)
	if p := e.ask(t, serial); p.Status != xocsp.Unknown {
		t.Fatalf("status %d, want unknown", p.Status)
	}
	if n := e.cache.Len(store.BlobOCSP); n != 0 {
		t.Errorf("%d blobs after an unknown answer, want 0", n)
	}
	e.certs.Add(store.CertRecord{Serial: serial, Issuer: "corp", Status: store.StatusValid, NotAfter: t0.AddDate(1, 0, 0)})
	if p := e.ask(t, serial); p.Status != xocsp.Good {
		t.Errorf("status %d once issued, want good at once", p.Status)
	}
}

func TestInvalidate(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name         string
		failDelete   bool
		restart      bool // ask a fresh Responder sharing the cache afterwards
		wantErr      bool
		wantAfter    int
		wantBlobGone bool
	}{
		{name: "ok/next answer is revoked", wantAfter: xocsp.Revoked},
		{name: "ok/removes the stored response", restart: true, wantAfter: xocsp.Revoked, wantBlobGone: true},
		{name: "fail/delete fails: still revoked here", failDelete: true, wantErr: true, wantAfter: xocsp.Revoked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, modeDelegated)
			serial := e.addCert(store.StatusValid)
			e.ask(t, serial)
			e.ask(t, serial, reqSpec{issuer: e.ca.cert, serial: serial, hash: oidSHA256})
			if err := e.certs.Revoke(serial, xocsp.Superseded, t0); err != nil {
				t.Fatal(err)
			}
			if p := e.ask(t, serial); p.Status != xocsp.Good {
				t.Fatalf("before Invalidate: status %d; the cache should still answer good (that is why Invalidate exists)", p.Status)
			}
			e.cache.Fail(ocsptest.OpDelete, tt.failDelete)
			err := e.r.Invalidate(ctx, "corp", serial)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Invalidate error = %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr && !errors.Is(err, ocsptest.ErrInjected) {
				t.Errorf("Invalidate error = %v, want it to wrap the cache's", err)
			}
			if tt.wantBlobGone && e.cache.Len(store.BlobOCSP) != 0 {
				t.Errorf("%d blobs left after Invalidate", e.cache.Len(store.BlobOCSP))
			}
			asker := e
			if tt.restart {
				asker = newEnv(t, modeDelegated, func(o *Options, _ *SignerConfig) { o.Cache = e.cache; o.Source = e.certs })
			}
			for _, h := range []reqSpec{{}, {hash: oidSHA256}} {
				h.issuer, h.serial = e.ca.cert, serial
				p := asker.ask(t, serial, h)
				if p.Status != tt.wantAfter || p.RevocationReason != xocsp.Superseded {
					t.Errorf("after Invalidate (%v): status %d reason %d, want %d reason %d", h.hash, p.Status, p.RevocationReason, tt.wantAfter, xocsp.Superseded)
				}
			}
		})
	}
}

// TestInvalidateDuringMiss: a response signed from a status read before
// a revocation and its Invalidate must not be cached after them.
func TestInvalidateDuringMiss(t *testing.T) {
	e := newEnv(t, modeCA)
	serial := e.addCert(store.StatusValid)
	read, resume := make(chan struct{}), make(chan struct{})
	var once sync.Once
	e.certs.OnLookup(func(*big.Int) {
		once.Do(func() { // the first lookup has read "valid"; hold it
			close(read)
			<-resume
		})
	})
	answer := make(chan []byte)
	go func() { answer <- e.do(postReq(reqSpec{issuer: e.ca.cert, serial: serial}.build(t))).Body.Bytes() }()
	<-read
	if err := e.certs.Revoke(serial, xocsp.KeyCompromise, t0); err != nil {
		t.Fatal(err)
	}
	if err := e.r.Invalidate(context.Background(), "corp", serial); err != nil {
		t.Fatal(err)
	}
	close(resume)
	if p := checkSigned(t, <-answer, e.ca, serial); p.Status != xocsp.Revoked {
		t.Errorf("racing answer: status %d, want revoked (the stale read is looked up again)", p.Status)
	}
	if n := e.cache.Len(store.BlobOCSP); n != 0 {
		t.Errorf("%d blobs: the racing answer was cached", n)
	}
	if p := e.ask(t, serial); p.Status != xocsp.Revoked {
		t.Errorf("next answer: status %d, want revoked", p.Status)
	}
}

func TestRefreshAtPassed(t *testing.T) {
	tests := []struct {
		name       string
		advance    time.Duration
		failSource bool
		wantCode   int
		wantThis   time.Time
		wantSigns  int64
	}{
		{name: "ok/before RefreshAt: cached", advance: DefaultValidity/2 - time.Second, wantCode: 200, wantThis: t0, wantSigns: 1},
		{name: "ok/at RefreshAt: re-signed", advance: DefaultValidity / 2, wantCode: 200, wantThis: t0.Add(DefaultValidity / 2), wantSigns: 2},
		{name: "ok/re-sign fails before nextUpdate: previous served", advance: DefaultValidity/2 + time.Hour, failSource: true,
			wantCode: 200, wantThis: t0, wantSigns: 1},
		{name: "fail/re-sign fails after nextUpdate", advance: DefaultValidity, failSource: true, wantCode: 500, wantSigns: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, modeDelegated)
			serial := e.addCert(store.StatusValid)
			e.ask(t, serial)
			e.clock.Add(tt.advance)
			if tt.failSource {
				e.certs.Fail(errors.New("disk on fire"))
			}
			w := e.do(postReq(reqSpec{issuer: e.ca.cert, serial: serial}.build(t)))
			if w.Code != tt.wantCode {
				t.Fatalf("HTTP %d, want %d", w.Code, tt.wantCode)
			}
			if got := e.signatures(); got != tt.wantSigns {
				t.Errorf("%d signatures, want %d", got, tt.wantSigns)
			}
			if tt.wantCode != 200 {
				if w.Body.String() != string(xocsp.InternalErrorErrorResponse) {
					t.Errorf("body %x, want internalError", w.Body.Bytes())
				}
				return
			}
			if p := checkSigned(t, w.Body.Bytes(), e.ca, serial); !p.ThisUpdate.Equal(tt.wantThis) {
				t.Errorf("thisUpdate %s, want %s", p.ThisUpdate, tt.wantThis)
			}
		})
	}
}

// TestStaleBlobAfterRestart: a stored response past RefreshAt is re-signed
// by a new process, and served if that fails.
func TestStaleBlobAfterRestart(t *testing.T) {
	first := newEnv(t, modeCA)
	serial := first.addCert(store.StatusValid)
	first.ask(t, serial)
	second := newEnv(t, modeCA, func(o *Options, _ *SignerConfig) { o.Cache = first.cache; o.Source = first.certs })
	second.clock.Add(DefaultValidity/2 + time.Minute)
	first.certs.Fail(errors.New("store down"))
	if p := second.ask(t, serial); !p.ThisUpdate.Equal(t0) || second.signatures() != 0 {
		t.Errorf("store down: thisUpdate %s after %d signatures, want the stored response", p.ThisUpdate, second.signatures())
	}
	first.certs.Fail(nil)
	if p := second.ask(t, serial); !p.ThisUpdate.Equal(second.clock.Now()) || second.signatures() != 1 {
		t.Errorf("store back: thisUpdate %s after %d signatures, want a fresh one", p.ThisUpdate, second.signatures())
	}
}

func TestCacheFailures(t *testing.T) {
	tests := []struct {
		name string
		op   ocsptest.Op
	}{
		{"ok/GetBlob fails: signed anew", ocsptest.OpGet},
		{"ok/PutBlob fails: served from memory", ocsptest.OpPut},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, modeCA)
			serial := e.addCert(store.StatusValid)
			e.cache.Fail(tt.op, true)
			for range 2 {
				if p := e.ask(t, serial); p.Status != xocsp.Good {
					t.Fatalf("status %d", p.Status)
				}
			}
			if got := e.signatures(); got != 1 {
				t.Errorf("%d signatures, want 1 (the second answer comes from memory)", got)
			}
		})
	}
}

func TestMemoryBound(t *testing.T) {
	e := newEnv(t, modeCA, func(o *Options, _ *SignerConfig) { o.MemEntries = memShards }) // one per shard
	var serials []*big.Int
	for range 4 * memShards {
		s := e.addCert(store.StatusValid)
		serials = append(serials, s)
		e.ask(t, s)
	}
	total := 0
	for i := range e.r.mem.shards {
		total += len(e.r.mem.shards[i].m)
	}
	if total > memShards {
		t.Errorf("%d entries in memory, want at most %d", total, memShards)
	}
	// Evicted entries come back from store.Cache without signing.
	before := e.signatures()
	for _, s := range serials {
		e.ask(t, s)
	}
	if got := e.signatures(); got != before {
		t.Errorf("%d signatures re-reading evicted entries, want none", got-before)
	}
}

// TestDropStored: responses deleted without a Responder (an offline
// revoke) are re-signed with the new status by the next Responder.
func TestDropStored(t *testing.T) {
	e := newEnv(t, modeDelegated)
	serial := e.addCert(store.StatusValid)
	e.ask(t, serial)
	e.ask(t, serial, reqSpec{issuer: e.ca.cert, serial: serial, hash: oidSHA256})
	if err := e.certs.Revoke(serial, xocsp.KeyCompromise, t0); err != nil {
		t.Fatal(err)
	}
	if err := DropStored(context.Background(), e.cache, "corp", serial); err != nil {
		t.Fatal(err)
	}
	if n := e.cache.Len(store.BlobOCSP); n != 0 {
		t.Fatalf("%d blobs left after DropStored", n)
	}
	next := newEnv(t, modeDelegated, func(o *Options, _ *SignerConfig) { o.Cache = e.cache; o.Source = e.certs })
	for _, h := range []reqSpec{{}, {hash: oidSHA256}} {
		h.issuer, h.serial = e.ca.cert, serial
		if p := next.ask(t, serial, h); p.Status != xocsp.Revoked {
			t.Errorf("after DropStored and restart (%v): status %d, want revoked", h.hash, p.Status)
		}
	}
}
