//go:build integration

package integration

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The revocation tests ask certgate's OCSP responder and CRL endpoint with
// openssl and curl, which share no code with certgate, so they catch what
// certgate's own Go tests (which use x/crypto/ocsp and crypto/x509 on both
// sides) cannot: DER or semantics that only Go accepts.

// fixedPublicURL keeps the URLs certgate writes into leaves and CRLs the
// same across restarts (the default follows the listen port, which changes
// on every start, and a new URL means a new CRL).
const fixedPublicURL = "CERTGATE_PUBLIC_URL=http://certgate.test:8080"

// revocationEnv is a running certgate plus the files openssl needs.
type revocationEnv struct {
	srv     *server
	env     []string
	openssl string
	curl    string
	// issuer is the issuing CA (ca.crt); chain is it followed by the root.
	issuer, chain string
}

// newRevocationEnv starts certgate on a fresh data dir with extraEnv.
func newRevocationEnv(t *testing.T, extraEnv ...string) *revocationEnv {
	t.Helper()
	e := &revocationEnv{env: extraEnv, openssl: requireTool(t, "openssl"), curl: requireTool(t, "curl")}
	e.srv = startServer(t, newDataDir(t), extraEnv...)
	e.issuer = e.srv.CAFile("ca.crt")
	e.chain = writeCABundle(t, e.srv.CAFile("ca.crt"), e.srv.CAFile("root.crt"))
	return e
}

// restart stops the server with SIGTERM and starts it again on the same
// data dir and environment.
func (e *revocationEnv) restart(t *testing.T) {
	t.Helper()
	e.srv.Stop()
	if t.Failed() {
		t.FailNow()
	}
	e.srv = startServer(t, e.srv.DataDir, e.env...)
}

// enroll gets a certificate over SCEP and returns it with its PEM file.
func (e *revocationEnv) enroll(t *testing.T, cn string) (identity, string) {
	t.Helper()
	id := newSCEPClient(t, e.srv.URL+"/scep").mustEnroll(t, cn, e.srv.Challenge())
	certFile, _ := writeIdentity(t, id)
	return id, certFile
}

// revokeCLI runs `certgate revoke SERIAL --reason REASON` on the data dir
// (over the admin socket while the server runs, on the database when it
// does not) and returns the revocation time it reports.
func (e *revocationEnv) revokeCLI(t *testing.T, cert *x509.Certificate, reason string) time.Time {
	t.Helper()
	out := mustCLI(t, "revoke", serialHex(cert), "--reason", reason, "--data-dir", e.srv.DataDir)
	// "revoked <serial> at <RFC 3339> (reason <name>)"
	var serial, at, why string
	if _, err := fmt.Sscanf(out, "revoked %s at %s (reason %s", &serial, &at, &why); err != nil {
		t.Fatalf("certgate revoke printed %q: %v", out, err)
	}
	if serial != serialHex(cert) || strings.TrimSuffix(why, ")") != reason {
		t.Fatalf("certgate revoke printed %q, want serial %s and reason %s", out, serialHex(cert), reason)
	}
	ts, err := time.Parse(time.RFC3339, at)
	if err != nil {
		t.Fatalf("certgate revoke printed %q: %v", out, err)
	}
	return ts
}

// runTool runs a command with a 60s limit and returns its combined output and
// exit code; it fails the test only when the command cannot run at all.
func runTool(t *testing.T, bin string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("%s %s: did not finish within 60s", filepath.Base(bin), strings.Join(args, " "))
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s %s: %v", filepath.Base(bin), strings.Join(args, " "), err)
	}
	return string(out), 0
}

// mustRunTool is runTool that fails the test unless the command exits 0.
func mustRunTool(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, code := runTool(t, bin, args...)
	if code != 0 {
		t.Fatalf("%s %s: exit %d\n%s", filepath.Base(bin), strings.Join(args, " "), code, out)
	}
	return out
}

// httpResult is one curl exchange: the final response's status and
// headers, and the body.
type httpResult struct {
	Code   int
	Header http.Header
	Body   []byte
}

// curlDo runs curl with args (URL and method options) and returns the
// response. curl exits 0 on any HTTP status.
func (e *revocationEnv) curlDo(t *testing.T, args ...string) httpResult {
	t.Helper()
	return curlDo(t, e.curl, args...)
}

// curlDo runs the curl at bin with args and returns the response.
func curlDo(t *testing.T, bin string, args ...string) httpResult {
	t.Helper()
	dir := t.TempDir()
	hdr, body := filepath.Join(dir, "headers"), filepath.Join(dir, "body")
	out := mustRunTool(t, bin, append([]string{"-sS", "--max-time", "60", "-D", hdr, "-o", body, "-w", "%{http_code}"}, args...)...)
	code, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil {
		t.Fatalf("curl %s: status %q: %v", strings.Join(args, " "), out, err)
	}
	res := httpResult{Code: code, Header: http.Header{}}
	if res.Body, err = os.ReadFile(body); os.IsNotExist(err) {
		res.Body = nil // curl writes no file for an empty body
	} else if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(hdr)
	if err != nil {
		t.Fatal(err)
	}
	// Keep only the last header block (after any 100 Continue).
	for _, line := range strings.Split(string(raw), "\r\n") {
		switch k, v, ok := strings.Cut(line, ":"); {
		case strings.HasPrefix(line, "HTTP/"):
			res.Header = http.Header{}
		case ok:
			res.Header.Add(textproto.CanonicalMIMEHeaderKey(k), strings.TrimSpace(v))
		}
	}
	return res
}

// getOCSP fetches GET /ocsp/<url-escaped base64 of req> with curl, with
// extra curl options such as -H.
func (e *revocationEnv) getOCSP(t *testing.T, req []byte, opts ...string) httpResult {
	t.Helper()
	u := e.srv.URL + "/ocsp/" + url.QueryEscape(base64.StdEncoding.EncodeToString(req))
	return e.curlDo(t, append(opts, u)...)
}

// postOCSP sends req as an OCSP POST with curl, with Content-Type
// contentType and extra options such as -H.
func (e *revocationEnv) postOCSP(t *testing.T, req []byte, contentType string, opts ...string) httpResult {
	t.Helper()
	f := filepath.Join(t.TempDir(), "req.der")
	if err := os.WriteFile(f, req, 0o600); err != nil {
		t.Fatal(err)
	}
	opts = append([]string{"-H", "Content-Type: " + contentType}, opts...)
	return e.curlDo(t, append(opts, "--data-binary", "@"+f, e.srv.URL+"/ocsp")...)
}

// mustHealthy fails the test unless /healthz answers 200.
func (e *revocationEnv) mustHealthy(t *testing.T) {
	t.Helper()
	if res := e.curlDo(t, e.srv.URL+"/healthz"); res.Code != http.StatusOK {
		t.Fatalf("GET /healthz: HTTP %d %s", res.Code, bytes.TrimSpace(res.Body))
	}
}

// writeTemp writes b to name in a fresh temp dir and returns the path.
func writeTemp(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// opensslTime parses a time as openssl prints it ("Nov  6 08:41:46 2026 GMT").
func opensslTime(s string) (time.Time, error) {
	return time.Parse("Jan _2 15:04:05 2006 MST", strings.TrimSpace(s))
}

// opensslSerial is a serial as openssl prints it in CRLs: upper-case hex
// of the magnitude's bytes.
func opensslSerial(c *x509.Certificate) string {
	return fmt.Sprintf("%X", c.SerialNumber.Bytes())
}
