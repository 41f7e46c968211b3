package ocsp

import (
	"bytes"
	"context"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certgate/certgate/store"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	xocsp "golang.org/x/crypto/ocsp"
)

// TestSigningSlots: with the only signing slot held by a slow signature, a
// cached serial is still answered, while a new serial and a nonce request
// get tryLater with 503 once SigningWait passes; the refresher is not
// held up; when the slot frees, the new serial is answered.
func TestSigningSlots(t *testing.T) {
	const wait = 50 * time.Millisecond
	e := newEnv(t, modeCA, func(o *Options, _ *SignerConfig) { o.MaxSigning, o.SigningWait = 1, wait })
	cached := e.addCert(store.StatusValid)
	if w := e.do(postReq(reqSpec{issuer: e.ca.cert, serial: cached}.build(t))); w.Code != http.StatusOK {
		t.Fatalf("warm-up: HTTP %d", w.Code)
	}

	slow := e.addCert(store.StatusValid)
	entered, unblock := make(chan struct{}), make(chan struct{})
	var held atomic.Bool
	hold := func() { // the first signature only; later ones pass
		if held.CompareAndSwap(false, true) {
			close(entered)
			<-unblock
		}
	}
	e.signHook.Store(&hold)
	slowDone := make(chan *httptest.ResponseRecorder)
	go func() { slowDone <- e.do(postReq(reqSpec{issuer: e.ca.cert, serial: slow}.build(t))) }()
	<-entered

	t.Run("ok/cached answer needs no slot", func(t *testing.T) {
		w := e.do(postReq(reqSpec{issuer: e.ca.cert, serial: cached}.build(t)))
		if w.Code != http.StatusOK {
			t.Fatalf("HTTP %d, want 200", w.Code)
		}
		if r := checkSigned(t, w.Body.Bytes(), e.ca, cached); r.Status != xocsp.Good {
			t.Fatalf("status %d, want good", r.Status)
		}
	})
	fresh := e.addCert(store.StatusValid)
	for _, tc := range []struct {
		name string
		spec reqSpec
	}{
		{"fail/new serial waits, then tryLater", reqSpec{issuer: e.ca.cert, serial: fresh}},
		{"fail/nonce request waits, then tryLater", reqSpec{issuer: e.ca.cert, serial: cached, nonce: octets(t, 16)}},
		{"fail/unknown serial waits, then tryLater", reqSpec{issuer: e.ca.cert, serial: big.NewInt(0x7fff_ffff)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			w := e.do(postReq(tc.spec.build(t)))
			if took := time.Since(start); took < wait {
				t.Errorf("answered after %s, before SigningWait %s", took, wait)
			}
			if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "1" {
				t.Errorf("HTTP %d, Retry-After %q; want 503 and 1", w.Code, w.Header().Get("Retry-After"))
			}
			if !bytes.Equal(w.Body.Bytes(), xocsp.TryLaterErrorResponse) {
				t.Errorf("body % x, want tryLater", w.Body.Bytes())
			}
		})
	}
	if got := testutil.ToFloat64(e.r.metrics.responses.With(prometheus.Labels{"status": "trylater", "cache": "none"})); got != 3 {
		t.Errorf("trylater responses counted %v, want 3", got)
	}

	t.Run("ok/refresher takes no slot", func(t *testing.T) {
		e.clock.Add(13 * time.Hour) // past the cached response's RefreshAt
		before := e.signatures()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := e.r.Refresh(ctx); err != nil {
			t.Fatalf("Refresh: %v", err)
		}
		if e.signatures() == before {
			t.Error("Refresh signed nothing while the slot was held")
		}
	})

	close(unblock)
	if w := <-slowDone; w.Code != http.StatusOK {
		t.Fatalf("slow miss: HTTP %d", w.Code)
	}
	t.Run("ok/slot free again", func(t *testing.T) {
		w := e.do(postReq(reqSpec{issuer: e.ca.cert, serial: fresh}.build(t)))
		if w.Code != http.StatusOK {
			t.Fatalf("HTTP %d, want 200", w.Code)
		}
		checkSigned(t, w.Body.Bytes(), e.ca, fresh)
	})
}
