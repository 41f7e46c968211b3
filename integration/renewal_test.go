//go:build integration

package integration

import (
	"testing"

	"github.com/smallstep/scep"
)

// TestSCEPRenewal: a RenewalReq without a challenge, signed by a
// certificate certgate issued and has not revoked, gets a new certificate
// recorded as a renewal; signed by a revoked certificate or by one certgate
// never issued, it fails.
func TestSCEPRenewal(t *testing.T) {
	srv := startServer(t, newDataDir(t))
	c := newSCEPClient(t, srv.URL+"/scep")
	first := c.mustEnroll(t, "renew-me", srv.Challenge())

	r := renewalReq(t, "renew-me", first)
	rep := c.mustTransact(t, r)
	second := mustIssued(t, rep, r)
	if serialHex(second.Cert) == serialHex(first.Cert) {
		t.Fatalf("renewal reused serial %s", serialHex(first.Cert))
	}

	recs := certsList(t, srv.DataDir)
	rec := recordBySerial(recs, serialHex(second.Cert))
	if rec == nil {
		t.Fatalf("renewed serial %s not in certs list: %+v", serialHex(second.Cert), recs)
	}
	if rec.RenewalOf != serialHex(first.Cert) || rec.Status != "valid" || rec.Protocol != "scep" {
		t.Errorf("renewal record: renewal_of %q status %q protocol %q, want %q valid scep",
			rec.RenewalOf, rec.Status, rec.Protocol, serialHex(first.Cert))
	}
	renewed, ok := metricValue(t, scrape(t, srv), "certgate_enrollments_total",
		map[string]string{"protocol": "scep", "profile": "default", "result": "renewed"})
	if !ok || renewed != 1 {
		t.Errorf("certgate_enrollments_total{result=renewed} = %v (present %v), want 1", renewed, ok)
	}

	mustCLI(t, "revoke", serialHex(first.Cert), "--reason", "keyCompromise", "--data-dir", srv.DataDir)

	stranger, err := newSelfSignedIdentity("renew-me")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		signer identity
		want   scep.FailInfo
	}{
		{"fail/signed-by-revoked", first, scep.BadRequest},
		{"fail/signed-by-stranger", stranger, scep.BadCertID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(certsList(t, srv.DataDir))
			mustFail(t, c.mustTransact(t, renewalReq(t, "renew-me", tc.signer)), tc.want)
			if after := len(certsList(t, srv.DataDir)); after != before {
				t.Errorf("records: %d before, %d after a refused renewal", before, after)
			}
		})
	}
}
