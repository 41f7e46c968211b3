//go:build integration

package integration

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certgate/certgate/integration/fakes/entra"
	"github.com/certgate/certgate/integration/fakes/fakehttp"
	"github.com/certgate/certgate/integration/fakes/intune"
	"github.com/certgate/certgate/integration/fakes/microsoft"
)

// intuneEnv is certgate with an Intune-validated profile, pointed at the
// fake Microsoft cloud.
type intuneEnv struct {
	cloud *microsoft.Cloud
	srv   *server
	url   string
}

// startIntune runs certgate against a new fake cloud; poll is the
// revocation poller's interval ("-1s": off).
func startIntune(t *testing.T, poll string) *intuneEnv {
	t.Helper()
	cloud := microsoft.New()
	t.Cleanup(cloud.Close)
	caFile := cloudCAFile(t, cloud)
	cfg := writeFile(t, "certgate.yaml", fmt.Sprintf(`profiles:
  - name: intune
    validator:
      type: intune
      intune:
        tenant_id: %s
        client_id: %s
        client_secret_env: CG_IT_INTUNE_SECRET
        authority_url: %s
        graph_url: %s
        ca_file: %s
        timeout: 3s
        revocation_poll_interval: %s
scep:
  default_profile: intune
`, cloud.Tenant, cloud.ClientID, cloud.Entra.URL()+"/", cloud.Graph.URL()+"/", caFile, poll))
	srv := startServerArgs(t, newDataDir(t), []string{"--config", cfg}, "CG_IT_INTUNE_SECRET="+cloud.ClientSecret)
	return &intuneEnv{cloud: cloud, srv: srv, url: srv.URL + "/scep/intune"}
}

