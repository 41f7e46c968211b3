package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"github.com/certgate/certgate/ca/local"
	"github.com/certgate/certgate/configs"
	"github.com/certgate/certgate/store"
	"github.com/certgate/certgate/store/bolt"
)

// TestServe runs serve in-process on a fresh data dir the way an operator
// starts it with the embedded default config, talks to every public route,
// enrolls one device over SCEP, stops it, and starts it again on the same
// data dir.
func TestServe(t *testing.T) {
	dataDir := t.TempDir()

	first := startServe(t, dataDir)
	if !first.has("created a new CA in") {
		t.Errorf("first start on an empty data dir does not say it created a CA:\n%s", first.banner)
	}
	base := first.field("SCEP URL:")
	if base != "http://"+first.addr+"/scep" {
		t.Errorf("SCEP URL %q, want http://%s/scep (the bound port, not :0)", base, first.addr)
	}

	t.Run("healthz", func(t *testing.T) {
		body := get(t, first.url("/healthz"), http.StatusOK)
		if string(body) != "ok\n" {
			t.Errorf("body %q", body)
		}
	})
	t.Run("readyz", func(t *testing.T) { get(t, first.url("/readyz"), http.StatusOK) })
	t.Run("GetCACaps", func(t *testing.T) {
		caps := string(get(t, first.url("/scep?operation=GetCACaps"), http.StatusOK))
		if !strings.Contains(caps, "POSTPKIOperation") || !strings.Contains(caps, "SHA-256") {
			t.Errorf("caps %q", caps)
		}
	})
	var issuing, root *x509.Certificate
	t.Run("CA certificates", func(t *testing.T) {
		issuing = getCert(t, first.url("/ca/certgate.crt"))
		root = getCert(t, first.url("/ca/root.crt"))
		if err := issuing.CheckSignatureFrom(root); err != nil {
			t.Errorf("issuing CA is not signed by the root: %v", err)
		}
		if err := root.CheckSignatureFrom(root); err != nil {
			t.Errorf("root is not self-signed: %v", err)
		}
		get(t, first.url("/ca/other.crt"), http.StatusNotFound)
	})
	t.Run("X-Request-Id", func(t *testing.T) {
		resp, err := http.Get(first.url("/healthz"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if id := resp.Header.Get("X-Request-Id"); !requestIDRE.MatchString(id) {
			t.Errorf("X-Request-Id = %q", id)
		}
	})

	var issued *x509.Certificate
	t.Run("SCEP enrollment", func(t *testing.T) {
		if issuing == nil {
			t.Skip("no CA certificate")
		}
		issued = enrollSCEP(t, first.url("/scep"), issuing, readChallenge(t, dataDir))
		wantCRL := "http://" + first.addr + "/crl/certgate.crl"
		if len(issued.CRLDistributionPoints) != 1 || issued.CRLDistributionPoints[0] != wantCRL {
			t.Errorf("CRL distribution points %q, want [%s]: the public URL must carry the bound port", issued.CRLDistributionPoints, wantCRL)
		}
	})
	var estLeaf []byte
	t.Run("EST enrollment", func(t *testing.T) {
		if root == nil {
			t.Skip("no CA certificate")
		}
		estURL, _, _ := strings.Cut(first.field("EST URL:"), " ")
		if !strings.HasPrefix(estURL, "https://127.0.0.1:") || !strings.HasSuffix(estURL, "/.well-known/est/") {
			t.Fatalf("EST URL %q, want https://127.0.0.1:<port>/.well-known/est/", estURL)
		}
		cert, serverLeaf := enrollEST(t, estURL, root, readChallenge(t, dataDir))
		estLeaf = serverLeaf
		if cert.Subject.CommonName != "est-device" {
			t.Errorf("issued CN %q", cert.Subject.CommonName)
		}
	})
	t.Run("metrics", func(t *testing.T) {
		m := string(get(t, first.url("/metrics"), http.StatusOK))
		for _, want := range []string{
			`certgate_enrollments_total{profile="default",protocol="scep",result="issued"} 1`,
			`certgate_enrollments_total{profile="default",protocol="est",result="issued"} 1`,
			`certgate_http_requests_total{code="200",method="POST",route="est"} 1`,
			`certgate_http_requests_total{code="200",method="GET",route="ca"}`,
			"go_goroutines ",
			"process_start_time_seconds ",
		} {
			if !strings.Contains(m, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
	})

	if err := first.stop(); err != nil {
		t.Fatalf("serve after cancel = %v, want nil (graceful stop)", err)
	}
	// The store is closed: another process (here, this one) can open it,
	// and the certificate served was recorded.
	st, err := bolt.Open(filepath.Join(dataDir, "certgate.db"), bolt.Options{})
	if err != nil {
		t.Fatalf("reopen store after serve: %v", err)
	}
	if issued != nil {
		rec, err := st.Cert(context.Background(), issued.SerialNumber)
		if err != nil || rec.Status != store.StatusValid || !bytes.Equal(rec.DER, issued.Raw) {
			t.Errorf("record of the issued certificate: %+v, %v", rec, err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "admin.sock")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("admin socket left behind after stop: %v", err)
	}

	second := startServe(t, dataDir)
	if second.has("created a new CA") {
		t.Errorf("second start created a new CA:\n%s", second.banner)
	}
	for _, k := range []string{"CA certificate SHA-256:", "root CA SHA-256:"} {
		if a, b := first.field(k), second.field(k); a == "" || a != b {
			t.Errorf("%s %q on first start, %q on second; want the same CA", k, a, b)
		}
	}
	if estLeaf != nil {
		estURL, _, _ := strings.Cut(second.field("EST URL:"), " ")
		if _, leaf := enrollEST(t, estURL, root, readChallenge(t, dataDir)); !bytes.Equal(leaf, estLeaf) {
			t.Errorf("second start changed the EST server certificate; it should reuse the one in the data dir")
		}
	}
	if err := second.stop(); err != nil {
		t.Fatalf("second serve after cancel = %v", err)
	}
}

// A second serve on a data dir in use fails on the store lock, before it
// touches the running server's admin socket.
func TestServeRefusesDataDirInUse(t *testing.T) {
	dataDir := t.TempDir()
	// A CA made beforehand, as `certgate ca init` would, with small keys
	// for speed; TestServe covers serve creating one.
	if err := local.Init(filepath.Join(dataDir, "ca"), local.InitOptions{Bits: 2048, RootBits: 2048}); err != nil {
		t.Fatal(err)
	}
	running := startServe(t, dataDir)
	if running.has("created a new CA") {
		t.Errorf("serve created a CA over the existing one:\n%s", running.banner)
	}
	cfg := testConfig(t, dataDir)
	var out bytes.Buffer
	err := serve(context.Background(), cfg, zerolog.Nop(), &out)
	if !errors.Is(err, bolt.ErrLocked) {
		t.Fatalf("serve on a data dir in use = %v, want bolt.ErrLocked", err)
	}
	if out.Len() > 0 {
		t.Errorf("failed serve printed a banner: %s", out.String())
	}
	get(t, running.url("/readyz"), http.StatusOK)
	if err := running.stop(); err != nil {
		t.Fatal(err)
	}
}

func TestLoadRefusesUnknownKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "certgate.yaml")
	yaml := "listen: \"127.0.0.1:0\"\nlisten_adress: \"127.0.0.1:9\"\nprofiles:\n  - name: default\n    validator:\n      secrets: [s]\n"
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := configs.Load(path, func(string) string { return "" })
	if err == nil || !strings.Contains(err.Error(), "listen_adress") {
		t.Fatalf("configs.Load = %v, want an error naming listen_adress", err)
	}
}

// testConfig is the embedded default config with the data dir and a free
// loopback port from the environment, as CERTGATE_* variables give them.
func testConfig(t testing.TB, dataDir string) *configs.Config {
	t.Helper()
	env := map[string]string{
		"CERTGATE_DATA_DIR":         dataDir,
		"CERTGATE_LISTEN":           "127.0.0.1:0",
		"CERTGATE_EST_LISTEN":       "127.0.0.1:0",
		"CERTGATE_ADMIN_API_LISTEN": "127.0.0.1:0",
	}
	cfg, err := configs.Load("", func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("configs.Load: %v", err)
	}
	return cfg
}

// server is one in-process serve.
type server struct {
	addr   string
	banner string
	logs   *syncBuffer

	cancel   context.CancelFunc
	done     chan error
	stopOnce sync.Once
	stopErr  error
}

// startServe runs serve until its banner is printed; the test stops it with
// stop (or cleanup does). The banner arrives through a pipe that closes
// when serve returns, so a serve that fails early ends the wait too.
func startServe(t testing.TB, dataDir string) *server {
	t.Helper()
	cfg := testConfig(t, dataDir)
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{logs: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	pr, pw := io.Pipe()
	go func() {
		err := serve(ctx, cfg, zerolog.New(s.logs), pw)
		pw.Close()
		s.done <- err
	}()
	t.Cleanup(func() { _ = s.stop() })

	var banner strings.Builder
	sc := bufio.NewScanner(pr)
	complete := false
	for sc.Scan() {
		banner.WriteString(sc.Text() + "\n")
		// The metrics line is the banner's last.
		if strings.HasPrefix(strings.TrimSpace(sc.Text()), "metrics:") {
			complete = true
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	s.banner = banner.String()
	if !complete {
		t.Fatalf("serve ended before its banner: %v\nbanner:\n%s\nlogs:\n%s", s.stop(), s.banner, s.logs)
	}
	first, _, _ := strings.Cut(s.banner, "\n")
	_, s.addr, _ = strings.Cut(first, " listening on ")
	if s.addr == "" {
		t.Fatalf("banner does not name the address:\n%s", s.banner)
	}
	return s
}

// stop cancels serve's context and returns what serve returned.
func (s *server) stop() error {
	s.stopOnce.Do(func() {
		s.cancel()
		s.stopErr = <-s.done
	})
	return s.stopErr
}

func (s *server) url(path string) string { return "http://" + s.addr + path }

func (s *server) has(text string) bool { return strings.Contains(s.banner, text) }

// field returns the value after label on the banner line that has it.
func (s *server) field(label string) string {
	for _, line := range strings.Split(s.banner, "\n") {
		if _, v, ok := strings.Cut(line, label); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func get(t *testing.T, url string, wantStatus int) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	if resp.StatusCode != wantStatus {
		t.Fatalf("GET %s: status %d, want %d: %s", url, resp.StatusCode, wantStatus, body)
	}
	return body
}

func getCert(t *testing.T, url string) *x509.Certificate {
	t.Helper()
	cert, err := x509.ParseCertificate(get(t, url, http.StatusOK))
	if err != nil {
		t.Fatalf("%s is not a DER certificate: %v", url, err)
	}
	return cert
}

// readChallenge reads the secret serve generated in the data dir.
func readChallenge(t *testing.T, dataDir string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dataDir, "challenge"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			return line
		}
	}
	t.Fatalf("no secret in the generated challenge file")
	return ""
}

// syncBuffer is a bytes.Buffer serve's logger and the test can share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
