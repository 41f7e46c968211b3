package ocsp

import (
	"bytes"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/certgate/certgate/store"
)

// benchEnv has one good certificate whose response is already cached.
func benchEnv(b *testing.B) (*env, []byte) {
	e := newEnv(b, modeDelegated)
	serial := e.addCert(store.StatusValid)
	der := reqSpec{issuer: e.ca.cert, serial: serial}.build(b)
	if w := e.do(postReq(der)); w.Code != http.StatusOK {
		b.Fatalf("HTTP %d", w.Code)
	}
	return e, der
}

func BenchmarkCachedGET(b *testing.B) {
	e, der := benchEnv(b)
	req := getReq(der)
	before := e.signatures()
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		e.r.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("HTTP %d", w.Code)
		}
	}
	if e.signatures() != before {
		b.Fatal("a cache hit signed")
	}
}

func BenchmarkCachedPOST(b *testing.B) {
	e, der := benchEnv(b)
	before := e.signatures()
	body := bytes.NewReader(der)
	req := postReq(der)
	b.ReportAllocs()
	for b.Loop() {
		body.Reset(der)
		req.Body = readCloser{body}
		w := httptest.NewRecorder()
		e.r.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("HTTP %d", w.Code)
		}
	}
	if e.signatures() != before {
		b.Fatal("a cache hit signed")
	}
}

// BenchmarkMiss asks about a new certificate each time: store lookup,
// ECDSA P-256 signature, store.Cache write.
func BenchmarkMiss(b *testing.B) {
	e := newEnv(b, modeDelegated)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		serial := big.NewInt(int64(1_000_000 + i))
		e.certs.Add(store.CertRecord{Serial: serial, Issuer: "corp", Status: store.StatusValid, NotAfter: t0.AddDate(1, 0, 0)})
		req := postReq(reqSpec{issuer: e.ca.cert, serial: serial}.build(b))
		b.StartTimer()
		w := httptest.NewRecorder()
		e.r.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("HTTP %d", w.Code)
		}
	}
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }
