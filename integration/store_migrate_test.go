//go:build integration

package integration

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// TestStoreMigrate runs a bbolt server, moves its store to PostgreSQL with
// `certgate store migrate` while it is stopped, and starts a PostgreSQL
// server on the same CA: certificates, revocations, a held request, a
// one-time challenge and an API token all carry over, and the CRL number
// goes on from where it was.
func TestStoreMigrate(t *testing.T) {
	dsn := newPostgresDatabase(t)
	dataDir := newDataDir(t)
	a := startAPIEnv(t, dataDir)

	var serials []string
	for i := range 3 {
		_, csr := keyAndCSR(t, pkix.Name{CommonName: fmt.Sprintf("migrate-%d", i)})
		code, _, cert := estPost(t, a, "", csr)
		if code != 200 {
			t.Fatalf("EST enroll %d: HTTP %d", i, code)
		}
		serials = append(serials, serialHex(cert))
	}
	mustCLI(t, "revoke", serials[0], "--reason", "keyCompromise", "--data-dir", dataDir)
	_, csr := keyAndCSR(t, pkix.Name{CommonName: "migrate-held"})
	if code, _, _ := estPost(t, a, "held/", csr); code != http.StatusAccepted {
		t.Fatalf("EST enroll on held: HTTP %d, want 202", code)
	}
	challenge := secret(mustCLI(t, "challenge", "new", "dyn", "--data-dir", dataDir))
	token := a.token(t, "ops", "operator")
	crlBefore := crlNumber(t, a.srv)
	a.srv.Stop()

	env := []string{"CG_IT_PG_DSN=" + dsn}
	migrateArgs := []string{"store", "migrate", "--data-dir", dataDir, "--to", "postgres-env:CG_IT_PG_DSN"}
	t.Run("ok/check before", func(t *testing.T) {
		mustCLI(t, "store", "check", "--data-dir", dataDir)
	})
	t.Run("ok/migrate", func(t *testing.T) {
		res := runCLIEnv(t, env, migrateArgs...)
		if res.Code != 0 || !strings.Contains(res.Stdout, "ok: the target holds everything the source does") {
			t.Fatalf("exit %d\nstdout: %s\nstderr: %s", res.Code, res.Stdout, res.Stderr)
		}
		if strings.Contains(res.Stdout+res.Stderr, dsn) {
			t.Error("migrate printed the DSN")
		}
	})
	t.Run("ok/migrate again copies nothing", func(t *testing.T) {
		res := runCLIEnv(t, env, migrateArgs...)
		if res.Code != 0 || !strings.Contains(res.Stdout, "records:         0 copied") || !strings.Contains(res.Stdout, "requests:        0 copied, 1 already there") {
			t.Fatalf("exit %d\nstdout: %s\nstderr: %s", res.Code, res.Stdout, res.Stderr)
		}
	})
	t.Run("ok/check after", func(t *testing.T) {
		res := runCLIEnv(t, env, "store", "check", "--store", "postgres-env:CG_IT_PG_DSN")
		if res.Code != 0 || !strings.Contains(res.Stdout, "0 errors") {
			t.Fatalf("exit %d\nstdout: %s\nstderr: %s", res.Code, res.Stdout, res.Stderr)
		}
	})

	cfg := writeFile(t, "certgate.yaml", fmt.Sprintf(replicaConfig, filepath.Join(dataDir, "ca")))
	srv := startServerArgs(t, newDataDir(t), []string{"--config", cfg}, "CG_IT_PG_DSN="+dsn, "CG_IT_API_CHALLENGE="+apiChallenge)
	b := &apiEnv{srv: srv, base: srv.bannerURL("admin API:"), root: a.root, est: srv.ESTURL()}

	t.Run("ok/records", func(t *testing.T) {
		recs := certsList(t, srv.DataDir)
		for i, s := range serials {
			r := recordBySerial(recs, s)
			switch {
			case r == nil:
				t.Errorf("serial %s not in the PostgreSQL store", s)
			case i == 0 && (r.Status != "revoked" || r.RevocationReason != "keyCompromise" || r.RevokedAt.IsZero()):
				t.Errorf("revoked record %+v", r)
			case i > 0 && r.Status != "valid":
				t.Errorf("record %+v, want valid", r)
			}
		}
	})
	t.Run("ok/held request and token", func(t *testing.T) {
		var page struct {
			Requests []struct{ Subject string } `json:"requests"`
		}
		ans := b.call(t, "GET", "/requests?status=pending", nil, token, nil)
		if ans.Code != 200 {
			t.Fatalf("GET /requests with the migrated token: HTTP %d", ans.Code)
		}
		ans.decode(t, &page)
		if len(page.Requests) != 1 || !strings.Contains(page.Requests[0].Subject, "CN=migrate-held") {
			t.Errorf("pending requests %+v, want the held one", page.Requests)
		}
	})
	t.Run("ok/one-time challenge", func(t *testing.T) {
		_, csr := keyAndCSR(t, pkix.Name{CommonName: "migrate-dyn"})
		if code := estPostAuth(t, b, "dyn/", csr, challenge); code != 200 {
			t.Errorf("EST with the migrated challenge: HTTP %d", code)
		}
	})
	t.Run("ok/CRL number goes on", func(t *testing.T) {
		if after := crlNumber(t, srv); after <= crlBefore {
			t.Errorf("CRL number %d after the migration, %d before", after, crlBefore)
		}
	})
}

// crlNumber fetches the CA's CRL and returns its number.
func crlNumber(t *testing.T, srv *server) int64 {
	t.Helper()
	resp, err := httpClient.Get(srv.URL + crlPath)
	if err != nil {
		t.Fatalf("GET %s: %v", crlPath, err)
	}
	defer resp.Body.Close()
	der, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: HTTP %d, %v", crlPath, resp.StatusCode, err)
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatalf("CRL: %v", err)
	}
	return crl.Number.Int64()
}
