//go:build integration

package integration

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// openssl ocsp as the OCSP client. It has no GET mode, so a GET is built
// with -reqout, fetched with curl, and checked with -respin.

// ocspQuery is one question to certgate's responder.
type ocspQuery struct {
	// Target names the certificate: {"-cert", FILE} or {"-serial", "0xHEX"}.
	Target []string
	// GET sends the request with curl as GET /ocsp/<base64>; otherwise
	// openssl POSTs it.
	GET bool
	// Nonce sends a nonce and has openssl check its echo; without it the
	// request carries -no_nonce.
	Nonce bool
	// Verify is how openssl trusts the signer: {"-CAfile", chain} or
	// {"-VAfile", ca.crt}.
	Verify []string
}

// name is how openssl refers to the target in its status line.
func (q ocspQuery) name() string { return q.Target[len(q.Target)-1] }

// certTarget and serialTarget build ocspQuery.Target.
func certTarget(file string) []string    { return []string{"-cert", file} }
func serialTarget(hex0x string) []string { return []string{"-serial", hex0x} }

// ocspAnswer is what openssl made of the response.
type ocspAnswer struct {
	// Out is openssl's combined output; Code its highest exit code.
	Out  string
	Code int
	// VerifyOK: openssl printed "Response verify OK".
	VerifyOK bool
	// Status, Reason and RevokedAt come from the status summary openssl
	// prints for the target ("good", "revoked", "unknown").
	Status, Reason string
	RevokedAt      time.Time
	// NonceInResponse: the response carries a nonce extension.
	NonceInResponse bool
	// NonceProblem: openssl warned that the nonce was missing, or that it
	// did not match the request's.
	NonceProblem bool
	// DER is the response.
	DER []byte
	// HTTP is curl's view of a GET exchange.
	HTTP httpResult
}

// ask puts q to the server with openssl (and curl for GET).
func (e *revocationEnv) ask(t *testing.T, q ocspQuery) ocspAnswer {
	t.Helper()
	dir := t.TempDir()
	reqFile, respFile := filepath.Join(dir, "req.der"), filepath.Join(dir, "resp.der")
	build := append([]string{"ocsp", "-issuer", e.issuer}, q.Target...)
	if !q.Nonce {
		build = append(build, "-no_nonce")
	}
	var a ocspAnswer
	if !q.GET {
		args := append(build, "-url", e.srv.URL+"/ocsp", "-respout", respFile, "-resp_text")
		a.Out, a.Code = runTool(t, e.openssl, append(args, q.Verify...)...)
	} else {
		mustRunTool(t, e.openssl, append(build, "-reqout", reqFile)...)
		req, err := os.ReadFile(reqFile)
		if err != nil {
			t.Fatal(err)
		}
		a.HTTP = e.getOCSP(t, req)
		if a.HTTP.Code != http.StatusOK {
			t.Fatalf("GET /ocsp/...: HTTP %d, want 200", a.HTTP.Code)
		}
		if err := os.WriteFile(respFile, a.HTTP.Body, 0o600); err != nil {
			t.Fatal(err)
		}
		if q.Nonce {
			// With -reqin openssl checks the nonce against the request
			// that was sent; it then has no target to print a status for.
			out, code := runTool(t, e.openssl, append([]string{"ocsp", "-reqin", reqFile, "-respin", respFile}, q.Verify...)...)
			a.Out, a.Code = out, code
		}
		out, code := e.readResponse(t, respFile, q)
		a.Out += out
		a.Code = max(a.Code, code)
	}
	a.DER, _ = os.ReadFile(respFile)
	a.parse(q.name())
	return a
}

// readResponse has openssl verify a response in respFile and print q's
// target's status, without a nonce check.
func (e *revocationEnv) readResponse(t *testing.T, respFile string, q ocspQuery) (string, int) {
	t.Helper()
	args := append([]string{"ocsp", "-respin", respFile, "-issuer", e.issuer}, q.Target...)
	args = append(append(args, "-no_nonce", "-resp_text"), q.Verify...)
	return runTool(t, e.openssl, args...)
}

// parse reads openssl's output. The status summary is the line
// "<name>: <status>" followed by tab-indented details; -resp_text prints
// similar lines ("Revocation Time") inside the response dump, so only the
// summary block is read for them.
func (a *ocspAnswer) parse(name string) {
	a.VerifyOK = strings.Contains(a.Out, "Response verify OK")
	a.NonceInResponse = strings.Contains(a.Out, "OCSP Nonce:")
	a.NonceProblem = strings.Contains(a.Out, "WARNING: no nonce in response") || strings.Contains(a.Out, "Nonce Verify error")
	lines := strings.Split(a.Out, "\n")
	for i, line := range lines {
		status, ok := strings.CutPrefix(line, name+": ")
		if !ok {
			continue
		}
		a.Status = strings.TrimSpace(status)
		for _, d := range lines[i+1:] {
			if !strings.HasPrefix(d, "\t") {
				break
			}
			k, v, _ := strings.Cut(strings.TrimSpace(d), ": ")
			switch k {
			case "Reason":
				a.Reason = v
			case "Revocation Time":
				a.RevokedAt, _ = opensslTime(v)
			}
		}
		return
	}
}

// mustAsk asks q and fails the test unless openssl verified the response,
// found the target's status to be want, and saw the nonce handled as q
// asked: echoed when sent, absent when not.
func (e *revocationEnv) mustAsk(t *testing.T, q ocspQuery, want string) ocspAnswer {
	t.Helper()
	a := e.ask(t, q)
	switch {
	case a.Code != 0 || !a.VerifyOK:
		t.Fatalf("openssl ocsp: exit %d, verified %v; want exit 0 and \"Response verify OK\"\n%s", a.Code, a.VerifyOK, a.Out)
	case a.Status != want:
		t.Fatalf("openssl ocsp: status %q, want %q\n%s", a.Status, want, a.Out)
	case a.NonceProblem:
		t.Fatalf("openssl ocsp: nonce not echoed\n%s", a.Out)
	case a.NonceInResponse != q.Nonce:
		t.Fatalf("openssl ocsp: nonce in response %v, want %v\n%s", a.NonceInResponse, q.Nonce, a.Out)
	}
	return a
}
