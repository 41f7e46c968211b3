//go:build integration

package integration

import (
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// crlPath is where certgate serves the CRL of its CA, which is named
// "certgate".
const crlPath = "/crl/certgate.crl"

// crlInfo is a CRL as openssl reads it.
type crlInfo struct {
	// Text is the output of openssl crl -text with the verification line.
	Text string
	// PEMFile holds the CRL in PEM, for openssl verify -CRLfile.
	PEMFile string
	// VerifyOK: openssl crl verified the signature against the chain.
	VerifyOK bool
	Number   int64
	// IDP is the URI of the Issuing Distribution Point.
	IDP string
	// Entries are by serial as openssl prints it (upper-case hex).
	Entries map[string]crlEntry
}

type crlEntry struct {
	Date   time.Time
	Reason string
}

// fetchCRL downloads the CRL with curl and reads it with openssl.
func (e *revocationEnv) fetchCRL(t *testing.T) crlInfo {
	t.Helper()
	res := e.curlDo(t, e.srv.URL+crlPath)
	if res.Code != http.StatusOK || res.Header.Get("Content-Type") != "application/pkix-crl" {
		t.Fatalf("GET %s: HTTP %d Content-Type %q, want 200 application/pkix-crl", crlPath, res.Code, res.Header.Get("Content-Type"))
	}
	der := writeTemp(t, "crl.der", res.Body)
	c := crlInfo{PEMFile: filepath.Join(filepath.Dir(der), "crl.pem"), Entries: map[string]crlEntry{}}
	mustRunTool(t, e.openssl, "crl", "-inform", "DER", "-in", der, "-out", c.PEMFile)
	c.Text = mustRunTool(t, e.openssl, "crl", "-inform", "DER", "-in", der, "-CAfile", e.chain, "-noout", "-text")
	c.parse()
	return c
}

// parse reads openssl crl -text output: one "Key:" line, the value on
// the next line for extensions.
func (c *crlInfo) parse() {
	lines := strings.Split(c.Text, "\n")
	next := func(i int) string {
		if i+1 < len(lines) {
			return strings.TrimSpace(lines[i+1])
		}
		return ""
	}
	var serial string
	for i, raw := range lines {
		line := strings.TrimSpace(raw)
		switch {
		case line == "verify OK":
			c.VerifyOK = true
		case strings.HasPrefix(line, "X509v3 CRL Number:"):
			c.Number, _ = strconv.ParseInt(next(i), 10, 64)
		case strings.HasPrefix(line, "X509v3 Issuing Distribution Point:"):
			for _, l := range lines[i+1:] {
				if u, ok := strings.CutPrefix(strings.TrimSpace(l), "URI:"); ok {
					c.IDP = u
					break
				}
			}
		case strings.HasPrefix(line, "Serial Number: "):
			serial = strings.TrimPrefix(line, "Serial Number: ")
			c.Entries[serial] = crlEntry{}
		case strings.HasPrefix(line, "Revocation Date: ") && serial != "":
			en := c.Entries[serial]
			en.Date, _ = opensslTime(strings.TrimPrefix(line, "Revocation Date: "))
			c.Entries[serial] = en
		case strings.HasPrefix(line, "X509v3 CRL Reason Code:") && serial != "":
			en := c.Entries[serial]
			en.Reason = next(i)
			c.Entries[serial] = en
		}
	}
}

// waitCRLEntry fetches the CRL until it lists serial, for at most 10s:
// the rebuild after a revocation is debounced.
func (e *revocationEnv) waitCRLEntry(t *testing.T, serial string) crlInfo {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c := e.fetchCRL(t)
		if _, ok := c.Entries[serial]; ok {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("CRL does not list %s 10s after the revocation:\n%s", serial, c.Text)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCRLOpenSSL: openssl verifies certgate's CRL against the chain; a
// revocation shows up in the next CRL (debounced to 200ms here) with its
// reason and time under a higher CRL number; and openssl verify
// -crl_check refuses the revoked leaf and accepts the good one.
func TestCRLOpenSSL(t *testing.T) {
	e := newRevocationEnv(t, "CERTGATE_CRL_DEBOUNCE=200ms")
	_, goodFile := e.enroll(t, "crl-good")
	revoked, revokedFile := e.enroll(t, "crl-revoked")
	before := e.fetchCRL(t)

	t.Run("ok/initial", func(t *testing.T) {
		if !before.VerifyOK {
			t.Errorf("openssl crl -CAfile chain: no \"verify OK\"\n%s", before.Text)
		}
		if len(before.Entries) != 0 {
			t.Errorf("CRL lists %d certificates before any revocation\n%s", len(before.Entries), before.Text)
		}
		cdp := mustRunTool(t, e.openssl, "x509", "-in", goodFile, "-noout", "-ext", "crlDistributionPoints")
		if !strings.HasSuffix(before.IDP, crlPath) || !strings.Contains(cdp, "URI:"+before.IDP+"\n") {
			t.Errorf("CRL Issuing Distribution Point %q does not match the leaf's CRL distribution point:\n%s", before.IDP, cdp)
		}
	})

	revokedAt := e.revokeCLI(t, revoked.Cert, "keyCompromise")
	after := e.waitCRLEntry(t, opensslSerial(revoked.Cert))

	t.Run("ok/after-revoke", func(t *testing.T) {
		if !after.VerifyOK {
			t.Errorf("openssl crl -CAfile chain: no \"verify OK\"\n%s", after.Text)
		}
		en := after.Entries[opensslSerial(revoked.Cert)]
		if en.Reason != "Key Compromise" || !en.Date.Equal(revokedAt) {
			t.Errorf("entry %s: reason %q, date %v; want Key Compromise at %v\n%s", opensslSerial(revoked.Cert), en.Reason, en.Date, revokedAt, after.Text)
		}
		if len(after.Entries) != 1 {
			t.Errorf("CRL lists %d certificates, want only the revoked one\n%s", len(after.Entries), after.Text)
		}
		if after.Number <= before.Number {
			t.Errorf("CRL Number %d after the revocation, want more than %d", after.Number, before.Number)
		}
	})

	for _, tc := range []struct {
		name    string
		file    string
		wantErr string
	}{
		{"ok/verify-crl-check/good", goodFile, ""},
		{"fail/verify-crl-check/revoked", revokedFile, "certificate revoked"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// -crl_check checks the leaf only; -crl_check_all would need
			// the root's CRL too, which certgate does not publish.
			out, code := runTool(t, e.openssl, "verify", "-crl_check", "-CRLfile", after.PEMFile, "-CAfile", e.chain, tc.file)
			switch {
			case tc.wantErr == "" && (code != 0 || !strings.Contains(out, tc.file+": OK")):
				t.Errorf("openssl verify -crl_check: exit %d, want 0 and OK\n%s", code, out)
			case tc.wantErr != "" && (code == 0 || !strings.Contains(out, tc.wantErr)):
				t.Errorf("openssl verify -crl_check: exit %d, want non-zero with %q\n%s", code, tc.wantErr, out)
			}
		})
	}
}
