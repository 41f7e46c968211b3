package crl

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestHandler(t *testing.T) {
	h := newHarness(t, nil)
	blob, err := h.s.Current(context.Background())
	if err != nil {
		t.Fatalf("Current: %v", err)
	}
	<-h.builds
	h.clk.add(time.Hour) // an hour into the CRL's 24
	sum := sha256.Sum256(blob.Data)
	etag := `"` + hex.EncodeToString(sum[:]) + `"`
	lastMod := blob.ThisUpdate.UTC().Format(http.TimeFormat)
	handler, err := NewHandler(h.s)
	if err != nil {
		t.Fatalf("NewHandler: %v", err)
	}

	cached := map[string]string{
		"ETag":          etag,
		"Last-Modified": lastMod,
		"Expires":       blob.NextUpdate.UTC().Format(http.TimeFormat),
		"Cache-Control": "public, max-age=82800", // 23h left
	}
	full := map[string]string{
		"Content-Type":   "application/pkix-crl",
		"Content-Length": strconv.Itoa(len(blob.Data)),
	}
	for k, v := range cached {
		full[k] = v
	}
	for _, tc := range []struct {
		name       string
		method     string
		path       string
		header     map[string]string
		wantStatus int
		wantHeader map[string]string
		wantBody   bool
	}{
		{name: "ok/get", path: "/crl/test-ca.crl", wantStatus: 200, wantHeader: full, wantBody: true},
		{name: "ok/head", method: "HEAD", path: "/crl/test-ca.crl", wantStatus: 200, wantHeader: full},
		{name: "ok/if-none-match", path: "/crl/test-ca.crl", header: map[string]string{"If-None-Match": etag}, wantStatus: 304, wantHeader: cached},
		{name: "ok/if-none-match weak", path: "/crl/test-ca.crl", header: map[string]string{"If-None-Match": "W/" + etag}, wantStatus: 304, wantHeader: cached},
		{name: "ok/if-none-match in a list", path: "/crl/test-ca.crl", header: map[string]string{"If-None-Match": `"old", ` + etag}, wantStatus: 304, wantHeader: cached},
		{name: "ok/if-none-match star", path: "/crl/test-ca.crl", header: map[string]string{"If-None-Match": "*"}, wantStatus: 304, wantHeader: cached},
		{name: "ok/if-none-match of an old CRL", path: "/crl/test-ca.crl", header: map[string]string{"If-None-Match": `"old"`}, wantStatus: 200, wantHeader: full, wantBody: true},
		{name: "ok/if-modified-since thisUpdate", path: "/crl/test-ca.crl", header: map[string]string{"If-Modified-Since": lastMod}, wantStatus: 304, wantHeader: cached},
		{name: "ok/if-modified-since before thisUpdate", path: "/crl/test-ca.crl", header: map[string]string{"If-Modified-Since": blob.ThisUpdate.Add(-time.Second).Format(http.TimeFormat)}, wantStatus: 200, wantHeader: full, wantBody: true},
		{name: "ok/if-none-match wins over if-modified-since", path: "/crl/test-ca.crl", header: map[string]string{"If-None-Match": `"old"`, "If-Modified-Since": lastMod}, wantStatus: 200, wantHeader: full, wantBody: true},
		{name: "fail/unknown CA", path: "/crl/other.crl", wantStatus: 404},
		{name: "fail/no .crl suffix", path: "/crl/test-ca", wantStatus: 404},
		{name: "fail/other suffix", path: "/crl/test-ca.crt", wantStatus: 404},
		{name: "fail/nested path", path: "/crl/x/test-ca.crl", wantStatus: 404},
		{name: "fail/empty name", path: "/crl/.crl", wantStatus: 404},
		{name: "fail/outside the mount", path: "/test-ca.crl", wantStatus: 404},
		{name: "fail/post", method: "POST", path: "/crl/test-ca.crl", wantStatus: 405, wantHeader: map[string]string{"Allow": "GET, HEAD"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = "GET"
			}
			req := httptest.NewRequest(method, tc.path, nil)
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, req)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status = %d, want %d", rec.Code, tc.wantStatus)
			}
			for k, v := range tc.wantHeader {
				if got := rec.Header().Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if tc.wantStatus == 304 && rec.Header().Get("Content-Type") != "" {
				t.Errorf("304 carries Content-Type %q", rec.Header().Get("Content-Type"))
			}
			gotBody := rec.Body.String()
			switch {
			case tc.wantBody && gotBody != string(blob.Data):
				t.Errorf("body is not the CRL (%d bytes)", len(gotBody))
			case !tc.wantBody && tc.wantStatus < 400 && gotBody != "":
				t.Errorf("body = %d bytes, want none", len(gotBody))
			}
		})
	}
	if n := len(h.builds); n != 0 {
		t.Fatalf("serving a cached CRL built %d more", n)
	}
}

