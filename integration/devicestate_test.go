//go:build integration

package integration

import (
	"crypto/x509"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	xocsp "golang.org/x/crypto/ocsp"

	"github.com/certgate/certgate/integration/fakes/fakehttp"
	"github.com/certgate/certgate/integration/fakes/graph"
	"github.com/certgate/certgate/integration/fakes/intune"
	"github.com/certgate/certgate/integration/fakes/microsoft"
)

// deviceStateEnv is certgate with two Intune-validated profiles that
// check device state every second against the fake Graph: "intune"
// (managedDevice, fail_open) and "entra" (Entra device, fail_closed with
// max_staleness 3s).
type deviceStateEnv struct {
	*revocationEnv
	cloud     *microsoft.Cloud
	challenge string
}

const (
	deviceInterval  = time.Second
	deviceStaleness = 3 * time.Second
)

func startDeviceState(t *testing.T) *deviceStateEnv {
	t.Helper()
	e := newDeviceStateEnv(t)
	cfg := e.config(t, true, "")
	e.revocationEnv = e.serve(t, newDataDir(t), cfg, "", e.env()...)
	return e
}

// newDeviceStateEnv starts the fake cloud, with a challenge Intune
// accepts; no certgate yet.
func newDeviceStateEnv(t *testing.T) *deviceStateEnv {
	t.Helper()
	cloud := microsoft.New()
	t.Cleanup(cloud.Close)
	e := &deviceStateEnv{cloud: cloud, challenge: secret("device-state-challenge-0c1d")}
	cloud.Intune.AllowChallenge(e.challenge, intune.Challenge{})
	return e
}

// env is what certgate needs in its environment.
func (e *deviceStateEnv) env() []string {
	return []string{"CG_IT_INTUNE_SECRET=" + e.cloud.ClientSecret}
}

// config writes the two profiles' config; without device state it keeps
// the profiles (a replica that only serves OCSP); extra is appended.
func (e *deviceStateEnv) config(t *testing.T, deviceState bool, extra string) string {
	t.Helper()
	cloud := e.cloud
	intuneCfg := fmt.Sprintf(`{tenant_id: %s, client_id: %s, client_secret_env: CG_IT_INTUNE_SECRET, authority_url: %q, graph_url: %q, ca_file: %q, timeout: 2s, revocation_poll_interval: -1s}`,
		cloud.Tenant, cloud.ClientID, cloud.Entra.URL()+"/", cloud.Graph.URL()+"/", cloudCAFile(t, cloud))
	intuneDS := fmt.Sprintf("\n    device_state: {source: intune, interval: %s, on_error: fail_open}", deviceInterval)
	entraDS := fmt.Sprintf("\n    device_state: {source: entra, interval: %s, on_error: fail_closed, max_staleness: %s}", deviceInterval, deviceStaleness)
	if !deviceState {
		intuneDS, entraDS = "", ""
	}
	return writeFile(t, "certgate.yaml", fmt.Sprintf(`profiles:
  - name: intune
    validator: {type: intune, intune: %[1]s}%[2]s
  - name: entra
    validator: {type: intune, intune: %[1]s}%[3]s
scep:
  default_profile: intune
crl:
  debounce: 200ms
%[4]s`, intuneCfg, intuneDS, entraDS, extra))
}

// serve starts certgate with cfg on dataDir; caDir is where the CA is
// ("" for the data dir's own).
func (e *deviceStateEnv) serve(t *testing.T, dataDir, cfg, caDir string, env ...string) *revocationEnv {
	t.Helper()
	rv := ocspEnvFor(t, startServerArgs(t, dataDir, []string{"--config", cfg}, env...), caDir)
	srv := rv.srv
	t.Cleanup(func() {
		// Graph tokens certgate used must not be in its logs either.
		for _, route := range []string{graph.RouteManagedDevice, graph.RouteDevices} {
			for _, r := range e.cloud.Graph.RequestsFor(route) {
				if tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "); tok != "" && strings.Contains(srv.Stderr.String(), tok) {
					t.Error("the log holds a Graph token")
					return
				}
			}
		}
	})
	return rv
}

