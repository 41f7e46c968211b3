package ocsp

import (
	"bufio"
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/certgate/certgate/store"
	"github.com/prometheus/client_golang/prometheus/testutil"
	xocsp "golang.org/x/crypto/ocsp"
)

func TestRefused(t *testing.T) {
	main, _ := cas(t)
	e := newEnv(t, modeDelegated)
	serial := e.addCert(store.StatusValid)
	good := reqSpec{issuer: main.cert, serial: serial}.build(t)
	withType := func(ct string) *http.Request {
		req := httptest.NewRequest(http.MethodPost, "/ocsp", bytes.NewReader(good))
		req.Header.Set("Content-Type", ct)
		return req
	}
	malformed, unauthorized := xocsp.MalformedRequestErrorResponse, xocsp.UnauthorizedErrorResponse
	tests := []struct {
		name     string
		req      *http.Request
		wantCode int
		wantBody []byte // nil: a signed response
		wantHdr  map[string]string
	}{
		{name: "ok/POST without Content-Type", req: func() *http.Request {
			r := postReq(good)
			r.Header.Del("Content-Type")
			return r
		}(), wantCode: 200},
		{name: "ok/Content-Type with parameters and upper case", req: withType("Application/OCSP-Request; charset=binary"), wantCode: 200},
		{name: "ok/HTTP/1.0 without Host", req: func() *http.Request {
			r := postReq(good)
			r.Proto, r.ProtoMajor, r.ProtoMinor, r.Host = "HTTP/1.0", 1, 0, ""
			return r
		}(), wantCode: 200},

		{name: "fail/garbage POST", req: postReq([]byte("\x00garbage")), wantCode: 400, wantBody: malformed},
		{name: "fail/truncated POST", req: postReq(good[:len(good)/2]), wantCode: 400, wantBody: malformed},
		{name: "fail/empty POST", req: postReq(nil), wantCode: 400, wantBody: malformed},
		{name: "fail/oversized POST", req: postReq(make([]byte, DefaultMaxBody+1)), wantCode: 413, wantBody: malformed},
		{name: "fail/oversized POST without Content-Length", req: func() *http.Request {
			r := postReq(nil)
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(make([]byte, DefaultMaxBody+1))), -1
			return r
		}(), wantCode: 413, wantBody: malformed},
		{name: "fail/wrong Content-Type", req: withType("application/x-www-form-urlencoded"), wantCode: 400, wantBody: malformed},
		{name: "fail/unparsable Content-Type", req: withType("application/ocsp-request; ="), wantCode: 400, wantBody: malformed},
		{name: "fail/two singleRequests", req: postReq(reqSpec{issuer: main.cert, serial: serial, singles: 2}.build(t)), wantCode: 200, wantBody: malformed},
		{name: "fail/unsupported hash", req: postReq(reqSpec{issuer: main.cert, serial: serial, hash: []int{2, 16, 840, 1, 101, 3, 4, 2, 3}}.build(t)),
			wantCode: 200, wantBody: malformed},
		{name: "fail/GET without request", req: httptest.NewRequest(http.MethodGet, "/ocsp", nil), wantCode: 400, wantBody: malformed},
		{name: "fail/GET not base64", req: httptest.NewRequest(http.MethodGet, "/ocsp/M!!!", nil), wantCode: 400, wantBody: malformed},
		{name: "fail/GET garbage base64", req: httptest.NewRequest(http.MethodGet, "/ocsp/AAAA", nil), wantCode: 400, wantBody: malformed},
		{name: "fail/GET too long", req: httptest.NewRequest(http.MethodGet, "/ocsp/"+strings.Repeat("A", 20000), nil), wantCode: 414, wantBody: malformed},
		{name: "fail/PUT", req: httptest.NewRequest(http.MethodPut, "/ocsp", bytes.NewReader(good)), wantCode: 405,
			wantBody: []byte{}, wantHdr: map[string]string{"Allow": "GET, HEAD, POST"}},
		{name: "fail/foreign issuer", req: postReq(reqSpec{issuer: cas2(t), serial: serial}.build(t)), wantCode: 200, wantBody: unauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.do(tt.req)
			if w.Code != tt.wantCode {
				t.Fatalf("HTTP %d, want %d", w.Code, tt.wantCode)
			}
			if tt.wantBody == nil {
				checkSigned(t, w.Body.Bytes(), main, serial)
				return
			}
			if !bytes.Equal(w.Body.Bytes(), tt.wantBody) {
				t.Errorf("body = %x, want %x", w.Body.Bytes(), tt.wantBody)
			}
			if len(tt.wantBody) > 0 {
				if _, err := xocsp.ParseResponse(w.Body.Bytes(), nil); err == nil {
					t.Error("an error response parsed as a success")
				}
			}
			for k, v := range tt.wantHdr {
				if got := w.Header().Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

// cas2 is the foreign CA's certificate.
func cas2(t testing.TB) *x509.Certificate {
	_, foreign := cas(t)
	return foreign.cert
}

// TestGETEncodings sends one request the ways real clients encode it.
func TestGETEncodings(t *testing.T) {
	main, _ := cas(t)
	e := newEnv(t, modeDelegated)
	// Find a serial whose request encodes with '+', "//" and padding, so
	// every repair is exercised.
	var der []byte
	var b64 string
	var serial *big.Int
	for i := range 100000 {
		serial = big.NewInt(int64(0x10000 + i))
		der = reqSpec{issuer: main.cert, serial: serial}.build(t)
		b64 = base64.StdEncoding.EncodeToString(der)
		if strings.Contains(b64, "+") && strings.Contains(b64, "//") && strings.HasSuffix(b64, "=") {
			break
		}
	}
	if !strings.Contains(b64, "+") || !strings.Contains(b64, "//") || !strings.HasSuffix(b64, "=") {
		t.Fatalf("no serial gives a request with '+', '//' and padding: %s", b64)
	}
	e.certs.Add(store.CertRecord{Serial: serial, Issuer: "corp", Status: store.StatusValid, NotAfter: t0.AddDate(1, 0, 0)})
	escaped := strings.NewReplacer("+", "%2B", "/", "%2F", "=", "%3D").Replace(b64)
	urlSafe := strings.TrimRight(strings.NewReplacer("+", "-", "/", "_").Replace(b64), "=")
	tests := []struct {
		name string
		path string // raw request-target
	}{
		{"ok/escaped", "/ocsp/" + escaped},
		{"ok/unescaped", "/ocsp/" + b64},
		{"ok/plus sent as space", "/ocsp/" + strings.ReplaceAll(b64, "+", "%20")},
		{"ok/double slash after ocsp", "/ocsp//" + escaped},
		{"ok/double slash before ocsp", "//ocsp/" + escaped},
		{"ok/url-safe alphabet without padding", "/ocsp/" + urlSafe},
		{"ok/mounted without prefix", "/" + escaped},
	}
	mux := http.NewServeMux()
	mux.Handle("/", http.NotFoundHandler())
	wrapped := e.r.Wrap(mux)
	for _, tt := range tests {
		for _, via := range []string{"handler", "Wrap"} {
			t.Run(via+"/"+tt.name, func(t *testing.T) {
				if via == "Wrap" && !strings.Contains(tt.path, "ocsp") {
					t.Skip("Wrap routes /ocsp paths only")
				}
				w := httptest.NewRecorder()
				req := httptest.NewRequest(http.MethodGet, tt.path, nil)
				if via == "Wrap" {
					wrapped.ServeHTTP(w, req)
				} else {
					e.r.ServeHTTP(w, req)
				}
				if w.Code != http.StatusOK {
					t.Fatalf("HTTP %d for %s", w.Code, tt.path)
				}
				if p := checkSigned(t, w.Body.Bytes(), main, serial); p.Status != xocsp.Good {
					t.Errorf("status %d, want good", p.Status)
				}
			})
		}
	}
	t.Run("ok/Wrap passes other paths on", func(t *testing.T) {
		w := httptest.NewRecorder()
		wrapped.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/ocspx/"+escaped, nil))
		if w.Code != http.StatusNotFound {
			t.Errorf("HTTP %d, want the mux's 404", w.Code)
		}
	})
}

func TestCacheHeaders(t *testing.T) {
	main, _ := cas(t)
	e := newEnv(t, modeDelegated)
	serial := e.addCert(store.StatusValid)
	der := reqSpec{issuer: main.cert, serial: serial}.build(t)
	first := e.do(getReq(der))
	if first.Code != http.StatusOK {
		t.Fatalf("HTTP %d", first.Code)
	}
	etag := first.Header().Get("ETag")
	e.clock.Add(90 * time.Minute) // still before RefreshAt (12 h)
	thisUpdate, nextUpdate := t0, t0.Add(DefaultValidity)
	wantMaxAge := int64(DefaultValidity/time.Second) - 90*60
	cacheHeaders := map[string]string{
		"Cache-Control": fmt.Sprintf("max-age=%d, public, no-transform, must-revalidate", wantMaxAge),
		"Last-Modified": thisUpdate.Format(http.TimeFormat),
		"Expires":       nextUpdate.Format(http.TimeFormat),
		"ETag":          etag,
	}
	tests := []struct {
		name     string
		method   string
		hdr      map[string]string
		wantCode int
		wantHdr  map[string]string
	}{
		{name: "ok/GET", method: http.MethodGet, wantCode: 200, wantHdr: cacheHeaders},
		{name: "ok/HEAD", method: http.MethodHead, wantCode: 200, wantHdr: cacheHeaders},
		{name: "ok/If-None-Match matches", method: http.MethodGet, hdr: map[string]string{"If-None-Match": etag}, wantCode: 304, wantHdr: cacheHeaders},
		{name: "ok/If-None-Match weak in a list", method: http.MethodGet, hdr: map[string]string{"If-None-Match": `"x", W/` + etag}, wantCode: 304},
		{name: "ok/If-None-Match star", method: http.MethodGet, hdr: map[string]string{"If-None-Match": "*"}, wantCode: 304},
		{name: "ok/If-None-Match differs", method: http.MethodGet, hdr: map[string]string{"If-None-Match": `"abc"`}, wantCode: 200},
		{name: "ok/If-None-Match wins over If-Modified-Since", method: http.MethodGet,
			hdr: map[string]string{"If-None-Match": `"abc"`, "If-Modified-Since": thisUpdate.Format(http.TimeFormat)}, wantCode: 200},
		{name: "ok/If-Modified-Since at thisUpdate", method: http.MethodGet, hdr: map[string]string{"If-Modified-Since": thisUpdate.Format(http.TimeFormat)}, wantCode: 304},
		{name: "ok/If-Modified-Since before thisUpdate", method: http.MethodGet,
			hdr: map[string]string{"If-Modified-Since": thisUpdate.Add(-time.Second).Format(http.TimeFormat)}, wantCode: 200},
		{name: "ok/If-Modified-Since unparsable", method: http.MethodGet, hdr: map[string]string{"If-Modified-Since": "yesterday"}, wantCode: 200},
		{name: "ok/POST has no caching headers", method: http.MethodPost, wantCode: 200,
			wantHdr: map[string]string{"Cache-Control": "", "ETag": "", "Expires": "", "Last-Modified": ""}},
		{name: "ok/POST ignores If-None-Match", method: http.MethodPost, hdr: map[string]string{"If-None-Match": etag}, wantCode: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := getReq(der)
			if tt.method == http.MethodPost {
				req = postReq(der)
			}
			req.Method = tt.method
			for k, v := range tt.hdr {
				req.Header.Set(k, v)
			}
			w := e.do(req)
			if w.Code != tt.wantCode {
				t.Fatalf("HTTP %d, want %d", w.Code, tt.wantCode)
			}
			for k, v := range tt.wantHdr {
				if got := w.Header().Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			switch tt.wantCode {
			case 304:
				if w.Body.Len() != 0 {
					t.Errorf("304 with a %d-byte body", w.Body.Len())
				}
			case 200:
				if !bytes.Equal(w.Body.Bytes(), first.Body.Bytes()) {
					t.Error("a cached answer differs from the first")
				}
				if got := w.Header().Get("Content-Length"); got != strconv.Itoa(first.Body.Len()) {
					t.Errorf("Content-Length = %q, want %d", got, first.Body.Len())
				}
			}
		})
	}
	if got := e.signatures(); got != 1 {
		t.Errorf("%d signatures, want 1: every answer above was a cache hit", got)
	}
}

// TestUncacheableGET: answers bound to a nonce, or "unknown", must not be
// kept by HTTP caches.
func TestUncacheableGET(t *testing.T) {
	main, _ := cas(t)
	e := newEnv(t, modeDelegated)
	good := e.addCert(store.StatusValid)
	tests := []struct {
		name string
		spec reqSpec
	}{
		{"ok/nonce", reqSpec{issuer: main.cert, serial: good, nonce: octets(t, 16)}},
		{"ok/unknown", reqSpec{issuer: main.cert, serial: big.NewInt(77)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := getReq(tt.spec.build(t))
			req.Header.Set("If-None-Match", "*")
			w := e.do(req)
			if w.Code != http.StatusOK {
				t.Fatalf("HTTP %d, want 200 (no 304 for an uncacheable answer)", w.Code)
			}
			if got := w.Header().Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", got)
			}
			if got := w.Header().Get("ETag"); got != "" {
				t.Errorf("ETag = %q, want none", got)
			}
		})
	}
}

// TestHTTP10 talks HTTP/1.0 without Host over a real connection, as old
// RADIUS servers do, and expects a Content-Length, not chunks.
func TestHTTP10(t *testing.T) {
	main, _ := cas(t)
	e := newEnv(t, modeCA)
	serial := e.addCert(store.StatusRevoked)
	der := reqSpec{issuer: main.cert, serial: serial}.build(t)
	srv := httptest.NewServer(e.r)
	defer srv.Close()
	tests := []struct {
		name string
		raw  string
	}{
		{"ok/POST", "POST /ocsp HTTP/1.0\r\nContent-Type: application/ocsp-request\r\nContent-Length: " +
			strconv.Itoa(len(der)) + "\r\n\r\n" + string(der)},
		{"ok/GET", "GET /ocsp/" + base64.StdEncoding.EncodeToString(der) + " HTTP/1.0\r\n\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := io.WriteString(conn, tt.raw); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusOK || resp.ContentLength != int64(len(body)) || len(resp.TransferEncoding) != 0 {
				t.Fatalf("HTTP %d, Content-Length %d for %d bytes, Transfer-Encoding %v", resp.StatusCode, resp.ContentLength, len(body), resp.TransferEncoding)
			}
			if p := checkSigned(t, body, main, serial); p.Status != xocsp.Revoked {
				t.Errorf("status %d, want revoked", p.Status)
			}
		})
	}
}

