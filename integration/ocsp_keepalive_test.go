//go:build integration

package integration

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestOCSPKeepAlive: NAC servers keep one connection open and ask OCSP
// questions one after another, which certgate answers outside net/http
// once a connection's first request is OCSP. One curl run (a client that
// shares no code with certgate) sends, on a single connection, an OCSP
// POST, the same request as GET, that GET again with its ETag (304),
// /healthz, /metrics and a third OCSP POST; every answer must be what a
// fresh connection gets, and openssl must verify the OCSP ones.
func TestOCSPKeepAlive(t *testing.T) {
	e := newRevocationEnv(t)
	_, file := e.enroll(t, "ocsp-keepalive")
	dir := t.TempDir()
	reqFile := filepath.Join(dir, "req.der")
	mustRunTool(t, e.openssl, "ocsp", "-issuer", e.issuer, "-cert", file, "-no_nonce", "-reqout", reqFile)
	req, err := os.ReadFile(reqFile)
	if err != nil {
		t.Fatal(err)
	}
	getURL := e.srv.URL + "/ocsp/" + url.QueryEscape(base64.StdEncoding.EncodeToString(req))
	etag := e.getOCSP(t, req).Header.Get("ETag")
	if etag == "" {
		t.Fatal("GET answer without ETag")
	}
	page := string(e.curlDo(t, e.srv.URL+"/metrics").Body)
	before, fastBefore := takeovers(t, page), counter(t, page, "certgate_http_ocsp_fast_answers_total")
	out := func(name string) string { return filepath.Join(dir, name) }
	post := []string{"-H", "Content-Type: application/ocsp-request", "--data-binary", "@" + reqFile, e.srv.URL + "/ocsp"}
	args := []string{"-sS", "-v", "--max-time", "60", "-w", "%{http_code}\n"}
	args = append(args, append([]string{"-o", out("post1")}, post...)...)
	args = append(args, "--next", "-sS", "-w", "%{http_code}\n", "-o", out("get"), getURL)
	args = append(args, "--next", "-sS", "-w", "%{http_code}\n", "-o", out("notmod"), "-H", "If-None-Match: "+etag, getURL)
	args = append(args, "--next", "-sS", "-w", "%{http_code}\n", "-o", out("healthz"), e.srv.URL+"/healthz")
	args = append(args, "--next", "-sS", "-w", "%{http_code}\n", "-o", out("metrics"), e.srv.URL+"/metrics")
	args = append(args, "--next", "-sS", "-w", "%{http_code}\n", "-o", out("post2"))
	args = append(args, post...)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var so, se bytes.Buffer
	cmd := exec.CommandContext(ctx, e.curl, args...)
	cmd.Stdout, cmd.Stderr = &so, &se
	if err := cmd.Run(); err != nil {
		t.Fatalf("curl: %v\n%s", err, se.String())
	}
	stdout, stderr := so.String(), se.String()
	if got := strings.Fields(stdout); strings.Join(got, " ") != "200 200 304 200 200 200" {
		t.Fatalf("statuses %v, want 200 200 304 200 200 200\n%s", got, stderr)
	}
	// curl -v reports reusing the connection for each request after the
	// first, and never opening a second one.
	if n := strings.Count(stderr, "Re-using existing connection") + strings.Count(stderr, "Reusing existing"); n != 5 {
		t.Errorf("curl reused the connection %d times, want 5\n%s", n, stderr)
	}
	for _, f := range []string{"post1", "get", "post2"} {
		v := mustRunTool(t, e.openssl, "ocsp", "-respin", out(f), "-issuer", e.issuer, "-cert", file, "-CAfile", e.chain)
		if !strings.Contains(v, "Response verify OK") && !strings.Contains(v, ": good") {
			t.Errorf("%s: openssl ocsp:\n%s", f, v)
		}
		if !strings.Contains(v, ": good") {
			t.Errorf("%s: not good:\n%s", f, v)
		}
	}
	if b, _ := os.ReadFile(out("notmod")); len(b) != 0 {
		t.Errorf("304 with a %d-byte body", len(b))
	}
	if b, _ := os.ReadFile(out("healthz")); strings.TrimSpace(string(b)) != "ok" {
		t.Errorf("/healthz body %q", b)
	}
	if b, _ := os.ReadFile(out("metrics")); !strings.Contains(string(b), `certgate_http_requests_total{code="200",method="POST",route="ocsp"}`) {
		t.Errorf("/metrics lacks the OCSP request counter:\n%.2000s", b)
	} else if n := takeovers(t, string(b)); n != before+1 {
		t.Errorf("takeovers %d after this connection, want %d (one more than before)", n, before+1)
	}
	// The first POST went through net/http; the last one, plain and
	// cached, is answered by the lean loop's fast path (the GET too, unless
	// curl's URL has percent-escapes, which the fast path leaves alone).
	if n := counter(t, string(e.curlDo(t, e.srv.URL+"/metrics").Body), "certgate_http_ocsp_fast_answers_total"); n < fastBefore+1 || n > fastBefore+2 {
		t.Errorf("fast answers %d → %d, want one or two more", fastBefore, n)
	}
	e.mustHealthy(t)
}

// takeovers reads certgate_http_keepalive_takeovers_total from a
// /metrics page.
func takeovers(t *testing.T, page string) int {
	t.Helper()
	return counter(t, page, "certgate_http_keepalive_takeovers_total")
}

// counter reads an unlabelled counter from a /metrics page.
func counter(t *testing.T, page, name string) int {
	t.Helper()
	for _, line := range strings.Split(page, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				t.Fatalf("metric line %q: %v", line, err)
			}
			return n
		}
	}
	t.Fatalf("/metrics has no %s", name)
	return 0
}
