//go:build integration

package integration

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// TestOCSPCRLOfflineRevoke: `certgate revoke` with the server stopped
// writes to the database directly and drops the pre-signed OCSP response
// and the cached CRL, so the restarted server answers "revoked" at once
// and its first CRL lists the certificate. Both caches are filled before
// the stop, so a stale "good" or stale CRL would be served if the drop
// did not happen.
func TestOCSPCRLOfflineRevoke(t *testing.T) {
	e := newRevocationEnv(t, fixedPublicURL, "CERTGATE_CRL_DEBOUNCE=200ms")
	id, file := e.enroll(t, "offline-revoke")
	verify := []string{"-CAfile", e.chain}
	post := ocspQuery{Target: certTarget(file), Verify: verify}
	get := ocspQuery{Target: certTarget(file), GET: true, Verify: verify}
	e.mustAsk(t, post, "good")
	e.mustAsk(t, get, "good")
	before := e.fetchCRL(t)

	e.srv.Stop()
	revokedAt := e.revokeCLI(t, id.Cert, "keyCompromise")
	e.restart(t)

	for _, tc := range []struct {
		name string
		q    ocspQuery
	}{
		{"ok/ocsp/POST", post},
		{"ok/ocsp/GET", get},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := e.mustAsk(t, tc.q, "revoked")
			if a.Reason != "keyCompromise" || !a.RevokedAt.Equal(revokedAt) {
				t.Errorf("reason %q at %v, want keyCompromise at %v\n%s", a.Reason, a.RevokedAt, revokedAt, a.Out)
			}
		})
	}
	t.Run("ok/crl", func(t *testing.T) {
		after := e.fetchCRL(t)
		en, ok := after.Entries[opensslSerial(id.Cert)]
		switch {
		case !after.VerifyOK:
			t.Errorf("openssl crl -CAfile chain: no \"verify OK\"\n%s", after.Text)
		case !ok || en.Reason != "Key Compromise":
			t.Errorf("first CRL after restart: entry %s present %v reason %q, want Key Compromise\n%s", opensslSerial(id.Cert), ok, en.Reason, after.Text)
		case after.Number <= before.Number:
			t.Errorf("CRL Number %d after restart, want more than %d", after.Number, before.Number)
		}
	})
}

// TestOCSPRestartKeepsResponses: a pre-signed response survives a
// restart byte for byte. With the default delegated responder every
// process signs with a fresh key, so a re-signed response could not be
// equal to the old one.
func TestOCSPRestartKeepsResponses(t *testing.T) {
	e := newRevocationEnv(t, fixedPublicURL)
	_, file := e.enroll(t, "restart-cache")
	f := filepath.Join(t.TempDir(), "req.der")
	mustRunTool(t, e.openssl, "ocsp", "-issuer", e.issuer, "-cert", file, "-no_nonce", "-reqout", f)
	req, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	first := e.getOCSP(t, req)
	if first.Code != http.StatusOK || first.Header.Get("ETag") == "" {
		t.Fatalf("GET before restart: HTTP %d ETag %q, want 200 and a cacheable response", first.Code, first.Header.Get("ETag"))
	}
	e.restart(t)
	second := e.getOCSP(t, req)
	if second.Code != http.StatusOK {
		t.Fatalf("GET after restart: HTTP %d, want 200", second.Code)
	}
	if !bytes.Equal(first.Body, second.Body) {
		t.Errorf("response after restart differs from the one before (%d vs %d bytes): it was re-signed", len(second.Body), len(first.Body))
	}
	if first.Header.Get("ETag") != second.Header.Get("ETag") {
		t.Errorf("ETag %q after restart, %q before", second.Header.Get("ETag"), first.Header.Get("ETag"))
	}
	// The old responder certificate is still valid, so the kept response
	// must still verify.
	e.mustAsk(t, ocspQuery{Target: certTarget(file), GET: true, Verify: []string{"-CAfile", e.chain}}, "good")
}
