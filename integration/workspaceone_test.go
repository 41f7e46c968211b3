//go:build integration

package integration

import (
	"encoding/pem"
	"fmt"
	"strings"
	"testing"

	"github.com/certgate/certgate/integration/fakes/fakehttp"
	fakews1 "github.com/certgate/certgate/integration/fakes/workspaceone"
)

// TestWorkspaceOne: with the workspaceone validator, Debian's scepclient
// enrolls a device that the Workspace ONE fake knows as compliant (its
// serial in the CN); a non-compliant device, an unknown one, and the API
// failing (500) are refused, and nothing is issued for them.
func TestWorkspaceOne(t *testing.T) {
	scepclient := requireTool(t, "scepclient")
	fake := fakews1.New("tenant-code-1")
	t.Cleanup(fake.Close)
	fake.AddAdmin("certgate", "ws1-password")
	fake.AddDevice(fakews1.Device{SerialNumber: "C02GOOD", ComplianceStatus: fakews1.Compliant, EnrollmentStatus: fakews1.Enrolled})
	bad := fake.AddDevice(fakews1.Device{SerialNumber: "C02BAD", ComplianceStatus: fakews1.Compliant, EnrollmentStatus: fakews1.Enrolled})
	fake.SetCompliance(bad, fakews1.NonCompliant)

	caFile := writeFile(t, "ws1-ca.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: fake.Certificate().Raw})))
	cfg := writeFile(t, "certgate.yaml", fmt.Sprintf(`profiles:
  - name: default
    validator:
      type: workspaceone
      secrets_env: CG_IT_WS1_CHALLENGE
      workspaceone:
        api_url: %q
        username: certgate
        password_env: CG_IT_WS1_PASSWORD
        tenant_code_env: CG_IT_WS1_TENANT
        ca_file: %s
        timeout: 3s
`, fake.URL(), caFile))
	srv := startServerArgs(t, newDataDir(t), []string{"--config", cfg},
		"CG_IT_WS1_CHALLENGE=ws1-challenge", "CG_IT_WS1_PASSWORD=ws1-password", "CG_IT_WS1_TENANT=tenant-code-1")
	url := srv.URL + "/scep"

	r := runScepclient(t, scepclient, url, "ws1-challenge", "C02GOOD")
	if r.err != nil {
		t.Fatalf("compliant device: %v\n%s", r.err, r.output)
	}
	rec := findRecord(t, srv, serialHex(mustReadCert(t, r.certPath)))
	if !strings.Contains(rec.Subject, "C02GOOD") {
		t.Errorf("record subject %q", rec.Subject)
	}
	reqs := fake.RequestsFor(fakews1.RouteDevices)
	if len(reqs) == 0 || reqs[0].Header.Get("aw-tenant-code") != "tenant-code-1" || !strings.HasPrefix(reqs[0].Header.Get("Authorization"), "Basic ") {
		t.Fatalf("the fake saw %d requests; want Basic and aw-tenant-code on the first", len(reqs))
	}

	for _, tc := range []struct{ name, cn string }{
		{"fail/non-compliant", "C02BAD"},
		{"fail/unknown device", "C02NOBODY"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := runScepclient(t, scepclient, url, "ws1-challenge", tc.cn); r.err == nil {
				t.Fatalf("%s enrolled:\n%s", tc.cn, r.output)
			}
		})
	}
	t.Run("fail/API answers 500", func(t *testing.T) {
		fake.SetFault(fakews1.RouteDevices, fakehttp.Fault{Status: 500, Body: `{"errorCode":1000,"message":"boom"}`})
		defer fake.ClearFaults()
		if r := runScepclient(t, scepclient, url, "ws1-challenge", "C02GOOD"); r.err == nil {
			t.Fatalf("enrolled while the API failed:\n%s", r.output)
		}
	})
	if n := len(certsList(t, srv.DataDir, "--status", "valid")); n != 1 {
		t.Fatalf("%d valid certificates, want only the compliant device's", n)
	}
	if strings.Contains(srv.Stderr.String(), "ws1-password") || strings.Contains(srv.Stderr.String(), "tenant-code-1") {
		t.Error("the log holds the Workspace ONE password or tenant code")
	}
}
