//go:build integration

package integration

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// TestOCSPOpenSSL: openssl ocsp gets good, revoked (with reason and time)
// and unknown from certgate, over POST and GET, with and without a nonce,
// from a delegated responder (trusted through the chain) and from the CA
// key (trusted with -VAfile ca.crt alone, which a delegated responder
// would fail).
func TestOCSPOpenSSL(t *testing.T) {
	for _, signer := range []struct {
		name   string
		env    []string
		verify func(e *revocationEnv) []string
	}{
		{"delegated", nil, func(e *revocationEnv) []string { return []string{"-CAfile", e.chain} }},
		{"ca", []string{"CERTGATE_OCSP_SIGNER=ca"}, func(e *revocationEnv) []string { return []string{"-VAfile", e.issuer} }},
	} {
		t.Run(signer.name, func(t *testing.T) {
			e := newRevocationEnv(t, signer.env...)
			_, goodFile := e.enroll(t, "ocsp-good")
			revoked, revokedFile := e.enroll(t, "ocsp-revoked")
			revokedAt := e.revokeCLI(t, revoked.Cert, "keyCompromise")
			// A serial certgate never issued, under its issuer's name and key.
			unknown := "0x" + randomHex(t, 16)

			for _, st := range []struct {
				name   string
				target []string
				want   string
			}{
				{"good", certTarget(goodFile), "good"},
				{"revoked", certTarget(revokedFile), "revoked"},
				{"unknown", serialTarget(unknown), "unknown"},
			} {
				for _, get := range []bool{false, true} {
					for _, nonce := range []bool{true, false} {
						name := fmt.Sprintf("ok/%s/%s/%s", st.name, map[bool]string{false: "POST", true: "GET"}[get], map[bool]string{false: "no-nonce", true: "nonce"}[nonce])
						t.Run(name, func(t *testing.T) {
							a := e.mustAsk(t, ocspQuery{Target: st.target, GET: get, Nonce: nonce, Verify: signer.verify(e)}, st.want)
							if st.want != "revoked" {
								return
							}
							if a.Reason != "keyCompromise" {
								t.Errorf("revocation reason %q, want keyCompromise\n%s", a.Reason, a.Out)
							}
							if !a.RevokedAt.Equal(revokedAt) {
								t.Errorf("revocation time %v, want %v (as `certgate revoke` reported)\n%s", a.RevokedAt, revokedAt, a.Out)
							}
						})
					}
				}
			}
		})
	}
}

// TestOCSPRevocationImmediate: a certificate whose "good" answer is
// cached (in memory, in bbolt, for POST and GET) is "revoked" in the very
// next answer after `certgate revoke` returns, with no wait.
func TestOCSPRevocationImmediate(t *testing.T) {
	e := newRevocationEnv(t)
	id, file := e.enroll(t, "ocsp-immediate")
	queries := []struct {
		name string
		q    ocspQuery
	}{
		{"POST/no-nonce", ocspQuery{Target: certTarget(file), Verify: []string{"-CAfile", e.chain}}},
		{"GET/no-nonce", ocspQuery{Target: certTarget(file), GET: true, Verify: []string{"-CAfile", e.chain}}},
		{"POST/nonce", ocspQuery{Target: certTarget(file), Nonce: true, Verify: []string{"-CAfile", e.chain}}},
	}
	for _, tc := range queries {
		t.Run("ok/before/"+tc.name, func(t *testing.T) { e.mustAsk(t, tc.q, "good") })
	}
	e.revokeCLI(t, id.Cert, "keyCompromise")
	for _, tc := range queries {
		t.Run("ok/after/"+tc.name, func(t *testing.T) {
			if a := e.mustAsk(t, tc.q, "revoked"); a.Reason != "keyCompromise" {
				t.Errorf("revocation reason %q, want keyCompromise\n%s", a.Reason, a.Out)
			}
		})
	}
}

var maxAgeRE = regexp.MustCompile(`(?:^|[ ,])max-age=(\d+)(?:$|[ ,])`)

// TestOCSPGETCaching: RFC 5019 §6.2 headers on a cacheable GET answer, a
// 304 for a client that has it, and no-store where an HTTP cache must not
// keep the answer (nonce, unknown).
func TestOCSPGETCaching(t *testing.T) {
	e := newRevocationEnv(t)
	_, file := e.enroll(t, "ocsp-cache")
	buildReq := func(t *testing.T, args ...string) []byte {
		t.Helper()
		f := filepath.Join(t.TempDir(), "req.der")
		mustRunTool(t, e.openssl, append(append([]string{"ocsp", "-issuer", e.issuer}, args...), "-reqout", f)...)
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	req := buildReq(t, "-cert", file, "-no_nonce")
	first := e.getOCSP(t, req)

	t.Run("ok/headers", func(t *testing.T) {
		h := first.Header
		if first.Code != http.StatusOK || h.Get("Content-Type") != "application/ocsp-response" {
			t.Fatalf("HTTP %d Content-Type %q, want 200 application/ocsp-response", first.Code, h.Get("Content-Type"))
		}
		m := maxAgeRE.FindStringSubmatch(h.Get("Cache-Control"))
		if m == nil {
			t.Fatalf("Cache-Control %q has no max-age", h.Get("Cache-Control"))
		}
		// Default validity 24h: max-age runs to nextUpdate.
		if n, _ := strconv.Atoi(m[1]); n <= 0 || n > 86400 {
			t.Errorf("Cache-Control %q: max-age %d, want 1..86400", h.Get("Cache-Control"), n)
		}
		if h.Get("ETag") == "" {
			t.Error("no ETag")
		}
		lm, err := http.ParseTime(h.Get("Last-Modified"))
		if err != nil || time.Since(lm) > time.Hour || time.Until(lm) > time.Minute {
			t.Errorf("Last-Modified %q (%v), want the signing time", h.Get("Last-Modified"), err)
		}
		if _, err := http.ParseTime(h.Get("Expires")); err != nil {
			t.Errorf("Expires %q: %v", h.Get("Expires"), err)
		}
	})
	for _, tc := range []struct {
		name     string
		header   string
		wantCode int
	}{
		{"ok/if-none-match", "If-None-Match: " + first.Header.Get("ETag"), http.StatusNotModified},
		{"ok/if-modified-since", "If-Modified-Since: " + first.Header.Get("Last-Modified"), http.StatusNotModified},
		{"ok/if-none-match-other", `If-None-Match: "certgate-integration-other"`, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.getOCSP(t, req, "-H", tc.header)
			if res.Code != tc.wantCode {
				t.Fatalf("%s: HTTP %d, want %d", tc.header, res.Code, tc.wantCode)
			}
			if res.Code == http.StatusNotModified && len(res.Body) != 0 {
				t.Errorf("304 with a %d-byte body", len(res.Body))
			}
			if res.Code == http.StatusOK && string(res.Body) != string(first.Body) {
				t.Errorf("a second GET for the same certificate got a different response: not served from the cache")
			}
		})
	}
	for _, tc := range []struct {
		name string
		req  []byte
	}{
		{"ok/no-store/nonce", buildReq(t, "-cert", file)},
		{"ok/no-store/unknown", buildReq(t, "-serial", "0x"+randomHex(t, 16), "-no_nonce")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.getOCSP(t, tc.req)
			if res.Code != http.StatusOK || res.Header.Get("Cache-Control") != "no-store" || res.Header.Get("ETag") != "" {
				t.Errorf("HTTP %d Cache-Control %q ETag %q, want 200, no-store and no ETag", res.Code, res.Header.Get("Cache-Control"), res.Header.Get("ETag"))
			}
		})
	}
}
