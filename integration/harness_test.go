//go:build integration

// Package integration runs the built certgate binary against real clients
// (micromdm scepclient, certmonger, openssl, promtool) and a Go SCEP client,
// the way an operator would: a fresh data dir, `certgate serve` on a free
// port, the CLI on the same data dir.
//
// Run with: go test -count=1 -tags integration ./integration/...
package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binaryVersion is stamped into the test binary so tests can tell it from
// any other certgate on the machine.
const binaryVersion = "integration-test"

// certgateBin is the binary TestMain builds once for all tests.
var certgateBin string

// httpClient is for plain HTTP calls to the server (health, metrics). Its
// timeout only keeps a hung server from hanging the test run.
var httpClient = &http.Client{Timeout: 30 * time.Second}

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "certgate-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration: temp dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	certgateBin, err = buildBinary(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration:", err)
		return 1
	}
	setDefaultCipher()
	return m.Run()
}

// buildBinary compiles ./cmd/certgate of the module under test into dir.
func buildBinary(dir string) (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("go env GOMOD: not inside the certgate module")
	}
	bin := filepath.Join(dir, "certgate")
	cmd := exec.Command("go", "build", "-o", bin, "-ldflags", "-X main.version="+binaryVersion, "./cmd/certgate")
	cmd.Dir = filepath.Dir(gomod)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/certgate: %w\n%s", err, out)
	}
	return bin, nil
}

// cleanEnv is the test process environment without CERTGATE_* variables, so
// a developer's own settings cannot leak into the server under test.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CERTGATE_") {
			env = append(env, kv)
		}
	}
	return env
}

// newDataDir returns an empty data dir. It lives directly under the system
// temp dir rather than t.TempDir(): the admin socket path inside it must
// stay below the 108-byte limit of a Unix socket address, and t.TempDir()
// embeds the (long) test name.
func newDataDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "cg-")
	if err != nil {
		t.Fatalf("data dir: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "data")
}

// requireTool fails the test when a required external tool is missing on
// CI (where scripts/install-test-deps must have installed it) and skips it
// on a developer machine. name may be a command on PATH or an absolute path.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s not found (%v); CI must have it: run scripts/install-test-deps", name, err)
	}
	t.Skipf("%s not found (%v); run scripts/install-test-deps to install it", name, err)
	return ""
}

// syncBuffer is a bytes.Buffer safe for the exec package's copy goroutine
// and the test reading it at the same time.
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

// server is one running `certgate serve`.
type server struct {
	t *testing.T
	// URL is the base URL, e.g. http://127.0.0.1:41234.
	URL string
	// DataDir is the server's data dir.
	DataDir string
	// Stdout holds the banner; Stderr the JSON log lines.
	Stdout, Stderr *syncBuffer

	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has exited
	waitErr error         // valid after done
	ended   bool          // Stop or Kill was called
}

// startServer runs `certgate serve` on a free port with dataDir and waits
// until it answers /healthz. extraEnv entries (KEY=VALUE) override the
// defaults. The server is stopped with SIGTERM at the end of the test, which
// fails unless it exits 0 within 30s; its log is printed if the test failed.
func startServer(t *testing.T, dataDir string, extraEnv ...string) *server {
	t.Helper()
	return startServerArgs(t, dataDir, nil, extraEnv...)
}

// startServerArgs is startServer with extra `certgate serve` arguments,
// such as --config FILE.
func startServerArgs(t *testing.T, dataDir string, args []string, extraEnv ...string) *server {
	t.Helper()
	cmd := exec.Command(certgateBin, append([]string{"serve"}, args...)...)
	cmd.Env = append(cleanEnv(),
		"CERTGATE_LISTEN=127.0.0.1:0",
		// EST's :8443 and the admin API's :8444 would collide between
		// parallel tests.
		"CERTGATE_EST_LISTEN=127.0.0.1:0",
		"CERTGATE_ADMIN_API_LISTEN=127.0.0.1:0",
		"CERTGATE_DATA_DIR="+dataDir,
		"CERTGATE_LOG_FORMAT=json",
	)
	cmd.Env = append(cmd.Env, extraEnv...)
	for _, kv := range extraEnv {
		if k, v, ok := strings.Cut(kv, "="); ok && secretEnvName(k) {
			secret(v)
		}
	}
	s := &server{t: t, DataDir: dataDir, Stdout: &syncBuffer{}, Stderr: &syncBuffer{}, cmd: cmd, done: make(chan struct{})}
	cmd.Stderr = s.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("stdout pipe: %v", err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start certgate serve: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("certgate serve (data dir %s) stdout:\n%s\nstderr:\n%s", dataDir, s.Stdout.String(), s.Stderr.String())
		}
	})
	t.Cleanup(func() { checkLogForSecrets(t, s.Stderr.String()) })
	t.Cleanup(s.Stop)

	addrc := make(chan string, 1)
	go s.readStdout(stdout, addrc)
	select {
	case addr := <-addrc:
		s.URL = "http://" + addr
	case <-s.done:
		s.ended = true
		t.Fatalf("certgate serve exited before listening: %v", s.waitErr)
	case <-time.After(30 * time.Second):
		t.Fatalf("certgate serve printed no \"listening on\" line within 30s")
	}
	resp, err := httpClient.Get(s.URL + "/healthz")
	if err != nil {
		t.Fatalf("GET /healthz: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /healthz: %s", resp.Status)
	}
	return s
}

