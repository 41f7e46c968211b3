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

// malformedRequestDER is the unsigned OCSPResponse with responseStatus
// malformedRequest (1) (RFC 6960 §4.2.1), written out by hand so that no
// OCSP library is on both sides.
var malformedRequestDER = []byte{0x30, 0x03, 0x0a, 0x01, 0x01}

// TestOCSPMalformed: requests certgate must refuse, sent with curl, get
// malformedRequest with the HTTP status ca/ocsp/doc.go documents (400 for
// undecodable input, 413/414 for oversized input, 200 for a readable
// request it will not answer), and the server keeps answering.
func TestOCSPMalformed(t *testing.T) {
	e := newRevocationEnv(t)
	_, fileA := e.enroll(t, "ocsp-malformed-a")
	_, fileB := e.enroll(t, "ocsp-malformed-b")
	buildReq := func(args ...string) []byte {
		t.Helper()
		f := filepath.Join(t.TempDir(), "req.der")
		mustRunTool(t, e.openssl, append(append([]string{"ocsp", "-issuer", e.issuer}, args...), "-no_nonce", "-reqout", f)...)
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	valid := buildReq("-cert", fileA)
	sha512 := buildReq("-sha512", "-cert", fileA)
	if !bytes.Contains(sha512, []byte{0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03}) {
		t.Fatal("openssl -sha512 request has no SHA-512 OID in its CertID")
	}
	twoCerts := buildReq("-cert", fileA, "-cert", fileB)
	oversized := append(bytes.Clone(valid), make([]byte, 10_001)...)

	for _, tc := range []struct {
		name        string
		get         bool
		body        []byte
		contentType string // POST only; empty means application/ocsp-request
		opts        []string
		wantCode    int
	}{
		{"fail/garbage/POST", false, []byte("certgate integration: this is not DER"), "", nil, http.StatusBadRequest},
		{"fail/garbage/GET", true, []byte("certgate integration: this is not DER"), "", nil, http.StatusBadRequest},
		{"fail/truncated/POST", false, valid[:len(valid)-3], "", nil, http.StatusBadRequest},
		{"fail/truncated/GET", true, valid[:len(valid)-3], "", nil, http.StatusBadRequest},
		{"fail/trailing-byte/POST", false, append(bytes.Clone(valid), 0), "", nil, http.StatusBadRequest},
		{"fail/empty/POST", false, nil, "", nil, http.StatusBadRequest},
		{"fail/wrong-content-type/POST", false, valid, "application/octet-stream", nil, http.StatusBadRequest},
		{"fail/sha512-certid/POST", false, sha512, "", nil, http.StatusOK},
		{"fail/sha512-certid/GET", true, sha512, "", nil, http.StatusOK},
		{"fail/two-certs/POST", false, twoCerts, "", nil, http.StatusOK},
		{"fail/two-certs/GET", true, twoCerts, "", nil, http.StatusOK},
		{"fail/oversized/POST", false, oversized, "", nil, http.StatusRequestEntityTooLarge},
		{"fail/oversized/POST-chunked", false, oversized, "", []string{"-H", "Transfer-Encoding: chunked"}, http.StatusRequestEntityTooLarge},
		{"fail/oversized/GET", true, oversized, "", nil, http.StatusRequestURITooLong},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var res httpResult
			if tc.get {
				res = e.getOCSP(t, tc.body, tc.opts...)
			} else {
				ct := tc.contentType
				if ct == "" {
					ct = "application/ocsp-request"
				}
				res = e.postOCSP(t, tc.body, ct, tc.opts...)
			}
			if res.Code != tc.wantCode {
				t.Errorf("HTTP %d, want %d", res.Code, tc.wantCode)
			}
			if ct := res.Header.Get("Content-Type"); ct != "application/ocsp-response" {
				t.Errorf("Content-Type %q, want application/ocsp-response", ct)
			}
			if !bytes.Equal(res.Body, malformedRequestDER) {
				t.Errorf("body of %d bytes starting % x, want malformedRequest % x", len(res.Body), res.Body[:min(len(res.Body), 16)], malformedRequestDER)
			}
		})
	}

	// openssl itself as the client of the requests it can build.
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"fail/openssl/sha512-certid", []string{"-sha512", "-cert", fileA}},
		{"fail/openssl/two-certs", []string{"-cert", fileA, "-cert", fileB}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append([]string{"ocsp", "-issuer", e.issuer}, tc.args...), "-url", e.srv.URL+"/ocsp", "-CAfile", e.chain)
			out, code := runTool(t, e.openssl, args...)
			if code == 0 || !strings.Contains(out, "Responder Error: malformedrequest (1)") {
				t.Errorf("openssl ocsp: exit %d, want non-zero with \"Responder Error: malformedrequest (1)\"\n%s", code, out)
			}
		})
	}

	// The same request, intact, is answered: the refusals above are for
	// each case's defect, not for how curl sends it.
	for _, get := range []bool{false, true} {
		t.Run("ok/valid/"+map[bool]string{false: "POST", true: "GET"}[get], func(t *testing.T) {
			res := e.getOCSP(t, valid)
			if !get {
				res = e.postOCSP(t, valid, "application/ocsp-request")
			}
			if res.Code != http.StatusOK {
				t.Fatalf("HTTP %d, want 200", res.Code)
			}
			q := ocspQuery{Target: certTarget(fileA), Verify: []string{"-CAfile", e.chain}}
			a := ocspAnswer{}
			a.Out, a.Code = e.readResponse(t, writeTemp(t, "resp.der", res.Body), q)
			if a.parse(q.name()); a.Code != 0 || !a.VerifyOK || a.Status != "good" {
				t.Errorf("openssl ocsp -respin: exit %d, verified %v, status %q; want 0, true, good\n%s", a.Code, a.VerifyOK, a.Status, a.Out)
			}
		})
	}

	t.Run("ok/still-serving", func(t *testing.T) {
		e.mustHealthy(t)
		e.mustAsk(t, ocspQuery{Target: certTarget(fileA), Nonce: true, Verify: []string{"-CAfile", e.chain}}, "good")
	})
}
