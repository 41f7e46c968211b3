package ocsp

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"math/big"
	"net/http"
	"net/textproto"
	"reflect"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/certgate/certgate/store"
)

// readyHeader parses AppendHeader's lines as an HTTP client would.
func readyHeader(t *testing.T, rd Ready) http.Header {
	t.Helper()
	raw := append(rd.AppendHeader(nil), "\r\n"...)
	h, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(raw))).ReadMIMEHeader()
	if err != nil {
		t.Fatalf("AppendHeader wrote %q: %v", raw, err)
	}
	return http.Header(h)
}

// A ready answer is exactly what ServeHTTP sends for the same request,
// status, headers and body, and is counted as a cache hit once.
func TestAnswerReadyMatchesServeHTTP(t *testing.T) {
	e := newEnv(t, modeDelegated)
	tests := []struct {
		name   string
		status store.Status
		get    bool
		want   string
	}{
		{name: "POST good", status: store.StatusValid, want: "good"},
		{name: "GET good", status: store.StatusValid, get: true, want: "good"},
		{name: "POST revoked", status: store.StatusRevoked, want: "revoked"},
		{name: "GET revoked", status: store.StatusRevoked, get: true, want: "revoked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			serial := e.addCert(tt.status)
			der := reqSpec{issuer: e.ca.cert, serial: serial}.build(t)
			req, path := postReq(der), ""
			if tt.get {
				req = getReq(der)
				path = "/ocsp/" + base64.StdEncoding.EncodeToString(der)
			}
			if w := e.do(req); w.Code != http.StatusOK {
				t.Fatalf("warming: HTTP %d", w.Code)
			}
			if tt.get {
				req = getReq(der)
			} else {
				req = postReq(der)
			}
			want := e.do(req)
			hits := e.r.metrics.responses.With(prometheus.Labels{"status": tt.want, "cache": "hit"})
			before, signs := testutil.ToFloat64(hits), e.signatures()

			rd, ok := e.r.AnswerReady(tt.get, path, der)
			if !ok {
				t.Fatal("AnswerReady: not ready after the response was cached")
			}
			if got := testutil.ToFloat64(hits); got != before+1 {
				t.Errorf("hits counted %v, want %v", got, before+1)
			}
			if e.signatures() != signs {
				t.Error("a ready answer signed")
			}
			if !bytes.Equal(rd.Body(), want.Body.Bytes()) {
				t.Error("body differs from ServeHTTP's")
			}
			if got := readyHeader(t, rd); !reflect.DeepEqual(got, want.Header()) {
				t.Errorf("headers\n got %v\nwant %v", got, want.Header())
			}
		})
	}
}

// Whatever needs more than a copy of a cached response is left to
// ServeHTTP, with nothing counted or signed.
func TestAnswerReadyDeclines(t *testing.T) {
	e := newEnv(t, modeDelegated)
	warm := e.addCert(store.StatusValid)
	warmDER := reqSpec{issuer: e.ca.cert, serial: warm}.build(t)
	if w := e.do(postReq(warmDER)); w.Code != http.StatusOK {
		t.Fatalf("warming: HTTP %d", w.Code)
	}
	cold := e.addCert(store.StatusValid)
	unknownDER := reqSpec{issuer: e.ca.cert, serial: big.NewInt(0x7fff0001)}.build(t)
	if w := e.do(postReq(unknownDER)); w.Code != http.StatusOK {
		t.Fatalf("asking about an unknown serial: HTTP %d", w.Code)
	}
	tests := []struct {
		name string
		get  bool
		path string
		der  []byte
	}{
		{name: "not yet cached", der: reqSpec{issuer: e.ca.cert, serial: cold}.build(t)},
		{name: "never issued (unknown is never cached)", der: unknownDER},
		{name: "nonce", der: reqSpec{issuer: e.ca.cert, serial: warm, nonce: octets(t, 16)}.build(t)},
		{name: "foreign issuer", der: reqSpec{issuer: cas2(t), serial: warm}.build(t)},
		{name: "SHA-256 CertID not cached", der: reqSpec{issuer: e.ca.cert, serial: warm, hash: oidSHA256}.build(t)},
		{name: "garbage", der: []byte("not DER")},
		{name: "empty", der: nil},
		{name: "oversized", der: append(bytes.Clone(warmDER), make([]byte, DefaultMaxBody)...)},
		{name: "GET not base64", get: true, path: "/ocsp/!!!"},
		{name: "GET without a request", get: true, path: "/ocsp/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := e.reg.Gather()
			signs := e.signatures()
			if _, ok := e.r.AnswerReady(tt.get, tt.path, tt.der); ok {
				t.Fatal("answered")
			}
			after, _ := e.reg.Gather()
			if !reflect.DeepEqual(before, after) {
				t.Error("metrics changed")
			}
			if e.signatures() != signs {
				t.Error("signed")
			}
		})
	}
	t.Run("past RefreshAt", func(t *testing.T) {
		e.clock.Add(DefaultValidity/2 + 1)
		if _, ok := e.r.AnswerReady(false, "", warmDER); ok {
			t.Fatal("answered a response due for refresh")
		}
	})
}
