//go:build integration

package integration

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// upstreamConfig points profiles at real upstream CAs written by others:
// Debian's scepserver (SCEP, with its challenge, which devices' CSRs
// carry: certgate's static challenge is the same) and globalsign's
// estserver (EST, mTLS), plus one upstream that refuses connections and
// one that accepts and never answers.
const upstreamConfig = `upstreams:
  - {name: scep-up, type: scep, url: "http://127.0.0.1:%d/scep", ra_cert_file: %s, ra_key_file: %s, challenge_env: CG_IT_UP_CHALLENGE}
  - {name: est-up, type: est, url: "https://127.0.0.1:%d/.well-known/est", ca_file: %s, client_cert_file: %s, client_key_file: %s}
  - {name: dead-up, type: est, url: "https://127.0.0.1:%d/.well-known/est", ca_file: %s, client_cert_file: %s, client_key_file: %s, timeout: 2s}
  - {name: slow-up, type: est, url: "https://127.0.0.1:%d/.well-known/est", ca_file: %s, client_cert_file: %s, client_key_file: %s, timeout: 2s}
  - {name: junk-up, type: est, url: "%s/.well-known/est", ca_file: %s, client_cert_file: %s, client_key_file: %s, timeout: 2s}
profiles:
  - {name: default, validator: {secrets_env: CG_IT_UP_CHALLENGE}}
  - {name: via-scep, issuer: scep-up, validator: {secrets_env: CG_IT_UP_CHALLENGE}}
  - {name: via-est, issuer: est-up, validator: {secrets_env: CG_IT_UP_CHALLENGE}}
  - {name: dead, issuer: dead-up, validator: {secrets_env: CG_IT_UP_CHALLENGE}}
  - {name: slow, issuer: slow-up, validator: {secrets_env: CG_IT_UP_CHALLENGE}}
  - {name: junk, issuer: junk-up, validator: {secrets_env: CG_IT_UP_CHALLENGE}}
`

const upstreamChallenge = "upstream-shared-challenge"

// freePort returns a port nothing listens on right now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// issueTestCert writes a key and a certificate to dir/name.{key,crt}; parent
// nil makes it self-signed (a CA when isCA).
func issueTestCert(t *testing.T, dir, name string, key crypto.Signer, tpl *x509.Certificate, parent *x509.Certificate, parentKey any) *x509.Certificate {
	t.Helper()
	if parent == nil {
		parent, parentKey = tpl, crypto.Signer(key)
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, parent, key.Public(), parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return cert
}

func tpl(cn string, serial int64, isCA bool, eku ...x509.ExtKeyUsage) *x509.Certificate {
	c := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), ExtKeyUsage: eku,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment}
	if isCA {
		c.IsCA, c.BasicConstraintsValid, c.KeyUsage = true, true, x509.KeyUsageCertSign|x509.KeyUsageCRLSign
	}
	return c
}