// cloudCAFile writes the fake cloud's TLS certificates to a PEM file for
// intune.ca_file.
func cloudCAFile(t *testing.T, cloud *microsoft.Cloud) string {
	t.Helper()
	var roots []byte
	for _, der := range [][]byte{cloud.Entra.Certificate().Raw, cloud.Graph.Certificate().Raw, cloud.Intune.Certificate().Raw} {
		roots = append(roots, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	return writeFile(t, "fakes.pem", string(roots))
}

// events returns the fake Intune's calls of one route.
func (e *intuneEnv) events(route string) []intune.Event {
	var out []intune.Event
	for _, ev := range e.cloud.Intune.Events() {
		if ev.Route == route {
			out = append(out, ev)
		}
	}
	return out
}

// TestIntuneSCEPClient enrolls Debian's scepclient through Intune's SCEP
// validation against the fakes: the fake sees the exact CSR and
// transaction ID with the right headers and token, and then a success
// notification naming the certificate the client received.
func TestIntuneSCEPClient(t *testing.T) {
	bin := requireTool(t, "scepclient")
	e := startIntune(t, "1s")
	e.cloud.Intune.AllowChallenge("intune-challenge-ok", intune.Challenge{})
	r := runScepclient(t, bin, e.url, "intune-challenge-ok", "intune-device-1")
	if r.err != nil {
		t.Fatalf("scepclient: %v\n%s", r.err, r.output)
	}
	cert := mustReadCert(t, r.certPath)

	validations := e.events(intune.RouteValidate)
	if len(validations) != 1 || validations[0].Code != "Success" {
		t.Fatalf("validateRequest calls: %+v, want one answered Success", validations)
	}
	v := validations[0]
	csrPEM, err := os.ReadFile(filepath.Join(r.dir, "csr.pem"))
	if err == nil {
		if b, _ := pem.Decode(csrPEM); b == nil || string(b.Bytes) != string(v.CSR) {
			t.Error("the fake did not see the exact CSR the client made")
		}
	}
	if v.Header.Get("api-version") != intune.APIVersionSCEP || v.Header.Get("client-request-id") == "" {
		t.Errorf("headers: api-version %q client-request-id %q", v.Header.Get("api-version"), v.Header.Get("client-request-id"))
	}
	token := strings.TrimPrefix(v.Header.Get("Authorization"), "Bearer ")
	if aud, _ := e.cloud.Entra.Audience(token); aud != intune.Audience {
		t.Errorf("validateRequest token audience %q, want %q", aud, intune.Audience)
	}
	rec := findRecord(t, e.srv, serialHex(cert))
	if rec.TransactionID != v.TransactionID {
		t.Errorf("fake saw transaction %q, certgate recorded %q", v.TransactionID, rec.TransactionID)
	}

	successes := e.events(intune.RouteSuccess)
	if len(successes) != 1 {
		t.Fatalf("%d successNotification calls, want 1", len(successes))
	}
	s := successes[0].Success
	thumb := sha1.Sum(cert.Raw)
	if !strings.EqualFold(strings.TrimLeft(s.CertificateSerialNumber, "0"), strings.TrimLeft(serialHex(cert), "0")) ||
		!strings.EqualFold(s.CertificateThumbprint, hex.EncodeToString(thumb[:])) || s.TransactionID != v.TransactionID {
		t.Errorf("successNotification serial %s thumbprint %s tx %s; want the certificate the client got (%s, %x)",
			s.CertificateSerialNumber, s.CertificateThumbprint, s.TransactionID, serialHex(cert), thumb)
	}
	// Intune asks for the certificate to be revoked (device wiped): the
	// poller revokes it and reports success.
	e.cloud.Intune.QueueRevocations(intune.RevocationRequest{RequestContext: "wipe-1", SerialNumber: s.CertificateSerialNumber})
	deadline := time.Now().Add(20 * time.Second)
	for len(e.cloud.Intune.RevocationResults()) == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	results := e.cloud.Intune.RevocationResults()
	if len(results) != 1 || !results[0].Succeeded || results[0].RequestContext != "wipe-1" {
		t.Fatalf("revocation results %+v, want wipe-1 succeeded", results)
	}
	if rec := findRecord(t, e.srv, serialHex(cert)); rec.Status != "revoked" || rec.RevocationReason != "cessationOfOperation" {
		t.Fatalf("record after Intune's revocation request: %s %s", rec.Status, rec.RevocationReason)
	}
	if logs := e.srv.Stderr.String(); strings.Contains(logs, e.cloud.ClientSecret) || strings.Contains(logs, token) || strings.Contains(logs, "intune-challenge-ok") {
		t.Error("the log holds the client secret, a token or the challenge")
	}
}

// TestIntuneFailClosed: for every Intune verdict other than Success, and
// for a 500, an HTML page, a timeout and a token failure, the client gets
// FAILURE, nothing is issued, and no success notification is sent. A 500
// on the success notification fails the enrollment and revokes the
// certificate.
func TestIntuneFailClosed(t *testing.T) {
	bin := requireTool(t, "scepclient")
	e := startIntune(t, "-1s") // no poller: the first token is the test's
	type setup func(t *testing.T, challenge string)
	verdict := func(code string) setup {
		return func(t *testing.T, challenge string) {
			e.cloud.Intune.AllowChallenge(challenge, intune.Challenge{Code: code, Description: "test says " + code})
		}
	}
	fault := func(srv interface{ SetFault(string, fakehttp.Fault) }, route string, f fakehttp.Fault) setup {
		return func(t *testing.T, challenge string) {
			e.cloud.Intune.AllowChallenge(challenge, intune.Challenge{})
			srv.SetFault(route, f)
		}
	}
	// The token failure runs first, before any token is cached.
	cases := []struct {
		name  string
		setup setup
	}{{"fail/token failure", fault(e.cloud.Entra, entra.RouteToken, fakehttp.Fault{Status: 500, Body: "{}"})}}
	for _, code := range intune.Codes[1:] {
		cases = append(cases, struct {
			name  string
			setup setup
		}{"fail/code " + code, verdict(code)})
	}
	cases = append(cases, []struct {
		name  string
		setup setup
	}{
		{"fail/unknown code", verdict("SomethingNewFromMicrosoft")},
		{"fail/intune 500", fault(e.cloud.Intune, intune.RouteValidate, fakehttp.Fault{Status: 500, Body: `{"error":"boom"}`})},
		{"fail/intune HTML page", fault(e.cloud.Intune, intune.RouteValidate, fakehttp.HTML(503))},
		{"fail/intune timeout", fault(e.cloud.Intune, intune.RouteValidate, fakehttp.Fault{Hang: true})},
	}...)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			challenge := fmt.Sprintf("intune-challenge-%d", i)
			tc.setup(t, challenge)
			defer e.cloud.Intune.ClearFaults()
			defer e.cloud.Entra.ClearFaults()
			before := len(e.events(intune.RouteSuccess))
			r := runScepclient(t, bin, e.url, challenge, fmt.Sprintf("refused-%d", i))
			if r.err == nil {
				t.Fatalf("scepclient enrolled:\n%s", r.output)
			}
			if n := len(e.events(intune.RouteSuccess)); n != before {
				t.Errorf("a successNotification was sent")
			}
		})
	}
	if recs := certsList(t, e.srv.DataDir, "--status", "valid"); len(recs) != 0 {
		t.Fatalf("%d certificates issued by refused requests", len(recs))
	}

	t.Run("fail/successNotification 500 revokes", func(t *testing.T) {
		e.cloud.Intune.AllowChallenge("intune-challenge-notify", intune.Challenge{})
		e.cloud.Intune.SetFault(intune.RouteSuccess, fakehttp.Fault{Status: 500, Body: `{"error":"down"}`})
		defer e.cloud.Intune.ClearFaults()
		r := runScepclient(t, bin, e.url, "intune-challenge-notify", "notify-fails")
		if r.err == nil {
			t.Fatalf("scepclient enrolled although Intune did not take the notification:\n%s", r.output)
		}
		recs := certsList(t, e.srv.DataDir, "--status", "revoked")
		if len(recs) != 1 || recs[0].CommonName != "notify-fails" || recs[0].RevocationReason != "cessationOfOperation" {
			t.Fatalf("revoked records %+v, want notify-fails revoked with cessationOfOperation", recs)
		}
	})
}

