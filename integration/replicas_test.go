//go:build integration

package integration

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// replicaConfig is one certgate replica on a shared PostgreSQL: the CA
// directory is shared too (every replica signs with the same CA).
const replicaConfig = `store:
  type: postgres
  dsn_env: CG_IT_PG_DSN
ca:
  dir: %s
profiles:
  - name: default
    validator: {type: static, secrets_env: CG_IT_API_CHALLENGE}
  - name: held
    approval: manual
    validator: {type: static, secrets_env: CG_IT_API_CHALLENGE}
  - name: dyn
    validator: {one_time: true}
`

// newPostgresDatabase creates an empty database on the test cluster
// (CERTGATE_TEST_POSTGRES_DSN, started by scripts/test) and returns its
// DSN.
func newPostgresDatabase(t *testing.T) string {
	t.Helper()
	admin := os.Getenv("CERTGATE_TEST_POSTGRES_DSN")
	if admin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CERTGATE_TEST_POSTGRES_DSN is not set; scripts/test starts a cluster")
		}
		t.Skip("CERTGATE_TEST_POSTGRES_DSN is not set; run scripts/pg-test-cluster start DIR")
	}
	psql := requireTool(t, "psql")
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "it_replicas_" + hex.EncodeToString(b)
	mustRunTool(t, psql, admin, "-v", "ON_ERROR_STOP=1", "-qc", "CREATE DATABASE "+name)
	t.Cleanup(func() { runTool(t, psql, admin, "-qc", "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("CERTGATE_TEST_POSTGRES_DSN is not a URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// startReplicas runs two certgate processes on one database and one CA,
// with extraEnv (KEY=VALUE) in their environment.
func startReplicas(t *testing.T, extraEnv ...string) (a, b *apiEnv, caDir string) {
	t.Helper()
	dsn := newPostgresDatabase(t)
	caDir = filepath.Join(t.TempDir(), "ca")
	mustCLI(t, "ca", "init", "--data-dir", filepath.Dir(caDir))
	cfg := writeFile(t, "certgate.yaml", fmt.Sprintf(replicaConfig, caDir))
	env := append([]string{"CG_IT_PG_DSN=" + dsn, "CG_IT_API_CHALLENGE=" + apiChallenge}, extraEnv...)
	start := func() *apiEnv {
		srv := startServerArgs(t, newDataDir(t), []string{"--config", cfg}, env...)
		e := &apiEnv{srv: srv, base: srv.bannerURL("admin API:"), est: srv.ESTURL()}
		e.root = x509.NewCertPool()
		e.root.AppendCertsFromPEM(mustRead(t, filepath.Join(caDir, "root.crt")))
		return e
	}
	a, b = start(), start()
	if strings.Contains(a.srv.Stderr.String()+b.srv.Stderr.String(), dsn) {
		t.Error("a replica logged the DSN")
	}
	return a, b, caDir
}

// TestReplicas runs two replicas on one PostgreSQL: concurrent
// enrollments spread over both get unique, recorded serials; a one-time
// challenge raced from both succeeds once; a revocation on one replica is
// answered by the other's OCSP within a second.
func TestReplicas(t *testing.T) {
	openssl := requireTool(t, "openssl")
	a, b, caDir := startReplicas(t)
	replicas := []*apiEnv{a, b}

	const n = 200
	serials := make([]string, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	var mu sync.Mutex
	var failures []string
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			_, csr := keyAndCSR(t, pkix.Name{CommonName: fmt.Sprintf("replica-%d", i)})
			code, _, cert := estPost(t, replicas[i%2], "", csr)
			mu.Lock()
			defer mu.Unlock()
			if code != 200 {
				failures = append(failures, fmt.Sprintf("%d: HTTP %d", i, code))
				return
			}
			serials[i] = serialHex(cert)
		}()
	}
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d enrollments failed: %v", len(failures), failures)
	}
	unique := map[string]bool{}
	for _, s := range serials {
		unique[s] = true
	}
	recorded := map[string]bool{}
	for _, r := range certsList(t, b.srv.DataDir, "--profile", "default", "--limit", "1000") {
		recorded[r.Serial] = true
	}
	for s := range unique {
		if !recorded[s] {
			t.Errorf("serial %s answered but not in the shared store", s)
		}
	}
	if len(unique) != n {
		t.Fatalf("%d unique serials for %d enrollments", len(unique), n)
	}

	t.Run("one-time challenge raced across replicas", func(t *testing.T) {
		challenge := secret(mustCLI(t, "challenge", "new", "dyn", "--data-dir", a.srv.DataDir))
		var ok, refused int
		var wg sync.WaitGroup
		var mu sync.Mutex
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, csr := keyAndCSR(t, pkix.Name{CommonName: fmt.Sprintf("race-%d", i)})
				code := estPostAuth(t, replicas[i%2], "dyn/", csr, challenge)
				mu.Lock()
				defer mu.Unlock()
				switch code {
				case 200:
					ok++
				case 403:
					refused++
				default:
					t.Errorf("attempt %d: HTTP %d", i, code)
				}
			}()
		}
		wg.Wait()
		if ok != 1 || refused != 19 {
			t.Fatalf("%d enrolled and %d refused, want exactly 1 and 19", ok, refused)
		}
	})

	t.Run("revoke on A, OCSP on B", func(t *testing.T) {
		_, csr := keyAndCSR(t, pkix.Name{CommonName: "revoke-me"})
		_, _, cert := estPost(t, a, "", csr)
		dir := t.TempDir()
		certFile := filepath.Join(dir, "cert.pem")
		if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o600); err != nil {
			t.Fatal(err)
		}
		issuer := filepath.Join(dir, "issuer.pem")
		chain := filepath.Join(dir, "chain.pem")
		caPEM, rootPEM := mustRead(t, filepath.Join(caDir, "ca.crt")), mustRead(t, filepath.Join(caDir, "root.crt"))
		if err := os.WriteFile(issuer, caPEM, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(chain, append(caPEM, rootPEM...), 0o600); err != nil {
			t.Fatal(err)
		}
		status := func() string {
			out, _ := runTool(t, openssl, "ocsp", "-issuer", issuer, "-cert", certFile, "-url", b.srv.URL+"/ocsp", "-CAfile", chain, "-no_nonce")
			for _, line := range strings.Split(out, "\n") {
				if v, ok := strings.CutPrefix(line, certFile+": "); ok {
					return strings.TrimSpace(v)
				}
			}
			return "?: " + out
		}
		if s := status(); s != "good" {
			t.Fatalf("B before the revocation: %q, want good", s)
		}
		mustCLI(t, "revoke", serialHex(cert), "--reason", "keyCompromise", "--data-dir", a.srv.DataDir)
		revokedAt := time.Now()
		for {
			s := status()
			if s == "revoked" {
				t.Logf("B answered revoked %s after the revocation on A", time.Since(revokedAt).Round(time.Millisecond))
				break
			}
			if time.Since(revokedAt) > time.Second {
				t.Fatalf("B still answers %q more than 1s after the revocation on A", s)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