// readStdout copies the banner into Stdout, reports the listen address from
// the first "listening on" line, and reaps the process at EOF (Wait must
// not run before the pipe is drained).
func (s *server) readStdout(r io.Reader, addrc chan<- string) {
	sc := bufio.NewScanner(r)
	sent := false
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintln(s.Stdout, line)
		if _, addr, ok := strings.Cut(line, " listening on "); ok && !sent {
			addrc <- strings.TrimSpace(addr)
			sent = true
		}
	}
	_, _ = io.Copy(io.Discard, r)
	s.waitErr = s.cmd.Wait()
	close(s.done)
}

// Stop sends SIGTERM and fails the test unless the server exits 0 within
// 30s. It is a no-op after Stop or Kill.
func (s *server) Stop() {
	s.t.Helper()
	if s.ended {
		return
	}
	s.ended = true
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.t.Errorf("SIGTERM certgate serve: %v", err)
	}
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
		s.t.Errorf("certgate serve did not exit within 30s of SIGTERM")
		return
	}
	if s.waitErr != nil {
		s.t.Errorf("certgate serve after SIGTERM: %v (want exit status 0)", s.waitErr)
	}
}

// Kill ends the server with SIGKILL: no graceful shutdown, no cleanup.
func (s *server) Kill() {
	s.t.Helper()
	if s.ended {
		return
	}
	s.ended = true
	if err := s.cmd.Process.Kill(); err != nil {
		s.t.Errorf("SIGKILL certgate serve: %v", err)
	}
	<-s.done
}

// Challenge returns the static challenge of the default profile: the first
// line of <datadir>/challenge that is neither blank nor a # comment.
func (s *server) Challenge() string {
	s.t.Helper()
	b, err := os.ReadFile(filepath.Join(s.DataDir, "challenge"))
	if err != nil {
		s.t.Fatalf("read challenge: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			return secret(line)
		}
	}
	s.t.Fatalf("challenge file %s holds no secret:\n%s", filepath.Join(s.DataDir, "challenge"), b)
	return ""
}

// secretEnvName says which variables tests use to hand certgate secrets.
func secretEnvName(k string) bool {
	for _, w := range []string{"CHALLENGE", "SECRET", "PASSWORD", "DSN", "HOOK", "TENANT", "_API"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// ESTURL is the EST base URL from the banner
// ("https://127.0.0.1:PORT/.well-known/est/").
func (s *server) ESTURL() string {
	s.t.Helper()
	return s.bannerURL("EST URL:")
}

// CAFile is the path of a CA file in the data dir: "root.crt" or "ca.crt".
func (s *server) CAFile(name string) string {
	return filepath.Join(s.DataDir, "ca", name)
}

// LogEntries returns the server's JSON log lines with the given message.
func (s *server) LogEntries(message string) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(s.Stderr.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["message"] == message {
			out = append(out, m)
		}
	}
	return out
}

// cliResult is the outcome of one CLI invocation.
type cliResult struct {
	Stdout, Stderr string
	Code           int
}

// runCLI runs the certgate binary with args and returns its output and exit
// code; it fails the test only when the binary cannot be run at all.
func runCLI(t *testing.T, args ...string) cliResult {
	t.Helper()
	return runCLIEnv(t, nil, args...)
}

// runCLIEnv is runCLI with extra environment entries (KEY=VALUE), for
// settings that only come from the environment, such as a passphrase.
func runCLIEnv(t *testing.T, extraEnv []string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, certgateBin, args...)
	cmd.Env = append(cleanEnv(), "CERTGATE_EST_LISTEN=127.0.0.1:0", "CERTGATE_ADMIN_API_LISTEN=127.0.0.1:0")
	cmd.Env = append(cmd.Env, extraEnv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := cliResult{Stdout: stdout.String(), Stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		res.Code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("certgate %s: %v", strings.Join(args, " "), err)
	}
	if ctx.Err() != nil {
		t.Fatalf("certgate %s: did not finish within 60s", strings.Join(args, " "))
	}
	return res
}

// mustCLI runs the CLI and fails the test unless it exits 0.
func mustCLI(t *testing.T, args ...string) string {
	t.Helper()
	res := runCLI(t, args...)
	if res.Code != 0 {
		t.Fatalf("certgate %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), res.Code, res.Stdout, res.Stderr)
	}
	return res.Stdout
}

// certRecord is a record as `certgate certs list --json` prints it.
type certRecord struct {
	Serial           string    `json:"serial"`
	Issuer           string    `json:"issuer"`
	Subject          string    `json:"subject"`
	CommonName       string    `json:"common_name"`
	Profile          string    `json:"profile"`
	Protocol         string    `json:"protocol"`
	TransactionID    string    `json:"transaction_id"`
	Status           string    `json:"status"`
	NotBefore        time.Time `json:"not_before"`
	NotAfter         time.Time `json:"not_after"`
	IssuedAt         time.Time `json:"issued_at"`
	RevokedAt        time.Time `json:"revoked_at"`
	RevocationReason string    `json:"revocation_reason"`
	RenewalOf        string    `json:"renewal_of"`
	DeviceID         string    `json:"device_id"`
}

// certsList runs `certgate certs list --json` on dataDir with extra filter
// flags and decodes the records.
func certsList(t *testing.T, dataDir string, filters ...string) []certRecord {
	t.Helper()
	args := append([]string{"certs", "list", "--json", "--data-dir", dataDir}, filters...)
	out := mustCLI(t, args...)
	var recs []certRecord
	if err := json.Unmarshal([]byte(out), &recs); err != nil {
		t.Fatalf("certs list --json: %v\n%s", err, out)
	}
	return recs
}

// recordBySerial finds a record by hex serial, or nil.
func recordBySerial(recs []certRecord, serial string) *certRecord {
	for i := range recs {
		if recs[i].Serial == serial {
			return &recs[i]
		}
	}
	return nil
}
