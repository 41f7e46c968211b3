//go:build integration

package integration

import (
	"crypto/x509"
	"encoding/pem"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// estConfig has the default profile, one with server-side key generation
// and one that also escrows the generated keys (and so refuses duplicate
// subjects); all take the challenge from CG_IT_EST_CHALLENGE.
const estConfig = `profiles:
  - name: default
    validator: {type: static, secrets_env: CG_IT_EST_CHALLENGE}
  - name: keygen
    est:
      server_keygen: {key_type: ecdsa, curve: P-384}
    validator: {type: static, secrets_env: CG_IT_EST_CHALLENGE}
  - name: escrowed
    allow_duplicates: false
    est:
      server_keygen: {key_type: rsa, bits: 2048, escrow: true}
    validator: {type: static, secrets_env: CG_IT_EST_CHALLENGE}
`

// estChallenge is the static challenge of estConfig's profiles.
const estChallenge = "est-integration-challenge"

// estEnv is a running certgate with EST, and where its CA files are.
type estEnv struct {
	srv *server
	// base is the EST base URL ending in /.well-known/est/; host is its
	// host:port, as globalsign's estclient takes it.
	base, host string
	root, ca   string
}

func startEST(t *testing.T) *estEnv {
	t.Helper()
	cfg := writeFile(t, "certgate.yaml", estConfig)
	srv := startServerArgs(t, newDataDir(t), []string{"--config", cfg}, "CG_IT_EST_CHALLENGE="+estChallenge)
	base := srv.ESTURL()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("EST URL %q: %v", base, err)
	}
	return &estEnv{srv: srv, base: base, host: u.Host, root: srv.CAFile("root.crt"), ca: srv.CAFile("ca.crt")}
}

// requireGoTool finds a tool `go install` or scripts/install-est-tools put
// in GOBIN or GOPATH/bin, which need not be on PATH.
func requireGoTool(t *testing.T, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, v := range []string{"GOBIN", "GOPATH"} {
		out, err := exec.Command("go", "env", v).Output()
		dir := strings.TrimSpace(string(out))
		if err != nil || dir == "" {
			continue
		}
		if v == "GOPATH" {
			dir = filepath.Join(strings.Split(dir, string(os.PathListSeparator))[0], "bin")
		}
		if p := filepath.Join(dir, name); isExecutable(p) {
			return p
		}
	}
	return requireTool(t, name) // fails on CI, skips elsewhere
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// readCertFile parses the first certificate of a PEM file.
func readCertFile(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			t.Fatalf("%s holds no certificate", path)
		}
		if b.Type == "CERTIFICATE" {
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			return c
		}
	}
}

// findRecord returns the store record of serial, as `certgate certs list`
// prints it, or fails the test.
func findRecord(t *testing.T, srv *server, serial string) *certRecord {
	t.Helper()
	rec := recordBySerial(certsList(t, srv.DataDir), serial)
	if rec == nil {
		t.Fatalf("serial %s is not in the store", serial)
	}
	return rec
}
