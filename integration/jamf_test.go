//go:build integration

package integration

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"net/http"
	osexec "os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	fakejamf "github.com/certgate/certgate/integration/fakes/jamf"
)

// TestJamfWebhook: Jamf's SCEPChallenge webhook (driven by the fake's
// webhook driver) returns a one-time challenge with which Debian's
// scepclient enrolls once, bound to CN=$JSSID,OU=computers and checked
// against the Jamf Pro fake; the second use fails, wrong webhook
// credentials get 401, a deleted computer is refused, a challenge past
// its TTL is refused, and under load the Jamf fake never sees more than 5
// concurrent connections.
func TestJamfWebhook(t *testing.T) {
	scepclient := requireTool(t, "scepclient")
	fake := fakejamf.New()
	t.Cleanup(fake.Close)
	fake.AddClient("certgate", "jamf-api-secret")
	id := fake.AddComputer(fakejamf.Computer{ID: "123", Name: "mac-123", UDID: "UDID-123", SerialNumber: "C02X123"})

	caFile := writeFile(t, "jamf-ca.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: fake.Certificate().Raw})))
	cfg := writeFile(t, "certgate.yaml", fmt.Sprintf(`profiles:
  - name: default
    validator: {secrets: [unused-static-secret]}
  - name: jamf
    validator:
      type: jamf
      jamf:
        webhook: {username: jamf, password_env: CG_IT_JAMF_HOOK, ttl: 1m}
        api: {url: %q, client_id: certgate, client_secret_env: CG_IT_JAMF_API, ca_file: %s}
`, fake.URL(), caFile))
	srv := startServerArgs(t, newDataDir(t), []string{"--config", cfg},
		"CG_IT_JAMF_HOOK=hook-password", "CG_IT_JAMF_API=jamf-api-secret")
	estBase := srv.ESTURL()
	hookURL := strings.TrimSuffix(estBase, "/.well-known/est/") + "/jamf/jamf/scep-challenge"
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(mustRead(t, srv.CAFile("root.crt")))
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	driver := fakejamf.WebhookDriver{Client: hc, URL: hookURL, Username: "jamf", Password: "hook-password"}
	mint := func(t *testing.T) string {
		t.Helper()
		res, err := driver.SCEPChallenge(context.Background(), fakejamf.SCEPChallengeEvent{
			ID: 1, Name: "SCEP challenge", Time: time.Now(), PayloadIdentifier: "com.example.scep." + id,
		})
		if err != nil || res.Status != 200 {
			t.Fatalf("webhook: %+v, %v", res, err)
		}
		c, err := res.Challenge()
		if err != nil {
			t.Fatal(err)
		}
		return secret(c)
	}
	url := srv.URL + "/scep/jamf"
	enroll := func(t *testing.T, challenge, cn string) scepclientRun {
		t.Helper()
		dir := t.TempDir()
		r := scepclientRun{dir: dir, keyPath: dir + "/key.pem", certPath: dir + "/cert.pem"}
		out, err := osexec.Command(scepclient, "-server-url", url, "-challenge", challenge,
			"-private-key", r.keyPath, "-certificate", r.certPath, "-cn", cn, "-ou", "computers").CombinedOutput()
		r.output, r.err = string(out), err
		return r
	}

	// Minted first and used last, once its one-minute life (the least
	// the webhook allows) is over; the other cases run meanwhile.
	expiring, mintedAt := mint(t), time.Now()
	challenge := mint(t)
	t.Run("ok/first use", func(t *testing.T) {
		r := enroll(t, challenge, id)
		if r.err != nil {
			t.Fatalf("scepclient: %v\n%s", r.err, r.output)
		}
		cert := mustReadCert(t, r.certPath)
		rec := findRecord(t, srv, serialHex(cert))
		if rec.CommonName != id {
			t.Errorf("record CN %q, want %s", rec.CommonName, id)
		}
		if devs := certsList(t, srv.DataDir, "--device", "computers/"+id); len(devs) != 1 {
			t.Errorf("%d certificates recorded for device computers/%s, want 1", len(devs), id)
		}
	})
	t.Run("fail/second use", func(t *testing.T) {
		if r := enroll(t, challenge, id); r.err == nil {
			t.Fatalf("a used challenge enrolled again:\n%s", r.output)
		}
	})
	t.Run("fail/wrong webhook credentials", func(t *testing.T) {
		bad := driver
		bad.Password = "wrong"
		res, err := bad.SCEPChallenge(context.Background(), fakejamf.SCEPChallengeEvent{ID: 2, Time: time.Now(), PayloadIdentifier: "x"})
		if err != nil || res.Status != 401 {
			t.Fatalf("wrong credentials: %+v, %v; want 401", res, err)
		}
	})
	t.Run("fail/subject not bound to a Jamf object", func(t *testing.T) {
		if r := enroll(t, mint(t), "laptop-7"); r.err == nil {
			t.Fatalf("a CSR without a JSS ID enrolled:\n%s", r.output)
		}
	})
	t.Run("fail/deleted computer", func(t *testing.T) {
		gone := fake.AddComputer(fakejamf.Computer{ID: "456", Name: "mac-456"})
		fake.DeleteComputer(gone)
		if r := enroll(t, mint(t), gone); r.err == nil {
			t.Fatalf("a computer Jamf no longer knows enrolled:\n%s", r.output)
		}
	})
	t.Run("ok/at most 5 connections to Jamf under load", func(t *testing.T) {
		e := &apiEnv{srv: srv, est: estBase, root: roots}
		fake.ResetMaxInFlight()
		var wg sync.WaitGroup
		codes := make([]int, 20)
		challenges := make([]string, 20)
		for i := range challenges {
			challenges[i] = mint(t)
		}
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, csr := keyAndCSR(t, pkix.Name{CommonName: id, OrganizationalUnit: []string{"computers"}})
				codes[i] = estPostAuth(t, e, "jamf/", csr, challenges[i])
			}()
		}
		wg.Wait()
		for i, c := range codes {
			if c != 200 {
				t.Errorf("enrollment %d: HTTP %d", i, c)
			}
		}
		if m := fake.MaxInFlight(); m > 5 || m == 0 {
			t.Fatalf("the Jamf fake saw %d concurrent requests, want 1..5", m)
		}
	})
	t.Run("fail/expired", func(t *testing.T) {
		time.Sleep(time.Until(mintedAt.Add(time.Minute + 2*time.Second)))
		before := len(certsList(t, srv.DataDir, "--device", "computers/"+id))
		if r := enroll(t, expiring, id); r.err == nil {
			t.Fatalf("a challenge past its TTL enrolled:\n%s", r.output)
		}
		if after := len(certsList(t, srv.DataDir, "--device", "computers/"+id)); after != before {
			t.Errorf("%d certificates for computers/%s after the refusal, want %d", after, id, before)
		}
		if len(srv.LogEntries("enrollment")) == 0 || !strings.Contains(srv.Stderr.String(), "unknown, used or expired one-time challenge") {
			t.Error("the refusal is not logged as an unknown, used or expired challenge")
		}
	})
	if logs := srv.Stderr.String(); strings.Contains(logs, challenge) || strings.Contains(logs, expiring) || strings.Contains(logs, "hook-password") || strings.Contains(logs, "jamf-api-secret") {
		t.Error("the log holds a challenge or a Jamf credential")
	}
}
