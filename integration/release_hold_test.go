//go:build integration

package integration

import (
	"strings"
	"testing"
	"time"
)

// TestReleaseHoldCLI: an operator puts a certificate on hold and lifts it
// with the CLI against the running server. openssl ocsp says revoked
// (certificateHold), then good at once; the CRL lists the hold, then a
// later CRL no longer does. Lifting twice, or lifting a final revocation,
// is refused and changes nothing.
func TestReleaseHoldCLI(t *testing.T) {
	e := newRevocationEnv(t, "CERTGATE_CRL_DEBOUNCE=200ms")
	held, heldFile := e.enroll(t, "hold-me")
	gone, goneFile := e.enroll(t, "revoke-me")
	q := func(file string) ocspQuery {
		return ocspQuery{Target: certTarget(file), Verify: []string{"-CAfile", e.chain}}
	}
	e.mustAsk(t, q(heldFile), "good") // cached "good" before the hold

	e.revokeCLI(t, held.Cert, "certificateHold")
	if a := e.mustAsk(t, q(heldFile), "revoked"); a.Reason != "certificateHold" {
		t.Fatalf("reason %q, want certificateHold\n%s", a.Reason, a.Out)
	}
	withHold := e.waitCRLEntry(t, opensslSerial(held.Cert))

	out := mustCLI(t, "release-hold", serialHex(held.Cert), "--data-dir", e.srv.DataDir)
	if !strings.Contains(out, "released "+serialHex(held.Cert)+": valid again") {
		t.Fatalf("certgate release-hold printed %q", out)
	}
	e.mustAsk(t, q(heldFile), "good")
	deadline := time.Now().Add(10 * time.Second)
	for {
		c := e.fetchCRL(t)
		if _, listed := c.Entries[opensslSerial(held.Cert)]; !listed {
			if c.Number <= withHold.Number || !c.VerifyOK {
				t.Fatalf("CRL without the hold: number %d (was %d), verify OK %v", c.Number, withHold.Number, c.VerifyOK)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the CRL still lists the released hold 10s later:\n%s", c.Text)
		}
		time.Sleep(50 * time.Millisecond)
	}

	e.revokeCLI(t, gone.Cert, "keyCompromise")
	for _, tc := range []struct {
		name, serial, file, want string
	}{
		{"fail/not on hold any more", serialHex(held.Cert), heldFile, "good"},
		{"fail/final revocation", serialHex(gone.Cert), goneFile, "revoked"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := runCLI(t, "release-hold", tc.serial, "--data-dir", e.srv.DataDir)
			if res.Code == 0 || !strings.Contains(res.Stderr, "is not on certificateHold") {
				t.Fatalf("release-hold: exit %d\nstdout %s\nstderr %s", res.Code, res.Stdout, res.Stderr)
			}
			e.mustAsk(t, q(tc.file), tc.want)
		})
	}
}