func TestHandlerBuildsWhenNothingCached(t *testing.T) {
	h := newHarness(t, nil)
	handler, err := NewHandler(h.s)
	if err != nil {
		t.Fatalf("NewHandler: %v", err)
	}
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, httptest.NewRequest("GET", "/crl/test-ca.crl", nil))
	if rec.Code != 200 {
		t.Fatalf("status = %d, want 200", rec.Code)
	}
	blob := h.wantBuild(t, 1)
	if rec.Body.String() != string(blob.Data) {
		t.Fatalf("body is not the CRL just built")
	}
	if got := rec.Header().Get("Cache-Control"); got != "public, max-age=86400" {
		t.Fatalf("Cache-Control = %q, want the full 24h", got)
	}
}

func TestHandlerBuildFails(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.Source = &memSource{err: errSource} })
	handler, err := NewHandler(h.s)
	if err != nil {
		t.Fatalf("NewHandler: %v", err)
	}
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, httptest.NewRequest("GET", "/crl/test-ca.crl", nil))
	if rec.Code != 503 || rec.Header().Get("Retry-After") != "1" {
		t.Fatalf("status %d, Retry-After %q; want 503, 1", rec.Code, rec.Header().Get("Retry-After"))
	}
	if strings.Contains(rec.Body.String(), "disk on fire") {
		t.Fatalf("the client sees the internal error: %q", rec.Body.String())
	}
	if !strings.Contains(h.logs.String(), "disk on fire") {
		t.Fatalf("the error is not logged:\n%s", h.logs)
	}
}

func TestHandlerServesEachCA(t *testing.T) {
	a := newHarness(t, nil)
	other := newTestIssuer(t, "second", nil)
	b := newHarness(t, func(o *Options) { o.CA = other })
	handler, err := NewHandler(a.s, b.s)
	if err != nil {
		t.Fatalf("NewHandler: %v", err)
	}
	for _, tc := range []struct {
		path string
		h    *harness
	}{{"/crl/test-ca.crl", a}, {"/crl/second.crl", b}} {
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, httptest.NewRequest("GET", tc.path, nil))
		if rec.Code != 200 {
			t.Fatalf("%s: status %d", tc.path, rec.Code)
		}
		r := <-tc.h.builds
		if r.err != nil || rec.Body.String() != string(r.blob.Data) {
			t.Fatalf("%s: not the CRL of its CA (build error %v)", tc.path, r.err)
		}
	}
}

func TestNewHandlerErrors(t *testing.T) {
	h := newHarness(t, nil)
	for _, tc := range []struct {
		name   string
		scheds []*Scheduler
		want   string
	}{
		{"fail/nil scheduler", []*Scheduler{h.s, nil}, "crl: handler: scheduler 1 is nil"},
		{"fail/two schedulers for one CA", []*Scheduler{h.s, h.s}, `crl: handler: two schedulers for CA "test-ca"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewHandler(tc.scheds...); err == nil || err.Error() != tc.want {
				t.Fatalf("error = %v, want %q", err, tc.want)
			}
		})
	}
}
