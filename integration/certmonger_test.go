//go:build integration

package integration

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// scepSubmit is certmonger's SCEP helper; Debian keeps it off PATH.
const scepSubmit = "/usr/lib/certmonger/scep-submit"

// TestCertmongerHelper drives scep-submit directly (no daemon): GetCACaps
// must advertise what certmonger looks for, and GetCACert must yield our
// issuing CA (which certmonger takes as the RA) followed by the root.
func TestCertmongerHelper(t *testing.T) {
	bin := requireTool(t, scepSubmit)
	srv := startServer(t, newDataDir(t))

	t.Run("ok/GetCACaps", func(t *testing.T) {
		out, err := exec.Command(bin, "-u", srv.URL+"/scep", "-c").CombinedOutput()
		if err != nil {
			t.Fatalf("scep-submit -c: %v\n%s", err, out)
		}
		caps := strings.Fields(string(out))
		for _, want := range []string{"POSTPKIOperation", "AES", "SHA-256"} {
			if !slices.Contains(caps, want) {
				t.Errorf("scep-submit -c: %q missing from %q", want, caps)
			}
		}
	})

	t.Run("ok/GetCACert", func(t *testing.T) {
		out, err := exec.Command(bin, "-u", srv.URL+"/scep", "-C").CombinedOutput()
		if err != nil {
			t.Fatalf("scep-submit -C: %v\n%s", err, out)
		}
		var got []*x509.Certificate
		for rest := out; ; {
			var block *pem.Block
			block, rest = pem.Decode(rest)
			if block == nil {
				break
			}
			c, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				t.Fatalf("scep-submit -C printed an unparsable certificate: %v", err)
			}
			got = append(got, c)
		}
		want := []*x509.Certificate{mustReadCert(t, srv.CAFile("ca.crt")), mustReadCert(t, srv.CAFile("root.crt"))}
		if len(got) != len(want) {
			t.Fatalf("scep-submit -C printed %d certificates, want %d (issuing CA, root):\n%s", len(got), len(want), out)
		}
		for i := range want {
			if !got[i].Equal(want[i]) {
				t.Errorf("certificate %d: %s, want %s", i, got[i].Subject, want[i].Subject)
			}
		}
	})
}