// ocspEnvFor asks srv's OCSP responder with openssl; caDir is where its
// CA is ("" for the data dir's own).
func ocspEnvFor(t *testing.T, srv *server, caDir string) *revocationEnv {
	t.Helper()
	rv := &revocationEnv{srv: srv, openssl: requireTool(t, "openssl"), curl: requireTool(t, "curl")}
	rv.issuer = srv.CAFile("ca.crt")
	if caDir != "" {
		rv.issuer = filepath.Join(caDir, "ca.crt")
	}
	rv.chain = writeCABundle(t, rv.issuer, filepath.Join(filepath.Dir(rv.issuer), "root.crt"))
	return rv
}

// enrollDevice enrolls a certificate with CN=deviceID (Intune reads a GUID
// CN as the device ID) on profile and returns it with its PEM file.
func (e *deviceStateEnv) enrollDevice(t *testing.T, profile, deviceID string) (*x509.Certificate, string) {
	t.Helper()
	id := newSCEPClient(t, e.srv.URL+"/scep/"+profile).mustEnroll(t, deviceID, e.challenge)
	certFile, _ := writeIdentity(t, id)
	if rec := findRecord(t, e.srv, serialHex(id.Cert)); rec.DeviceID != deviceID {
		t.Fatalf("recorded device ID %q, want %q", rec.DeviceID, deviceID)
	}
	return id.Cert, certFile
}

