//go:build integration

package integration

import (
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
)

// reasonKeyCompromise is RFC 5280's CRLReason keyCompromise, by the name
// `certs list --json` gives it.
const reasonKeyCompromise = "keyCompromise"

// TestCLI drives `certgate revoke` and `certgate certs` against a running
// server (through its admin socket) and then against the stopped server's
// database.
func TestCLI(t *testing.T) {
	srv := startServer(t, newDataDir(t))
	dd := srv.DataDir
	c := newSCEPClient(t, srv.URL+"/scep")
	a := serialHex(c.mustEnroll(t, "cli-a", srv.Challenge()).Cert)
	b := serialHex(c.mustEnroll(t, "cli-b", srv.Challenge()).Cert)

	t.Run("ok/version", func(t *testing.T) {
		if out := mustCLI(t, "version"); !strings.Contains(out, binaryVersion) {
			t.Errorf("certgate version: %q, want it to contain %q", out, binaryVersion)
		}
	})

	var revokedAt string
	t.Run("ok/revoke", func(t *testing.T) {
		mustCLI(t, "revoke", a, "--reason", "keyCompromise", "--data-dir", dd)
		recs := certsList(t, dd)
		ra, rb := recordBySerial(recs, a), recordBySerial(recs, b)
		if ra == nil || ra.Status != "revoked" || ra.RevocationReason != reasonKeyCompromise || ra.RevokedAt.IsZero() {
			t.Fatalf("revoked record: %+v, want status revoked, reason %s, revoked_at set", ra, reasonKeyCompromise)
		}
		if rb == nil || rb.Status != "valid" {
			t.Errorf("other record: %+v, want valid", rb)
		}
		revokedAt = ra.RevokedAt.String()
	})

	t.Run("ok/revoke-again-is-idempotent", func(t *testing.T) {
		for _, reason := range []string{"keyCompromise", "superseded"} {
			mustCLI(t, "revoke", a, "--reason", reason, "--data-dir", dd)
			ra := recordBySerial(certsList(t, dd), a)
			if ra == nil || ra.Status != "revoked" || ra.RevocationReason != reasonKeyCompromise || ra.RevokedAt.String() != revokedAt {
				t.Errorf("after revoking again (%s): %+v, want the first revocation kept (%s, reason %s)", reason, ra, revokedAt, reasonKeyCompromise)
			}
		}
	})

	for _, tc := range []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string
	}{
		{"fail/unknown-serial", []string{"revoke", "deadbeef", "--reason", "keyCompromise", "--data-dir", dd}, 1, "no certificate with serial deadbeef"},
		{"fail/show-unknown-serial", []string{"certs", "show", "deadbeef", "--data-dir", dd}, 1, "deadbeef"},
		{"fail/revoke-without-serial", []string{"revoke", "--data-dir", dd}, 2, "SERIAL"},
		{"fail/revoke-bad-reason", []string{"revoke", a, "--reason", "bored", "--data-dir", dd}, 2, "bored"},
		{"fail/list-bad-status", []string{"certs", "list", "--status", "bogus", "--data-dir", dd}, 2, "bogus"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := runCLI(t, tc.args...)
			if res.Code != tc.wantCode || !strings.Contains(res.Stderr, tc.wantStderr) {
				t.Errorf("certgate %s: exit %d stderr %q, want exit %d and stderr containing %q",
					strings.Join(tc.args, " "), res.Code, res.Stderr, tc.wantCode, tc.wantStderr)
			}
		})
	}

	for _, tc := range []struct {
		name    string
		filters []string
		want    []string
	}{
		{"ok/list-all", nil, []string{a, b}},
		{"ok/list-status-revoked", []string{"--status", "revoked"}, []string{a}},
		{"ok/list-status-valid", []string{"--status", "valid"}, []string{b}},
		{"ok/list-profile", []string{"--profile", "default"}, []string{a, b}},
		{"ok/list-subject", []string{"--subject", "CLI-B"}, []string{b}},
		{"ok/list-expiring-within-24h", []string{"--expiring-within", "24h"}, nil},
		{"ok/list-expiring-within-9000h", []string{"--expiring-within", "9000h"}, []string{a, b}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mustSerials(t, certsList(t, dd, tc.filters...), tc.want)
		})
	}

	t.Run("ok/show-pem", func(t *testing.T) {
		out := mustCLI(t, "certs", "show", b, "--pem", "--data-dir", dd)
		block, rest := pem.Decode([]byte(out))
		if block == nil || block.Type != "CERTIFICATE" || strings.TrimSpace(string(rest)) != "" {
			t.Fatalf("certs show --pem: want exactly one PEM CERTIFICATE, got:\n%s", out)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if serialHex(cert) != b || cert.Subject.CommonName != "cli-b" {
			t.Errorf("certs show %s --pem: serial %s CN %q", b, serialHex(cert), cert.Subject.CommonName)
		}
		mustChainToRoot(t, srv, cert)
	})

	srv.Stop()

	t.Run("ok/server-stopped", func(t *testing.T) {
		mustSerials(t, certsList(t, dd, "--status", "revoked"), []string{a})
		mustCLI(t, "revoke", b, "--reason", "superseded", "--data-dir", dd)
		mustSerials(t, certsList(t, dd, "--status", "revoked"), []string{a, b})
		if out := mustCLI(t, "certs", "show", b, "--data-dir", dd); !strings.Contains(out, "revoked") {
			t.Errorf("certs show %s after revoke: %s", b, out)
		}
	})
}

// mustSerials checks recs holds exactly the serials in want, in any order.
func mustSerials(t *testing.T, recs []certRecord, want []string) {
	t.Helper()
	got := map[string]bool{}
	for _, r := range recs {
		got[r.Serial] = true
	}
	ok := len(got) == len(want) && len(recs) == len(want)
	for _, s := range want {
		ok = ok && got[s]
	}
	if !ok {
		var have []string
		for _, r := range recs {
			have = append(have, r.Serial+" ("+r.Status+")")
		}
		t.Errorf("serials %v, want %v", have, want)
	}
}
