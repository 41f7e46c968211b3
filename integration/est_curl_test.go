//go:build integration

package integration

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestESTCurlOpenSSL is EST as an embedded client sees the wire, with curl
// and openssl only: fetch the CA chain, enroll a CSR made by openssl,
// decode the answer with openssl pkcs7 and verify the chain.
func TestESTCurlOpenSSL(t *testing.T) {
	curl := requireTool(t, "curl")
	openssl := requireTool(t, "openssl")
	e := startEST(t)
	dir := t.TempDir()
	path := func(name string) string { return filepath.Join(dir, name) }
	get := func(t *testing.T, op, out string, extra ...string) httpResult {
		t.Helper()
		args := append([]string{"--cacert", e.root}, extra...)
		res := curlDo(t, curl, append(args, e.base+op)...)
		if res.Code != http.StatusOK {
			t.Fatalf("%s: HTTP %d: %s", op, res.Code, res.Body)
		}
		if err := os.WriteFile(out, res.Body, 0o600); err != nil {
			t.Fatal(err)
		}
		return res
	}

	t.Run("cacerts", func(t *testing.T) {
		res := get(t, "cacerts", path("cacerts.b64"))
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/pkcs7-mime") {
			t.Errorf("Content-Type %q", ct)
		}
		if res.Header.Get("Content-Length") == "" || res.Header.Get("Transfer-Encoding") != "" {
			t.Errorf("answer is chunked (Content-Length %q, Transfer-Encoding %q)", res.Header.Get("Content-Length"), res.Header.Get("Transfer-Encoding"))
		}
		mustRunTool(t, openssl, "base64", "-d", "-in", path("cacerts.b64"), "-out", path("cacerts.p7"))
		out := mustRunTool(t, openssl, "pkcs7", "-inform", "DER", "-in", path("cacerts.p7"), "-print_certs", "-noout")
		if !strings.Contains(out, "subject=CN = certgate Issuing CA") || !strings.Contains(out, "subject=CN = certgate Root CA") {
			t.Errorf("openssl pkcs7 -print_certs:\n%s", out)
		}
	})

	t.Run("simpleenroll", func(t *testing.T) {
		mustRunTool(t, openssl, "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", path("device.key"),
			"-subj", "/CN=curl-device/O=Example", "-addext", "subjectAltName=DNS:curl.example", "-outform", "DER", "-out", path("csr.der"))
		mustRunTool(t, openssl, "base64", "-in", path("csr.der"), "-out", path("csr.b64"))
		res := get(t, "simpleenroll", path("cert.b64"),
			"-u", "device:"+estChallenge, "-H", "Content-Type: application/pkcs10", "--data-binary", "@"+path("csr.b64"))
		if ct := res.Header.Get("Content-Type"); !strings.Contains(ct, "smime-type=certs-only") {
			t.Errorf("Content-Type %q, want application/pkcs7-mime; smime-type=certs-only", ct)
		}
		mustRunTool(t, openssl, "base64", "-d", "-in", path("cert.b64"), "-out", path("cert.p7"))
		mustRunTool(t, openssl, "pkcs7", "-inform", "DER", "-in", path("cert.p7"), "-print_certs", "-out", path("cert.pem"))
		out := mustRunTool(t, openssl, "verify", "-CAfile", e.root, "-untrusted", e.ca, "-purpose", "sslclient", path("cert.pem"))
		if !strings.Contains(out, "cert.pem: OK") {
			t.Fatalf("openssl verify: %s", out)
		}
		certKey := mustRunTool(t, openssl, "x509", "-in", path("cert.pem"), "-noout", "-pubkey")
		ownKey := mustRunTool(t, openssl, "pkey", "-in", path("device.key"), "-pubout")
		if certKey != ownKey {
			t.Errorf("certificate public key differs from the CSR's")
		}
		text := mustRunTool(t, openssl, "x509", "-in", path("cert.pem"), "-noout", "-subject", "-ext", "subjectAltName")
		if !strings.Contains(text, "CN = curl-device") || !strings.Contains(text, "DNS:curl.example") {
			t.Errorf("issued certificate:\n%s", text)
		}
	})
}