// waitCRL waits until the CRL lists cert with reason (listed) or no
// longer lists it (!listed).
func (e *deviceStateEnv) waitCRL(t *testing.T, cert *x509.Certificate, listed bool, reason string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		c := e.fetchCRL(t)
		entry, ok := c.Entries[opensslSerial(cert)]
		if ok == listed && (!listed || entry.Reason == reason) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("CRL lists the certificate: %v (reason %q), want %v (%q)\n%s", ok, entry.Reason, listed, reason, c.Text)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// status asks openssl ocsp about certFile; the response must verify.
func (e *deviceStateEnv) status(t *testing.T, certFile string) ocspAnswer {
	t.Helper()
	a := e.ask(t, ocspQuery{Target: certTarget(certFile), Verify: []string{"-CAfile", e.chain}})
	if a.Code != 0 || !a.VerifyOK {
		t.Fatalf("openssl ocsp: exit %d, verified %v\n%s", a.Code, a.VerifyOK, a.Out)
	}
	return a
}

// waitStatus asks until openssl reports want (and reason, if given) or
// the deadline passes, and returns the answer and when it came.
func (e *deviceStateEnv) waitStatus(t *testing.T, certFile, want, reason string, within time.Duration) (ocspAnswer, time.Time) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		a := e.status(t, certFile)
		if a.Status == want && (reason == "" || a.Reason == reason) {
			return a, time.Now()
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s openssl ocsp says %s %s, want %s %s\n%s", within, a.Status, a.Reason, want, reason, a.Out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitRequests waits until the fake Graph has had n more requests on
// route than before, i.e. the poller has run that many times.
func (e *deviceStateEnv) waitRequests(t *testing.T, route string, before, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * deviceInterval)
	for len(e.cloud.Graph.RequestsFor(route)) < before+n {
		if time.Now().After(deadline) {
			t.Fatalf("the poller made %d requests on %s, want %d more than %d", len(e.cloud.Graph.RequestsFor(route)), route, n, before)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// validity is nextUpdate - thisUpdate of a response.
func validity(t *testing.T, a ocspAnswer) time.Duration {
	t.Helper()
	r, err := xocsp.ParseResponse(a.DER, nil)
	if err != nil {
		t.Fatalf("parse response: %v", err)
	}
	return r.NextUpdate.Sub(r.ThisUpdate)
}

// TestDeviceStateIntune: an Intune device's certificate is good (for 10
// minutes at most) while the device is managed, stays good while Graph
// answers 5xx, 429, HTML, resets or hangs (fail_open keeps the last known
// state), and is revoked with cessationOfOperation when the device is
// wiped, or within one interval of the device's deletion.
func TestDeviceStateIntune(t *testing.T) {
	e := startDeviceState(t)
	const dev, witness = "0a1b2c3d-0000-4000-8000-00000000a001", "0a1b2c3d-0000-4000-8000-00000000a002"
	e.cloud.Graph.PutManagedDevice(graph.ManagedDevice{ID: dev, EnrolledDateTime: time.Now().Add(-time.Hour)})
	// The witness stays managed: its lookups show the poller runs on
	// after dev's certificate is revoked and no longer checked.
	e.cloud.Graph.PutManagedDevice(graph.ManagedDevice{ID: witness})
	const wiped = "0a1b2c3d-0000-4000-8000-00000000a003"
	e.cloud.Graph.PutManagedDevice(graph.ManagedDevice{ID: wiped})
	_, certFile := e.enrollDevice(t, "intune", dev)
	_, witnessFile := e.enrollDevice(t, "intune", witness)
	_, wipedFile := e.enrollDevice(t, "intune", wiped)
	e.waitRequests(t, graph.RouteManagedDevice, 0, 1)
	a := e.status(t, certFile)
	if a.Status != "good" {
		t.Fatalf("managed device: %s, want good\n%s", a.Status, a.Out)
	}
	if v := validity(t, a); v != 10*time.Minute {
		t.Errorf("good answer valid for %s, want the device-bound 10m", v)
	}

	// fail_open: whatever way Graph fails, the last known state (good)
	// stays.
	for _, tc := range []struct {
		name  string
		fault fakehttp.Fault
	}{
		{"5xx", fakehttp.Fault{Status: http.StatusServiceUnavailable, Body: graph.ErrorBody("ServiceUnavailable", "try later", "")}},
		{"429", graph.Throttled(30)},
		{"HTML", fakehttp.HTML(http.StatusOK)},
		{"reset", fakehttp.Fault{Reset: true}},
		{"timeout", fakehttp.Fault{Hang: true}},
	} {
		t.Run("ok/fail_open keeps the last known state on "+tc.name, func(t *testing.T) {
			e.cloud.Graph.SetFault(graph.RouteManagedDevice, tc.fault)
			defer e.cloud.Graph.ClearFaults(graph.RouteManagedDevice)
			// Two polls of the devices still checked.
			e.waitRequests(t, graph.RouteManagedDevice, len(e.cloud.Graph.RequestsFor(graph.RouteManagedDevice)), 4)
			if a := e.status(t, certFile); a.Status != "good" {
				t.Fatalf("after failed checks with fail_open: %s, want good\n%s", a.Status, a.Out)
			}
		})
	}
	body := scrape(t, e.srv)
	if v, ok := metricValue(t, body, "certgate_device_state_checks_total", map[string]string{"profile": "intune", "source": "intune", "result": "error"}); !ok || v < 10 {
		t.Errorf("checks with result error: %v (present %v), want >= 10", v, ok)
	}
	if v, ok := metricValue(t, body, "certgate_device_state_checks_total", map[string]string{"profile": "intune", "source": "intune", "result": "good"}); !ok || v < 1 {
		t.Errorf("checks with result good: %v (present %v), want >= 1", v, ok)
	}
	if _, ok := metricValue(t, body, "certgate_device_state_staleness_seconds", map[string]string{"profile": "intune"}); !ok {
		t.Error("no staleness gauge")
	}

	t.Run("ok/wiped device is revoked", func(t *testing.T) {
		e.cloud.Graph.SetManagementState(wiped, "wipeIssued")
		e.waitStatus(t, wipedFile, "revoked", "cessationOfOperation", 10*deviceInterval)
	})

	t.Run("ok/deleted device is revoked within one interval", func(t *testing.T) {
		e.waitRequests(t, graph.RouteManagedDevice, len(e.cloud.Graph.RequestsFor(graph.RouteManagedDevice)), 1)
		deleted := time.Now()
		e.cloud.Graph.DeleteManagedDevice(dev)
		_, seen := e.waitStatus(t, certFile, "revoked", "cessationOfOperation", 10*deviceInterval)
		took := seen.Sub(deleted)
		t.Logf("device deleted in the fake → openssl ocsp says revoked: %s (interval %s)", took.Round(time.Millisecond), deviceInterval)
		// One interval, plus one lookup and one openssl round trip.
		if took > deviceInterval+time.Second {
			t.Errorf("revoked %s after the deletion, want within one interval (%s) and a second", took, deviceInterval)
		}
		// A device that comes back does not get its certificate back.
		e.cloud.Graph.PutManagedDevice(graph.ManagedDevice{ID: dev})
		e.waitRequests(t, graph.RouteManagedDevice, len(e.cloud.Graph.RequestsFor(graph.RouteManagedDevice)), 2)
		if a := e.status(t, certFile); a.Status != "revoked" {
			t.Fatalf("after the device came back: %s, want revoked for good", a.Status)
		}
		if a := e.status(t, witnessFile); a.Status != "good" {
			t.Fatalf("the witness device: %s, want good", a.Status)
		}
	})
}

// TestDeviceStateEntra: an Entra device disabled puts its certificate on
// hold (OCSP revoked/certificateHold, valid 5 minutes at most), enabled
// again makes it good; with fail_closed, Graph answering 5xx keeps it good
// for max_staleness and then holds it until Graph answers again.
func TestDeviceStateEntra(t *testing.T) {
	e := startDeviceState(t)
	const dev = "0a1b2c3d-0000-4000-8000-00000000e001"
	e.cloud.Graph.PutEntraDevice(graph.EntraDevice{DeviceID: dev, AccountEnabled: true})
	cert, certFile := e.enrollDevice(t, "entra", dev)
	e.waitRequests(t, graph.RouteDevices, 0, 1)
	if a := e.status(t, certFile); a.Status != "good" {
		t.Fatalf("enabled device: %s, want good", a.Status)
	}

	disabled := time.Now()
	e.cloud.Graph.SetAccountEnabled(dev, false)
	a, seen := e.waitStatus(t, certFile, "revoked", "certificateHold", 10*deviceInterval)
	t.Logf("device disabled → on hold: %s", seen.Sub(disabled).Round(time.Millisecond))
	if v := validity(t, a); v != 5*time.Minute {
		t.Errorf("hold answer valid for %s, want 5m", v)
	}
	e.waitCRL(t, cert, true, "Certificate Hold")

	enabled := time.Now()
	e.cloud.Graph.SetAccountEnabled(dev, true)
	_, seen = e.waitStatus(t, certFile, "good", "", 10*deviceInterval)
	t.Logf("device enabled again → good: %s", seen.Sub(enabled).Round(time.Millisecond))

	// fail_closed: 5xx from Graph. Good until max_staleness since the
	// last confirmation, then on hold.
	e.waitRequests(t, graph.RouteDevices, len(e.cloud.Graph.RequestsFor(graph.RouteDevices)), 1)
	lastGood := time.Now()
	e.cloud.Graph.SetFault(graph.RouteDevices, fakehttp.Fault{Status: http.StatusInternalServerError, Body: graph.ErrorBody("InternalServerError", "oops", "")})
	e.waitRequests(t, graph.RouteDevices, len(e.cloud.Graph.RequestsFor(graph.RouteDevices)), 1)
	if a := e.status(t, certFile); a.Status != "good" && time.Since(lastGood) < deviceStaleness {
		t.Fatalf("within max_staleness: %s, want good", a.Status)
	}
	_, seen = e.waitStatus(t, certFile, "revoked", "certificateHold", deviceStaleness+10*deviceInterval)
	t.Logf("Graph 5xx → on hold after %s (max_staleness %s)", seen.Sub(lastGood).Round(time.Millisecond), deviceStaleness)
	if seen.Sub(lastGood) < deviceStaleness {
		t.Errorf("held %s after the last confirmation, before max_staleness %s", seen.Sub(lastGood), deviceStaleness)
	}
	e.cloud.Graph.ClearFaults(graph.RouteDevices)
	e.waitStatus(t, certFile, "good", "", 10*deviceInterval)
	// A lifted hold leaves the next complete CRL.
	e.waitCRL(t, cert, false, "")
}

// TestDeviceStateReplicas: on PostgreSQL, a hold placed and lifted by the
// replica that checks device state reaches the OCSP answers of a replica
// that does not (it only serves), through the revocation notifications;
// and of two replicas both configured to check, only the leading one asks
// the MDM, and both answer alike, several cycles in a row.
func TestDeviceStateReplicas(t *testing.T) {
	for _, tc := range []struct {
		name       string
		bothCheck  bool
		cycles     int
		deviceHint string
	}{
		{"ok/one checks and the other serves", false, 1, "f001"},
		{"ok/both check", true, 3, "f002"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dsn := secret(newPostgresDatabase(t))
			e := newDeviceStateEnv(t)
			caDir := filepath.Join(t.TempDir(), "ca")
			mustCLI(t, "ca", "init", "--data-dir", filepath.Dir(caDir))
			extra := fmt.Sprintf("store: {type: postgres, dsn_env: CG_IT_PG_DSN}\nca: {dir: %q}\n", caDir)
			env := append(e.env(), "CG_IT_PG_DSN="+dsn)
			checker := e.serve(t, newDataDir(t), e.config(t, true, extra), caDir, env...)
			serving := e.serve(t, newDataDir(t), e.config(t, tc.bothCheck, extra), caDir, env...)
			e.revocationEnv = checker

			dev := "0a1b2c3d-0000-4000-8000-00000000" + tc.deviceHint
			e.cloud.Graph.PutEntraDevice(graph.EntraDevice{DeviceID: dev, AccountEnabled: true})
			_, certFile := e.enrollDevice(t, "entra", dev)
			other := &deviceStateEnv{revocationEnv: serving, cloud: e.cloud}
			// The serving replica caches a "good".
			if a := other.status(t, certFile); a.Status != "good" {
				t.Fatalf("serving replica: %s, want good", a.Status)
			}
			for range tc.cycles {
				e.cloud.Graph.SetAccountEnabled(dev, false)
				_, disabled := other.waitStatus(t, certFile, "revoked", "certificateHold", 10*deviceInterval)
				if a := e.status(t, certFile); a.Status != "revoked" || a.Reason != "certificateHold" {
					t.Fatalf("checking replica: %s %s, want revoked certificateHold", a.Status, a.Reason)
				}
				e.cloud.Graph.SetAccountEnabled(dev, true)
				_, seen := other.waitStatus(t, certFile, "good", "", 10*deviceInterval)
				e.waitStatus(t, certFile, "good", "", 10*deviceInterval)
				t.Logf("the other replica saw the hold, then its release %s later", seen.Sub(disabled).Round(time.Millisecond))
			}
			for _, srv := range []*server{checker.srv, serving.srv} {
				if n := len(srv.LogEntries("devicestate: poll failed")); n > 0 {
					t.Errorf("%d failed polls logged", n)
				}
			}
			// The first replica started leads; the other never polls.
			if v, _ := metricValue(t, scrape(t, checker.srv), "certgate_leader", map[string]string{"role": "crl_ocsp"}); v != 1 {
				t.Errorf("first replica: certgate_leader %v, want 1", v)
			}
			if n := metricSum(scrape(t, serving.srv), "certgate_device_state_checks_total"); n != 0 {
				t.Errorf("the replica that does not lead made %v device-state checks, want 0", n)
			}
			if n := metricSum(scrape(t, checker.srv), "certgate_device_state_checks_total"); n == 0 {
				t.Error("the leading replica made no device-state checks")
			}
		})
	}
}

// metricSum adds up every sample of name in a /metrics body, whatever its
// labels.
func metricSum(body, name string) float64 {
	var sum float64
	for _, line := range strings.Split(body, "\n") {
		series, value, ok := strings.Cut(line, " ")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		if metric, _, _ := strings.Cut(series, "{"); metric == name {
			if f, err := strconv.ParseFloat(strings.Fields(value)[0], 64); err == nil {
				sum += f
			}
		}
	}
	return sum
}