// startDaemon runs a peer until the test ends and waits until port accepts.
func startDaemon(t *testing.T, port int, bin string, args ...string) *syncBuffer {
	t.Helper()
	out := &syncBuffer{}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	for i := 0; i < 300; i++ {
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 100*time.Millisecond); err == nil {
			c.Close()
			return out
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s did not listen on %d:\n%s", bin, port, out.String())
	return nil
}

// TestUpstream: a device enrolling to certgate over SCEP gets a
// certificate signed by scepserver's CA, and over EST one signed by
// estserver's; an upstream that is down or never answers gives the device
// a clean failure within the upstream timeout, and leaves no goroutines.
func TestUpstream(t *testing.T) {
	scepserver := requireTool(t, "scepserver")
	scepclient := requireTool(t, "scepclient")
	estserver := requireGoTool(t, "estserver")
	dir := t.TempDir()

	depot := filepath.Join(dir, "depot")
	if out, err := exec.Command(scepserver, "ca", "-init", "-depot", depot, "-keySize", "2048").CombinedOutput(); err != nil {
		t.Fatalf("scepserver ca -init: %v\n%s", err, out)
	}
	upCA := readCertFile(t, filepath.Join(depot, "ca.pem"))
	scepPort := freePort(t)
	startDaemon(t, scepPort, scepserver, "-depot", depot, "-port", strconv.Itoa(scepPort), "-challenge", upstreamChallenge, "-allowrenew", "0")

	tlsKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serverTpl := tpl("127.0.0.1", 2, false, x509.ExtKeyUsageServerAuth)
	serverTpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	issueTestCert(t, dir, "est-tls", tlsKey, serverTpl, nil, nil)
	clientCAKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	clientCA := issueTestCert(t, dir, "client-ca", clientCAKey, tpl("gateway client CA", 3, true), nil, nil)
	gwKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	issueTestCert(t, dir, "gateway", gwKey, tpl("certgate gateway", 4, false, x509.ExtKeyUsageClientAuth), clientCA, clientCAKey)
	raKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	issueTestCert(t, dir, "ra", raKey, tpl("certgate RA", 5, false), nil, nil)

	// estserver's mock CA (scepserver's key is stored encrypted).
	estCAKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	estCA := issueTestCert(t, dir, "est-ca", estCAKey, tpl("EST upstream CA", 6, true), nil, nil)
	estPort := freePort(t)
	estCfg, _ := json.Marshal(map[string]any{
		"mock_ca": map[string]string{"certificates": filepath.Join(dir, "est-ca.crt"), "private_key": filepath.Join(dir, "est-ca.key")},
		"tls": map[string]any{"listen_address": "127.0.0.1:" + strconv.Itoa(estPort), "certificates": filepath.Join(dir, "est-tls.crt"),
			"private_key": filepath.Join(dir, "est-tls.key"), "client_cas": []string{filepath.Join(dir, "client-ca.crt")}},
		"allowed_hosts": []string{"127.0.0.1"}, "healthcheck_password": "unused", "rate_limit": 0, "timeout": 30,
		"log_file": filepath.Join(dir, "estserver.log"),
	})
	if err := os.WriteFile(filepath.Join(dir, "estserver.json"), estCfg, 0o600); err != nil {
		t.Fatal(err)
	}
	startDaemon(t, estPort, estserver, "-config", filepath.Join(dir, "estserver.json"))

	// An upstream that accepts and never answers.
	slow, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	go func() {
		for {
			c, err := slow.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()

	// An upstream answering garbage where a certificate should be.
	junk := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/pkcs7-mime")
		w.Header().Set("Content-Transfer-Encoding", "base64")
		_, _ = io.WriteString(w, "this is not a PKCS#7 structure at all\n")
	}))
	defer junk.Close()
	junkCA := filepath.Join(dir, "junk.crt")
	if err := os.WriteFile(junkCA, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: junk.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}

	f := func(n string) string { return filepath.Join(dir, n) }
	tlsCA, gwCrt, gwKeyF := f("est-tls.crt"), f("gateway.crt"), f("gateway.key")
	cfg := writeFile(t, "certgate.yaml", fmt.Sprintf(upstreamConfig,
		scepPort, f("ra.crt"), f("ra.key"),
		estPort, tlsCA, gwCrt, gwKeyF,
		freePort(t), tlsCA, gwCrt, gwKeyF,
		slow.Addr().(*net.TCPAddr).Port, tlsCA, gwCrt, gwKeyF,
		junk.URL, junkCA, gwCrt, gwKeyF))
	srv := startServerArgs(t, newDataDir(t), []string{"--config", cfg}, "CG_IT_UP_CHALLENGE="+upstreamChallenge)
	e := &apiEnv{srv: srv, est: srv.ESTURL(), root: x509.NewCertPool()}
	e.root.AppendCertsFromPEM(mustRead(t, srv.CAFile("root.crt")))

	t.Run("ok/SCEP device, SCEP upstream", func(t *testing.T) {
		r := runScepclient(t, scepclient, srv.URL+"/scep/via-scep", upstreamChallenge, "up-scep-1")
		if r.err != nil {
			t.Fatalf("scepclient: %v\n%s", r.err, r.output)
		}
		cert := mustReadCert(t, r.certPath)
		if err := cert.CheckSignatureFrom(upCA); err != nil {
			t.Fatalf("not signed by the upstream CA: %v", err)
		}
		if rec := findRecord(t, srv, serialHex(cert)); rec.Issuer != "scep-up" || rec.Profile != "via-scep" {
			t.Errorf("record issuer %q profile %q, want scep-up via-scep", rec.Issuer, rec.Profile)
		}
	})
	t.Run("ok/EST device, EST upstream with mTLS", func(t *testing.T) {
		_, csr := keyAndCSR(t, pkix.Name{CommonName: "up-est-1"})
		code, _, cert := estPostWith(t, e, "via-est/", csr, upstreamChallenge)
		if code != 200 {
			t.Fatalf("EST: %d", code)
		}
		if err := cert.CheckSignatureFrom(estCA); err != nil {
			t.Fatalf("not signed by the upstream CA: %v", err)
		}
		if rec := findRecord(t, srv, serialHex(cert)); rec.Issuer != "est-up" {
			t.Errorf("record issuer %q, want est-up", rec.Issuer)
		}
	})
	// cacerts of a profile an upstream issues for is the upstream's chain,
	// which the device needs to trust what it enrolled there; asked with
	// globalsign's estclient.
	estclient := requireGoTool(t, "estclient")
	estHost := strings.TrimPrefix(e.est, "https://")
	estHost, _, _ = strings.Cut(estHost, "/")
	cacerts := func(label string) (string, int) {
		return runTool(t, estclient, "cacerts", "-server", estHost, "-aps", label, "-explicit", srv.CAFile("root.crt"),
			"-timeout", "30s", "-out", filepath.Join(dir, label+"-cacerts.pem"))
	}
	t.Run("ok/cacerts of the EST upstream's profile", func(t *testing.T) {
		if out, code := cacerts("via-est"); code != 0 {
			t.Fatalf("estclient cacerts: exit %d\n%s", code, out)
		}
		got := readAllCerts(t, filepath.Join(dir, "via-est-cacerts.pem"))
		if len(got) != 1 || !got[0].Equal(estCA) {
			t.Fatalf("cacerts gave %d certificates, want the EST upstream's CA alone", len(got))
		}
	})
	t.Run("ok/cacerts of the SCEP upstream's profile", func(t *testing.T) {
		if out, code := cacerts("via-scep"); code != 0 {
			t.Fatalf("estclient cacerts: exit %d\n%s", code, out)
		}
		got := readAllCerts(t, filepath.Join(dir, "via-scep-cacerts.pem"))
		if len(got) == 0 || !got[0].Equal(upCA) {
			t.Fatalf("cacerts gave %d certificates, want scepserver's CA first", len(got))
		}
	})

	before := goroutines(t, srv)
	for _, profile := range []string{"dead", "slow", "junk"} {
		t.Run("fail/upstream "+profile, func(t *testing.T) {
			_, csr := keyAndCSR(t, pkix.Name{CommonName: "up-" + profile})
			start := time.Now()
			code, h, _ := estPostWith(t, e, profile+"/", csr, upstreamChallenge)
			took := time.Since(start)
			if code != 503 || h.Get("Retry-After") == "" {
				t.Fatalf("EST: %d Retry-After %q, want 503 with Retry-After", code, h.Get("Retry-After"))
			}
			// The upstream timeout is 2s; the request timeout, 45s.
			if took > 15*time.Second {
				t.Fatalf("answered after %s: the upstream timeout did not bound the call", took)
			}
			r := runScepclient(t, scepclient, srv.URL+"/scep/"+profile, upstreamChallenge, "up-scep-"+profile)
			if r.err == nil {
				t.Fatalf("scepclient enrolled through a %s upstream:\n%s", profile, r.output)
			}
			// Its chain cannot be had either: 503, not certgate's chain.
			resp := estGet(t, e, profile+"/cacerts")
			if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
				t.Fatalf("cacerts: %d Retry-After %q, want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
			}
		})
	}
	// Goroutines settle back: nothing a failed forward started lives on
	// (idle keep-alive connections to the working upstreams aside).
	var after int
	for i := 0; i < 50; i++ {
		if after = goroutines(t, srv); after <= before+2 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if after > before+2 {
		t.Errorf("goroutines %d before the failures, %d after: leaked", before, after)
	}
}

// goroutines reads go_goroutines from the server's /metrics.
func goroutines(t *testing.T, srv *server) int {
	t.Helper()
	resp, err := httpClient.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, "go_goroutines "); ok {
			g, err := strconv.Atoi(strings.TrimSpace(v))
			if err == nil {
				return g
			}
		}
	}
	t.Fatal("no go_goroutines in /metrics")
	return 0
}

// estGet sends a GET to path under the EST URL; the body is read and
// closed.
func estGet(t *testing.T, e *apiEnv, path string) *http.Response {
	t.Helper()
	hc := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: e.root}}}
	defer hc.CloseIdleConnections()
	resp, err := hc.Get(e.est + path)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}
