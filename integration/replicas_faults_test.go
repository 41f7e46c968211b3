//go:build integration

package integration

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// pgCluster is a PostgreSQL cluster of the test's own, which it can stop
// and start (scripts/pg-test-cluster pause/resume).
type pgCluster struct {
	script, dir, dsn string
}

func startPGCluster(t *testing.T) *pgCluster {
	t.Helper()
	if os.Getenv("CERTGATE_TEST_POSTGRES_DSN") == "" && os.Getenv("CI") != "true" {
		t.Skip("no PostgreSQL here (scripts/test provides one)")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	// Under /tmp itself: the postgres user must reach the directory.
	c := &pgCluster{script: filepath.Join(root, "scripts", "pg-test-cluster"), dir: "/tmp/certgate-pgfault-" + hex.EncodeToString(b)}
	c.dsn = strings.TrimSpace(mustRunTool(t, c.script, "start", c.dir))
	t.Cleanup(func() { runTool(t, c.script, "stop", c.dir) })
	return c
}

func (c *pgCluster) pause(t *testing.T)  { t.Helper(); mustRunTool(t, c.script, "pause", c.dir) }
func (c *pgCluster) resume(t *testing.T) { t.Helper(); mustRunTool(t, c.script, "resume", c.dir) }

// TestReplicaFaults: during load over two replicas, kill -9 one of them,
// then stop PostgreSQL for 10 s. The surviving replica's OCSP keeps
// answering from its cache, enrollment fails fast (503) and recovers by
// itself, /readyz follows the database, and no certificate a client
// received is missing from the store afterwards. The survivor leads,
// gives the lead up while the database is away, and takes it again.
func TestReplicaFaults(t *testing.T) {
	openssl := requireTool(t, "openssl")
	pg := startPGCluster(t)
	caDir := filepath.Join(t.TempDir(), "ca")
	mustCLI(t, "ca", "init", "--data-dir", filepath.Dir(caDir))
	cfg := writeFile(t, "certgate.yaml", fmt.Sprintf(replicaConfig, caDir))
	env := []string{"CG_IT_PG_DSN=" + pg.dsn, "CG_IT_API_CHALLENGE=" + apiChallenge}
	start := func() *apiEnv {
		srv := startServerArgs(t, newDataDir(t), []string{"--config", cfg}, env...)
		e := &apiEnv{srv: srv, est: srv.ESTURL(), root: x509.NewCertPool()}
		e.root.AppendCertsFromPEM(mustRead(t, filepath.Join(caDir, "root.crt")))
		return e
	}
	a, b := start(), start()

	// A certificate whose OCSP answer B has cached.
	_, csr := keyAndCSR(t, pkix.Name{CommonName: "cached"})
	_, _, cached := estPost(t, a, "", csr)
	dir := t.TempDir()
	certFile, chain, issuer := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "chain.pem"), filepath.Join(dir, "issuer.pem")
	caPEM, rootPEM := mustRead(t, filepath.Join(caDir, "ca.crt")), mustRead(t, filepath.Join(caDir, "root.crt"))
	for f, b := range map[string][]byte{certFile: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cached.Raw}), issuer: caPEM, chain: append(caPEM, rootPEM...)} {
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ocspB := func() string {
		out, _ := runTool(t, openssl, "ocsp", "-issuer", issuer, "-cert", certFile, "-url", b.srv.URL+"/ocsp", "-CAfile", chain, "-no_nonce", "-timeout", "5")
		for _, line := range strings.Split(out, "\n") {
			if v, ok := strings.CutPrefix(line, certFile+": "); ok {
				return strings.TrimSpace(v)
			}
		}
		return "no answer"
	}
	if s := ocspB(); s != "good" {
		t.Fatalf("B: %q, want good", s)
	}

	// Load over both replicas; every certificate a client gets is kept.
	var mu sync.Mutex
	var received []string
	var stop atomic.Bool
	var wg sync.WaitGroup
	var n atomic.Int64
	var aDown atomic.Bool
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				i := n.Add(1)
				target := []*apiEnv{a, b}[i%2]
				if aDown.Load() { // killed: only B
					target = b
				}
				_, csr := keyAndCSR(t, pkix.Name{CommonName: fmt.Sprintf("load-%d", i)})
				code, _, cert := estPostQuiet(target, csr)
				if code == 200 {
					mu.Lock()
					received = append(received, serialHex(cert))
					mu.Unlock()
				}
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	aDown.Store(true)
	a.srv.Kill()
	time.Sleep(1500 * time.Millisecond)
	waitUntil(t, "B leads once A is killed", 10*time.Second, func() bool { return leading(t, b) })

	pg.pause(t)
	outageStart := time.Now()
	t.Run("database down", func(t *testing.T) {
		if s := ocspB(); s != "good" {
			t.Errorf("B's OCSP during the outage: %q, want good from its cache", s)
		}
		start := time.Now()
		_, csr := keyAndCSR(t, pkix.Name{CommonName: "during-outage"})
		code, h, _ := estPostQuiet(b, csr)
		if code != 503 || h.Get("Retry-After") == "" {
			t.Errorf("enrollment during the outage: %d, want 503 with Retry-After", code)
		}
		if took := time.Since(start); took > 10*time.Second {
			t.Errorf("enrollment during the outage took %s: it should fail fast", took)
		}
		if resp, err := httpClient.Get(b.srv.URL + "/readyz"); err != nil || resp.StatusCode != 503 {
			t.Errorf("/readyz during the outage: %v %v, want 503", resp.StatusCode, err)
		} else {
			resp.Body.Close()
		}
		// Without the database nobody can confirm the lease: B stops
		// building CRLs and pre-signing until it is back.
		waitUntil(t, "B stops leading during the outage", 5*time.Second, func() bool { return !leading(t, b) })
	})
	time.Sleep(time.Until(outageStart.Add(10 * time.Second)))
	pg.resume(t)

	t.Run("database back", func(t *testing.T) {
		deadline := time.Now().Add(30 * time.Second)
		for {
			_, csr := keyAndCSR(t, pkix.Name{CommonName: "after-outage"})
			code, _, cert := estPostQuiet(b, csr)
			if code == 200 {
				mu.Lock()
				received = append(received, serialHex(cert))
				mu.Unlock()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("enrollment did not recover within 30s of the database's return (last %d)", code)
			}
			time.Sleep(200 * time.Millisecond)
		}
		resp, err := httpClient.Get(b.srv.URL + "/readyz")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("/readyz after the outage: %v", err)
		}
		resp.Body.Close()
		waitUntil(t, "B leads again after the outage", 15*time.Second, func() bool { return leading(t, b) })
	})
	stop.Store(true)
	wg.Wait()

	recorded := map[string]bool{}
	for _, r := range certsList(t, b.srv.DataDir, "--limit", "100000") {
		recorded[r.Serial] = true
	}
	mu.Lock()
	defer mu.Unlock()
	missing := 0
	for _, s := range received {
		if !recorded[s] {
			missing++
		}
	}
	t.Logf("%d certificates received during the faults, %d missing from the store", len(received), missing)
	if missing > 0 || len(received) < 10 {
		t.Fatalf("%d of %d received certificates are not in the store", missing, len(received))
	}
}

// estPostQuiet is estPost without the test's failure on transport errors
// (a killed replica, a refused connection): those give code 0.
func estPostQuiet(e *apiEnv, csr []byte) (int, http.Header, *x509.Certificate) {
	return estTry(e, "", csr, apiChallenge)
}
