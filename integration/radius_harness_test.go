//go:build integration

package integration

import (
	"bufio"
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"text/template"
	"time"
)

// The FreeRADIUS side of the EAP-TLS tests: Debian's freeradius run in the
// foreground on a configuration rendered from integration/freeradius/, and
// eapol_test (wpa_supplicant's RADIUS test client) as the supplicant.

// radiusTemplates holds the raddb/ templates and eapol_test.conf, relative
// to the package directory go test runs in.
const radiusTemplates = "freeradius"

// freeradiusSbin is where Debian installs freeradius; /usr/sbin is not on
// every user's PATH.
const freeradiusSbin = "/usr/sbin/freeradius"

// requireFreeRADIUS returns the freeradius and eapol_test binaries, under
// requireTool's rules.
func requireFreeRADIUS(t *testing.T) (radiusd, eapolTest string) {
	t.Helper()
	name := "freeradius"
	if _, err := exec.LookPath(name); err != nil {
		name = freeradiusSbin
	}
	return requireTool(t, name), requireTool(t, "eapol_test")
}

// radiusConfig is what the raddb/ templates are rendered with.
type radiusConfig struct {
	// Dir is the rendered configuration directory (freeradius -d).
	Dir string
	// Port is the UDP authentication port on 127.0.0.1.
	Port int
	// Secret is the RADIUS shared secret of the 127.0.0.1 client.
	Secret string
	// CertFile and KeyFile are the server's certificate and key (PEM).
	CertFile, KeyFile string
	// CAFile holds the CA certificates client certificates must chain to.
	CAFile string
	// OCSPURL, when set, turns on OCSP checking against that responder.
	OCSPURL string
}

// radiusServer is one running `freeradius -X`.
type radiusServer struct {
	t *testing.T
	// Port and Secret are what eapol_test needs to reach it.
	Port   int
	Secret string
	// Log is its debug output (stdout and stderr).
	Log *syncBuffer

	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has exited
	waitErr error         // valid after done
}

// radiusReady is the line freeradius -X prints once it listens.
const radiusReady = "Ready to process requests"

// startRADIUS renders the raddb/ templates with cfg (Dir, Port and Secret
// are filled in here) and runs freeradius in debug mode on them until it
// is ready. It is stopped at the end of the test; its log is printed if
// the test failed.
func startRADIUS(t *testing.T, bin string, cfg radiusConfig) *radiusServer {
	t.Helper()
	cfg.Dir = t.TempDir()
	cfg.Port = freeUDPPort(t)
	cfg.Secret = "radius-" + randomHex(t, 8)
	if err := renderTree(filepath.Join(radiusTemplates, "raddb"), cfg.Dir, cfg); err != nil {
		t.Fatalf("render FreeRADIUS configuration: %v", err)
	}

	// -X: foreground, one thread, full debug to stdout; no daemon, no
	// service manager, and the log says why a request was rejected.
	cmd := exec.Command(bin, "-X", "-d", cfg.Dir)
	r := &radiusServer{t: t, Port: cfg.Port, Secret: cfg.Secret, Log: &syncBuffer{}, cmd: cmd, done: make(chan struct{})}
	cmd.Stderr = r.Log
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("stdout pipe: %v", err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start freeradius: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("freeradius -X -d %s output:\n%s", cfg.Dir, r.Log.String())
		}
	})
	t.Cleanup(r.stop)

	ready := make(chan struct{})
	go r.readStdout(stdout, ready)
	select {
	case <-ready:
	case <-r.done:
		t.Fatalf("freeradius exited before %q: %v", radiusReady, r.waitErr)
	case <-time.After(30 * time.Second):
		t.Fatalf("freeradius printed no %q within 30s", radiusReady)
	}
	return r
}

// readStdout copies the output into Log, closes ready at the ready line,
// and reaps the process at EOF.
func (r *radiusServer) readStdout(rd io.Reader, ready chan<- struct{}) {
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	seen := false
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintln(r.Log, line)
		if !seen && strings.Contains(line, radiusReady) {
			close(ready)
			seen = true
		}
	}
	_, _ = io.Copy(r.Log, rd)
	r.waitErr = r.cmd.Wait()
	close(r.done)
}

// stop ends freeradius with SIGTERM, and SIGKILL if it lingers: only its
// being gone matters, not how it exits.
func (r *radiusServer) stop() {
	select {
	case <-r.done:
		return
	default:
	}
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.done
	}
}

// renderTree executes every file under src as a text/template with data
// and writes the result to the same relative path under dst. Files are
// 0640 and directories 0750: freeradius refuses a world-writable
// radiusd.conf.
func renderTree(src, dst string, data any) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		out := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(out, 0o750)
		}
		return renderFile(path, out, data)
	})
}