// TestIntuneTokenRenewedOnce: certgate's Intune token expires while it is
// idle, then several devices enroll at once: each enrollment is validated
// and notified with a live token, and Entra is asked for a new Intune
// token exactly once.
func TestIntuneTokenRenewedOnce(t *testing.T) {
	bin := requireTool(t, "scepclient")
	e := startIntune(t, "-1s")
	const life = 4 * time.Second
	e.cloud.Entra.SetTokenLifetime(life)
	const devices = 5
	for i := range devices + 1 {
		e.cloud.Intune.AllowChallenge(fmt.Sprintf("intune-renew-%d", i), intune.Challenge{})
	}
	if r := runScepclient(t, bin, e.url, "intune-renew-0", "intune-renew-0"); r.err != nil {
		t.Fatalf("first enrollment: %v\n%s", r.err, r.output)
	}
	first := e.cloud.Entra.TokensIssued(intune.Audience)
	if first != 1 {
		t.Fatalf("%d Intune tokens after one enrollment, want 1", first)
	}
	time.Sleep(life + 500*time.Millisecond) // the token is now expired

	var wg sync.WaitGroup
	runs := make([]scepclientRun, devices)
	for i := range devices {
		wg.Go(func() {
			runs[i] = runScepclient(t, bin, e.url, fmt.Sprintf("intune-renew-%d", i+1), fmt.Sprintf("intune-renew-%d", i+1))
		})
	}
	wg.Wait()
	for i, r := range runs {
		if r.err != nil {
			t.Errorf("enrollment %d after expiry: %v\n%s", i+1, r.err, r.output)
		}
	}
	if n := e.cloud.Entra.TokensIssued(intune.Audience); n != first+1 {
		t.Errorf("%d Intune tokens issued in all, want %d: the expired one renewed exactly once", n, first+1)
	}
	if n := len(e.events(intune.RouteSuccess)); n != devices+1 {
		t.Errorf("%d success notifications, want %d", n, devices+1)
	}
}