// TestESTErrors sends each kind of bad request over the real TLS listener
// with curl and checks the RFC 7030 status, the headers that go with it,
// and a text body that says why and leaks nothing.
func TestESTErrors(t *testing.T) {
	curl := requireTool(t, "curl")
	openssl := requireTool(t, "openssl")
	e := startEST(t)
	dir := t.TempDir()
	csrB64 := filepath.Join(dir, "csr.b64")
	mustRunTool(t, openssl, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
		"-keyout", filepath.Join(dir, "k.pem"), "-subj", "/CN=bad-input", "-outform", "DER", "-out", filepath.Join(dir, "csr.der"))
	mustRunTool(t, openssl, "base64", "-in", filepath.Join(dir, "csr.der"), "-out", csrB64)
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, bytes.Repeat([]byte("QUFB"), 100_000), 0o600); err != nil {
		t.Fatal(err)
	}
	pkcs10 := []string{"-H", "Content-Type: application/pkcs10"}
	basic := []string{"-u", "device:" + estChallenge}

	tests := []struct {
		name       string
		op         string
		args       []string
		wantStatus int
		wantHeader [2]string
		wantBody   string
	}{
		{name: "fail/no credentials", op: "simpleenroll", args: append(pkcs10, "--data-binary", "@"+csrB64),
			wantStatus: 401, wantHeader: [2]string{"Www-Authenticate", `Basic realm="certgate EST"`}, wantBody: "authentication required"},
		{name: "fail/wrong password", op: "simpleenroll", args: append(append(pkcs10, "-u", "device:wrong"), "--data-binary", "@"+csrB64),
			wantStatus: 403, wantBody: "wrong challenge"},
		{name: "fail/malformed base64", op: "simpleenroll", args: append(append(pkcs10, basic...), "--data-binary", "%%% not base64 %%%"),
			wantStatus: 400, wantBody: "not valid base64"},
		{name: "fail/not a CSR", op: "simpleenroll", args: append(append(pkcs10, basic...), "--data-binary", "aGVsbG8gd29ybGQ="),
			wantStatus: 400, wantBody: "not a PKCS#10"},
		{name: "fail/wrong content type", op: "simpleenroll", args: append(append([]string{"-H", "Content-Type: application/json"}, basic...), "--data-binary", "@"+csrB64),
			wantStatus: 415, wantBody: "application/pkcs10"},
		{name: "fail/oversized", op: "simpleenroll", args: append(append(pkcs10, basic...), "--data-binary", "@"+big),
			wantStatus: 413, wantBody: "exceeds"},
		{name: "fail/reenroll without client certificate", op: "simplereenroll", args: append(append(pkcs10, basic...), "--data-binary", "@"+csrB64),
			wantStatus: 403, wantBody: "TLS client certificate"},
		{name: "fail/serverkeygen not enabled", op: "serverkeygen", args: append(append(pkcs10, basic...), "--data-binary", "@"+csrB64),
			wantStatus: 501, wantBody: "not enabled"},
		{name: "fail/unknown label", op: "nosuch/simpleenroll", args: append(append(pkcs10, basic...), "--data-binary", "@"+csrB64),
			wantStatus: 404},
		{name: "fail/GET simpleenroll", op: "simpleenroll", wantStatus: 405, wantHeader: [2]string{"Allow", "POST"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := curlDo(t, curl, append(append([]string{"--cacert", e.root}, tc.args...), e.base+tc.op)...)
			if res.Code != tc.wantStatus {
				t.Fatalf("HTTP %d (%s), want %d", res.Code, res.Body, tc.wantStatus)
			}
			if tc.wantHeader[0] != "" && !strings.HasPrefix(res.Header.Get(tc.wantHeader[0]), tc.wantHeader[1]) {
				t.Errorf("%s: %q, want %q", tc.wantHeader[0], res.Header.Get(tc.wantHeader[0]), tc.wantHeader[1])
			}
			body := string(res.Body)
			if !strings.Contains(body, tc.wantBody) || strings.Contains(body, estChallenge) || strings.Contains(body, "goroutine") {
				t.Errorf("body %q: want it to contain %q, without secrets or stack traces", body, tc.wantBody)
			}
		})
	}
	// Nothing was issued by any of them.
	for _, r := range certsList(t, e.srv.DataDir) {
		if r.Status == "valid" {
			t.Errorf("a bad request issued %s (%s)", r.Serial, r.Subject)
		}
	}
	if strings.Contains(e.srv.Stderr.String(), estChallenge) {
		t.Errorf("the log holds the challenge")
	}
}