// renderFile executes the template file src with data into dst.
func renderFile(src, dst string, data any) error {
	tmpl, err := template.New(filepath.Base(src)).Option("missingkey=error").ParseFiles(src)
	if err != nil {
		return fmt.Errorf("parse %s: %w", src, err)
	}
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	if err := tmpl.Execute(f, data); err != nil {
		f.Close()
		return fmt.Errorf("render %s: %w", src, err)
	}
	return f.Close()
}

// freeUDPPort returns a UDP port on 127.0.0.1 that was free a moment ago.
// freeradius binds it itself, so another process could take it in between;
// on a test machine that is rare enough.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free UDP port: %v", err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// eapolConfig is what eapol_test.conf is rendered with.
type eapolConfig struct {
	// CAFile holds the CA certificates the server certificate must chain to.
	CAFile string
	// CertFile and KeyFile are the client identity (PEM).
	CertFile, KeyFile string
}

// eapolResult is the outcome of one eapol_test run.
type eapolResult struct {
	// Success is true when eapol_test exited 0 and ended with SUCCESS.
	Success bool
	// Output is its full output.
	Output string
	// RadiusLog is what freeradius logged during the run.
	RadiusLog string
}

// eapTLS runs one EAP-TLS authentication of the identity in cfg against
// r, without re-authentication. eapol_test's own timeout (-t) ends a run
// the server never answers; the context only guards against a hung
// eapol_test.
func (r *radiusServer) eapTLS(t *testing.T, bin string, cfg eapolConfig) eapolResult {
	t.Helper()
	conf := filepath.Join(t.TempDir(), "eapol_test.conf")
	if err := renderFile(filepath.Join(radiusTemplates, "eapol_test.conf"), conf, cfg); err != nil {
		t.Fatalf("render eapol_test configuration: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	logStart := len(r.Log.String())
	cmd := exec.CommandContext(ctx, bin, "-c", conf, "-a", "127.0.0.1",
		"-p", fmt.Sprint(r.Port), "-s", r.Secret, "-r", "0", "-t", "15")
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("eapol_test did not finish within 30s:\n%s", out)
	}
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("eapol_test: %v", err)
	}
	res := eapolResult{Output: string(out), RadiusLog: r.waitReply(logStart)}
	last := lastLine(res.Output)
	switch {
	case err == nil && last == "SUCCESS":
		res.Success = true
	case err != nil && last == "FAILURE":
	default:
		t.Fatalf("eapol_test: exit %v with last line %q, want exit 0 and SUCCESS or non-zero and FAILURE:\n%s", err, last, out)
	}
	return res
}

// waitReply returns the log from offset start on, once it shows the
// Access-Accept or Access-Reject that ended the exchange: eapol_test can
// exit before the log pipe has been read up to that line. After 5s it
// returns what there is, and the caller's checks on it fail.
func (r *radiusServer) waitReply(start int) string {
	deadline := time.Now().Add(5 * time.Second)
	for {
		log := r.Log.String()[start:]
		if strings.Contains(log, "Sent Access-Accept") || strings.Contains(log, "Sent Access-Reject") || time.Now().After(deadline) {
			return log
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// String summarizes the run for a failure message: the end of eapol_test's
// output and what freeradius said about TLS, OCSP and its reply. The full
// freeradius log is printed when the test fails.
func (res eapolResult) String() string {
	var b strings.Builder
	lines := strings.Split(strings.TrimSpace(res.Output), "\n")
	b.WriteString("eapol_test (last lines):\n")
	for _, l := range lines[max(0, len(lines)-10):] {
		b.WriteString("  " + l + "\n")
	}
	b.WriteString("freeradius:\n")
	for _, l := range strings.Split(res.RadiusLog, "\n") {
		if strings.Contains(l, "ERROR") || strings.Contains(l, "ocsp:") || strings.Contains(l, "Sent Access-Accept") || strings.Contains(l, "Sent Access-Reject") {
			b.WriteString("  " + strings.TrimSpace(l) + "\n")
		}
	}
	return b.String()
}

// lastLine is the last non-blank line of s, trimmed.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// writeIdentity writes id's certificate and key as PEM files in a fresh
// temp dir and returns their paths.
func writeIdentity(t *testing.T, id identity) (certFile, keyFile string) {
	t.Helper()
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: id.Cert.Raw})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(id.Key)})
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// writeCABundle concatenates the PEM files into one in a fresh temp dir.
func writeCABundle(t *testing.T, files ...string) string {
	t.Helper()
	var bundle []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatalf("CA bundle: %v", err)
		}
		bundle = append(bundle, b...)
	}
	p := filepath.Join(t.TempDir(), "ca-bundle.pem")
	if err := os.WriteFile(p, bundle, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