// TestCertmongerEnroll runs a full enrollment with the certmonger daemon:
// `certmonger -n -L -P SOCKET` listens on a private socket instead of the
// D-Bus system bus, keeps its state in directories named by CERTMONGER_*
// variables, and runs a script with getcert (which finds the daemon through
// CERTMONGER_PVT_ADDRESS) as its gate command, exiting when it ends.
// certmonger itself builds the PKCSReq (AES-256, SHA-256, challenge as a
// PrintableString) and decrypts the CertRep.
func TestCertmongerEnroll(t *testing.T) {
	cm := requireTool(t, "certmonger")
	requireTool(t, "getcert")
	requireTool(t, scepSubmit)

	for _, tc := range []struct {
		name string
		// challenge, when set, is written to the challenge file before the
		// first start; otherwise certgate generates one.
		challenge string
	}{
		{name: "ok/generated-challenge"},
		// certmonger encodes challengePassword as a PrintableString even
		// when it holds characters PrintableString does not allow, such as
		// '_' (in roughly half of certgate's generated challenges).
		{name: "ok/underscore-challenge", challenge: "cert_monger_challenge"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dataDir := newDataDir(t)
			if tc.challenge != "" {
				if err := os.MkdirAll(dataDir, 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dataDir, "challenge"), []byte(tc.challenge+"\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			srv := startServer(t, dataDir)
			cn := "certmonger-" + strings.TrimPrefix(tc.name, "ok/")
			run := runCertmonger(t, cm, srv.URL+"/scep", srv.Challenge(), cn)
			if _, err := os.Stat(run.certPath); err != nil {
				t.Fatalf("certmonger wrote no certificate (%v)\n%s", err, run.log)
			}
			if !strings.Contains(run.log, "status: MONITORING") {
				t.Errorf("getcert list does not show MONITORING:\n%s", run.log)
			}
			cert := mustReadCert(t, run.certPath)
			key := mustReadKey(t, run.keyPath)
			if cert.Subject.CommonName != cn {
				t.Errorf("CN %q, want %q", cert.Subject.CommonName, cn)
			}
			if pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(cert.PublicKey) {
				t.Errorf("certificate public key does not match certmonger's key")
			}
			mustChainToRoot(t, srv, cert)
			recs := certsList(t, srv.DataDir, "--subject", cn)
			if len(recs) != 1 || recs[0].Serial != serialHex(cert) || recs[0].Status != "valid" || recs[0].Protocol != "scep" {
				t.Errorf("certs list --subject %s: %+v, want one valid scep record with serial %s", cn, recs, serialHex(cert))
			}
		})
	}
}

// certmongerRun is the outcome of one certmonger session.
type certmongerRun struct {
	certPath, keyPath string
	// log is the script's output followed by the daemon's.
	log string
}

// certmongerScript adds certgate as a SCEP CA, requests a certificate and
// waits (-w) until certmonger reaches a final state, then lists it. The
// values are written into the script: certmonger does not pass its own
// environment on to the gate command, apart from its CERTMONGER_* settings.
func certmongerScript(dir, url, challenge, cn string) string {
	q := shellQuote
	out := filepath.Join(dir, "out")
	return "exec >" + q(filepath.Join(dir, "script.log")) + " 2>&1\n" +
		"getcert add-scep-ca -c certgate -u " + q(url) + "\n" +
		"echo \"add-scep-ca: exit $?\"\n" +
		"getcert request -c certgate -f " + q(filepath.Join(out, "cert.pem")) + " -k " + q(filepath.Join(out, "key.pem")) +
		" -L " + q(challenge) + " -N " + q("CN="+cn) + " -w -v\n" +
		"echo \"request: exit $?\"\n" +
		"getcert list -f " + q(filepath.Join(out, "cert.pem")) + "\n"
}

// shellQuote quotes s for /bin/sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// runCertmonger runs a private certmonger daemon with the enrollment script
// as its gate command. The 2-minute deadline is a safety net against a
// daemon that never reaches a final state, not a measured time.
func runCertmonger(t *testing.T, bin, url, challenge, cn string) certmongerRun {
	t.Helper()
	// Not t.TempDir(): the socket path must stay short.
	dir, err := os.MkdirTemp("", "cm-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	for _, d := range []string{"requests", "cas", "tmp", "config", "local", "out"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	script := filepath.Join(dir, "enroll.sh")
	if err := os.WriteFile(script, []byte(certmongerScript(dir, url, challenge, cn)), 0o600); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "sock")

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-n", "-d", "1", "-L", "-P", sock, "-c", "/bin/sh "+script)
	cmd.Env = append(cleanEnv(),
		"HOME="+dir,
		"CERTMONGER_REQUESTS_DIR="+filepath.Join(dir, "requests"),
		"CERTMONGER_CAS_DIR="+filepath.Join(dir, "cas"),
		"CERTMONGER_TMPDIR="+filepath.Join(dir, "tmp"),
		"CERTMONGER_CONFIG_DIR="+filepath.Join(dir, "config"),
		"CERTMONGER_LOCAL_CA_DIR="+filepath.Join(dir, "local"),
		"CERTMONGER_PVT_ADDRESS=unix:path="+sock,
	)
	var daemon bytes.Buffer
	cmd.Stdout, cmd.Stderr = &daemon, &daemon
	runErr := cmd.Run()
	scriptLog, _ := os.ReadFile(filepath.Join(dir, "script.log"))
	run := certmongerRun{
		certPath: filepath.Join(dir, "out", "cert.pem"),
		keyPath:  filepath.Join(dir, "out", "key.pem"),
		log: fmt.Sprintf("--- script ---\n%s\n--- certmonger (%v) ---\n%s",
			scriptLog, runErr, filterCertmongerLog(daemon.String())),
	}
	if ctx.Err() != nil {
		t.Fatalf("certmonger session did not end within 2 minutes\n%s", run.log)
	}
	return run
}

// filterCertmongerLog drops the lines about the IPA, Dogtag and local CAs
// that certmonger always configures; they say nothing about SCEP.
func filterCertmongerLog(s string) string {
	var keep []string
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, "/usr/lib/certmonger/ipa-submit") ||
			strings.Contains(line, "/usr/lib/certmonger/dogtag-") ||
			strings.Contains(line, "/usr/lib/certmonger/local-submit") ||
			strings.Contains(line, "Wrote to ") {
			continue
		}
		keep = append(keep, line)
	}
	return strings.Join(keep, "\n")
}

// mustChainToRoot verifies cert against the data dir's root with the
// issuing CA as intermediate.
func mustChainToRoot(t *testing.T, srv *server, cert *x509.Certificate) {
	t.Helper()
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(mustReadCert(t, srv.CAFile("root.crt")))
	inter.AddCert(mustReadCert(t, srv.CAFile("ca.crt")))
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		t.Errorf("verify %s: %v", cert.Subject, err)
	}
}