func TestMetrics(t *testing.T) {
	main, _ := cas(t)
	e := newEnv(t, modeDelegated)
	good := e.addCert(store.StatusValid)
	revoked := e.addCert(store.StatusRevoked)
	send := func(der []byte) { e.do(postReq(der)) }
	send(reqSpec{issuer: main.cert, serial: good}.build(t))                         // good/miss
	send(reqSpec{issuer: main.cert, serial: good}.build(t))                         // good/hit
	send(reqSpec{issuer: main.cert, serial: revoked, nonce: octets(t, 8)}.build(t)) // revoked/nonce
	send(reqSpec{issuer: main.cert, serial: big.NewInt(5)}.build(t))                // unknown/miss
	send(reqSpec{issuer: cas2(t), serial: good}.build(t))                           // unauthorized/none
	send([]byte("junk"))                                                            // malformed/none
	e.certs.Fail(io.ErrUnexpectedEOF)
	send(reqSpec{issuer: main.cert, serial: revoked}.build(t)) // internal/miss
	want := `
# HELP certgate_ocsp_responses_total OCSP responses by status (good, revoked, unknown, malformed, unauthorized, internal, trylater) and cache (hit, miss, nonce, stale, none).
# TYPE certgate_ocsp_responses_total counter
certgate_ocsp_responses_total{cache="hit",status="good"} 1
certgate_ocsp_responses_total{cache="miss",status="good"} 1
certgate_ocsp_responses_total{cache="miss",status="internal"} 1
certgate_ocsp_responses_total{cache="miss",status="unknown"} 1
certgate_ocsp_responses_total{cache="none",status="malformed"} 1
certgate_ocsp_responses_total{cache="none",status="unauthorized"} 1
certgate_ocsp_responses_total{cache="nonce",status="revoked"} 1
# HELP certgate_ocsp_sign_total OCSP response signatures by result (ok, error); cache hits sign nothing.
# TYPE certgate_ocsp_sign_total counter
certgate_ocsp_sign_total{result="ok"} 3
`
	if err := testutil.GatherAndCompare(e.reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

func TestNilMetrics(t *testing.T) {
	main, _ := cas(t)
	e := newEnv(t, modeCA, func(o *Options, _ *SignerConfig) { o.Metrics = nil })
	serial := e.addCert(store.StatusValid)
	if w := e.do(postReq(reqSpec{issuer: main.cert, serial: serial}.build(t))); w.Code != http.StatusOK {
		t.Fatalf("HTTP %d", w.Code)
	}
	if w := e.do(postReq([]byte("junk"))); w.Code != http.StatusBadRequest {
		t.Fatalf("HTTP %d", w.Code)
	}
}

func TestIsPath(t *testing.T) {
	tests := []struct {
		path string
		want bool
	}{
		{"/ocsp", true},
		{"/ocsp/", true},
		{"/ocsp/MEIw+a/b==", true},
		{"//ocsp//MEIw", true},
		{"/ocspx", false},
		{"/ocspx/MEIw", false},
		{"/OCSP/MEIw", false},
		{"/scep", false},
		{"/", false},
		{"", false},
	}
	for _, tt := range tests {
		name := "ok/" + tt.path
		if !tt.want {
			name = "fail/" + tt.path
		}
		t.Run(name, func(t *testing.T) {
			if got := IsPath(tt.path); got != tt.want {
				t.Errorf("IsPath(%q) = %v, want %v", tt.path, got, tt.want)
			}
		})
	}
}
