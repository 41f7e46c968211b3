//go:build integration

package integration

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// apiConfig has a plain profile, one held for approval and one taking
// one-time challenges (besides the static one), all with the challenge
// from CG_IT_API_CHALLENGE.
const apiConfig = `profiles:
  - name: default
    validator: {type: static, secrets_env: CG_IT_API_CHALLENGE}
  - name: held
    approval: manual
    validator: {type: static, secrets_env: CG_IT_API_CHALLENGE}
  - name: dyn
    validator: {one_time: true}
`

const apiChallenge = "api-integration-challenge"

// apiEnv is a running certgate with its admin API.
type apiEnv struct {
	srv  *server
	base string // https://127.0.0.1:PORT/api/v1/
	root *x509.CertPool
	est  string
}

func startAPIEnv(t *testing.T, dataDir string) *apiEnv {
	t.Helper()
	cfg := writeFile(t, "certgate.yaml", apiConfig)
	srv := startServerArgs(t, dataDir, []string{"--config", cfg}, "CG_IT_API_CHALLENGE="+apiChallenge)
	e := &apiEnv{srv: srv, base: srv.bannerURL("admin API:"), root: x509.NewCertPool(), est: srv.ESTURL()}
	pemBytes, err := os.ReadFile(srv.CAFile("root.crt"))
	if err != nil {
		t.Fatal(err)
	}
	e.root.AppendCertsFromPEM(pemBytes)
	return e
}

// token makes an API token with the CLI, through the admin socket.
func (e *apiEnv) token(t *testing.T, name, role string) string {
	t.Helper()
	return secret(mustCLI(t, "admin", "token", "new", name, "--role", role, "--data-dir", e.srv.DataDir))
}

// apiAnswer is one API exchange.
type apiAnswer struct {
	Code   int
	Header http.Header
	Body   []byte
}

// decode unmarshals the JSON body or fails the test.
func (a apiAnswer) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(a.Body, v); err != nil {
		t.Fatalf("answer %d is not the JSON expected: %v\n%s", a.Code, err, a.Body)
	}
}

// call sends one request over TLS with a bearer token or a client
// certificate (either may be empty).
func (e *apiEnv) call(t *testing.T, method, path string, body any, token string, cert *tls.Certificate) apiAnswer {
	t.Helper()
	cfg := &tls.Config{RootCAs: e.root, MinVersion: tls.VersionTLS12}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	hc := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
	defer hc.CloseIdleConnections()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, strings.TrimSuffix(e.base, "/")+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return apiAnswer{Code: resp.StatusCode, Header: resp.Header, Body: b}
}

// bannerURL returns the first URL on the banner line with label.
func (s *server) bannerURL(label string) string {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(s.Stdout.String(), "\n") {
			if _, v, ok := strings.Cut(line, label); ok {
				u, _, _ := strings.Cut(strings.TrimSpace(v), " ")
				return u
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatalf("the banner has no %q line:\n%s", label, s.Stdout.String())
	return ""
}
