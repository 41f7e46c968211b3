//go:build integration

package integration

import (
	"encoding/pem"
	"fmt"
	osexec "os/exec"
	"testing"
	"time"

	"github.com/certgate/certgate/integration/fakes/fakehttp"
	fakejamf "github.com/certgate/certgate/integration/fakes/jamf"
	fakews1 "github.com/certgate/certgate/integration/fakes/workspaceone"
)

// enrollScepclient enrolls with Debian's scepclient and returns the
// certificate's PEM file.
func enrollScepclient(t *testing.T, url, challenge string, args ...string) string {
	t.Helper()
	dir := t.TempDir()
	certPath := dir + "/cert.pem"
	cmd := osexec.Command(requireTool(t, "scepclient"), append([]string{"-server-url", url, "-challenge", challenge,
		"-private-key", dir + "/key.pem", "-certificate", certPath}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scepclient: %v\n%s", err, out)
	}
	return certPath
}

// TestDeviceStateJamf: a Jamf computer's certificate (CN=$JSSID,
// OU=computers) stays good while Jamf answers 502 (fail_open) and is
// revoked within one interval of the computer's deletion in Jamf Pro.
func TestDeviceStateJamf(t *testing.T) {
	fake := fakejamf.New()
	t.Cleanup(fake.Close)
	fake.AddClient("certgate", secret("jamf-api-secret-ds"))
	id := fake.AddComputer(fakejamf.Computer{ID: "321", Name: "mac-321", UDID: "UDID-321", SerialNumber: "C02X321"})
	caFile := writeFile(t, "jamf-ca.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: fake.Certificate().Raw})))
	cfg := writeFile(t, "certgate.yaml", fmt.Sprintf(`profiles:
  - name: jamf
    validator:
      type: jamf
      secrets_env: CG_IT_JAMF_CHALLENGE
      jamf:
        api: {url: %q, client_id: certgate, client_secret_env: CG_IT_JAMF_API, ca_file: %q}
    device_state: {source: jamf, interval: %s}
scep:
  default_profile: jamf
`, fake.URL(), caFile, deviceInterval))
	srv := startServerArgs(t, newDataDir(t), []string{"--config", cfg},
		"CG_IT_JAMF_CHALLENGE="+secret("jamf-static-challenge-ds"), "CG_IT_JAMF_API=jamf-api-secret-ds")
	e := &deviceStateEnv{revocationEnv: ocspEnvFor(t, srv, "")}
	certFile := enrollScepclient(t, srv.URL+"/scep/jamf", "jamf-static-challenge-ds", "-cn", id, "-ou", "computers")
	if rec := findRecord(t, srv, serialHex(mustReadCert(t, certFile))); rec.DeviceID != "computers/"+id {
		t.Fatalf("device ID %q, want computers/%s", rec.DeviceID, id)
	}
	lookups := func() int { return len(fake.RequestsFor(fakejamf.RouteComputers)) }
	waitFor(t, func() bool { return lookups() >= 2 }, "enrollment check and a device-state lookup")

	fake.SetFault(fakejamf.RouteComputers, fakehttp.HTML(502))
	n := lookups()
	waitFor(t, func() bool { return lookups() >= n+2 }, "two lookups answered 502")
	if a := e.status(t, certFile); a.Status != "good" {
		t.Fatalf("after Jamf answered 502 (fail_open): %s, want good", a.Status)
	}
	fake.ClearFaults()

	deleted := time.Now()
	fake.DeleteComputer(id)
	_, seen := e.waitStatus(t, certFile, "revoked", "cessationOfOperation", 10*deviceInterval)
	t.Logf("Jamf computer deleted → revoked: %s (interval %s)", seen.Sub(deleted).Round(time.Millisecond), deviceInterval)
	if seen.Sub(deleted) > deviceInterval+time.Second {
		t.Errorf("revoked %s after the deletion, want within one interval and a second", seen.Sub(deleted))
	}
}

// TestDeviceStateWorkspaceOne: with compliance_check, a Workspace ONE
// device turning non-compliant puts its certificate on hold, compliant
// again makes it good, and removing the device revokes it.
func TestDeviceStateWorkspaceOne(t *testing.T) {
	fake := fakews1.New("tenant-code-ds")
	t.Cleanup(fake.Close)
	fake.AddAdmin("certgate", "ws1-password-ds")
	dev := fake.AddDevice(fakews1.Device{SerialNumber: "C02DS1", ComplianceStatus: fakews1.Compliant, EnrollmentStatus: fakews1.Enrolled})
	caFile := writeFile(t, "ws1-ca.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: fake.Certificate().Raw})))
	cfg := writeFile(t, "certgate.yaml", fmt.Sprintf(`profiles:
  - name: default
    validator:
      type: workspaceone
      secrets_env: CG_IT_WS1_CHALLENGE
      workspaceone: {api_url: %q, username: certgate, password_env: CG_IT_WS1_PASSWORD, tenant_code_env: CG_IT_WS1_TENANT, ca_file: %q, timeout: 3s}
    device_state: {source: workspaceone, interval: %s, compliance_check: true}
`, fake.URL(), caFile, deviceInterval))
	srv := startServerArgs(t, newDataDir(t), []string{"--config", cfg},
		"CG_IT_WS1_CHALLENGE="+secret("ws1-challenge-ds"), "CG_IT_WS1_PASSWORD="+secret("ws1-password-ds"), "CG_IT_WS1_TENANT="+secret("tenant-code-ds"))
	e := &deviceStateEnv{revocationEnv: ocspEnvFor(t, srv, "")}
	certFile := enrollScepclient(t, srv.URL+"/scep", "ws1-challenge-ds", "-cn", "C02DS1")
	if rec := findRecord(t, srv, serialHex(mustReadCert(t, certFile))); rec.DeviceID != "ws1:serial:C02DS1" {
		t.Fatalf("device ID %q", rec.DeviceID)
	}
	if a := e.status(t, certFile); a.Status != "good" {
		t.Fatalf("compliant device: %s", a.Status)
	}
	fake.SetCompliance(dev, fakews1.NonCompliant)
	e.waitStatus(t, certFile, "revoked", "certificateHold", 10*deviceInterval)
	fake.SetCompliance(dev, fakews1.Compliant)
	e.waitStatus(t, certFile, "good", "", 10*deviceInterval)
	fake.RemoveDevice(dev)
	e.waitStatus(t, certFile, "revoked", "cessationOfOperation", 10*deviceInterval)
}

// waitFor polls cond until it holds, or fails after 15 s naming what.
func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
