//go:build integration

package integration

import (
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCAInit drives `certgate ca init`: it creates a CA once, refuses to
// replace it without --force, and imports an openssl-made intermediate
// with a PBES2-encrypted key, which the server then issues from.
func TestCAInit(t *testing.T) {
	dd := newDataDir(t)
	caCert := filepath.Join(dd, "ca", "ca.crt")
	rootCert := filepath.Join(dd, "ca", "root.crt")

	var firstFP string
	t.Run("ok/create", func(t *testing.T) {
		out := mustCLI(t, "ca", "init", "--data-dir", dd)
		firstFP = fingerprint(mustReadCert(t, caCert))
		mustPrintFingerprints(t, out, firstFP, fingerprint(mustReadCert(t, rootCert)))
	})

	t.Run("fail/exists", func(t *testing.T) {
		res := runCLI(t, "ca", "init", "--data-dir", dd)
		if res.Code != 1 || !strings.Contains(res.Stderr, "already exists") {
			t.Errorf("second ca init: exit %d stderr %q, want exit 1 saying a CA already exists", res.Code, res.Stderr)
		}
		if got := fingerprint(mustReadCert(t, caCert)); got != firstFP {
			t.Errorf("refused ca init replaced the CA: %s, was %s", got, firstFP)
		}
	})

	t.Run("ok/force-replaces", func(t *testing.T) {
		out := mustCLI(t, "ca", "init", "--data-dir", dd, "--force")
		got := fingerprint(mustReadCert(t, caCert))
		if got == firstFP {
			t.Errorf("ca init --force kept the CA %s", got)
		}
		mustPrintFingerprints(t, out, got, fingerprint(mustReadCert(t, rootCert)))
	})

	opensslBin := requireTool(t, "openssl")
	const passphrase = "correct horse battery staple"
	pki := newOpenSSLPKI(t, opensslBin, passphrase)
	importArgs := func(dataDir string) []string {
		return []string{"ca", "init", "--data-dir", dataDir, "--import-cert", pki.interCert,
			"--import-key", pki.interKeyEnc, "--import-chain", pki.rootCert, "--key-passphrase-env", "PASS"}
	}

	t.Run("fail/import-wrong-passphrase", func(t *testing.T) {
		const wrong = "not-the-passphrase-1234"
		d := newDataDir(t)
		res := runCLIEnv(t, []string{"PASS=" + wrong}, importArgs(d)...)
		if res.Code != 1 || !strings.Contains(res.Stderr, "wrong passphrase") {
			t.Errorf("import with a wrong passphrase: exit %d stderr %q, want exit 1 saying wrong passphrase", res.Code, res.Stderr)
		}
		if strings.Contains(res.Stderr+res.Stdout, wrong) {
			t.Errorf("import error output repeats the passphrase: %q", res.Stderr)
		}
		if _, err := os.Stat(filepath.Join(d, "ca", "ca.crt")); err == nil {
			t.Errorf("a failed import left %s behind", filepath.Join(d, "ca", "ca.crt"))
		}
	})

	t.Run("ok/import-and-enroll", func(t *testing.T) {
		d := newDataDir(t)
		res := runCLIEnv(t, []string{"PASS=" + passphrase}, importArgs(d)...)
		if res.Code != 0 {
			t.Fatalf("import: exit %d\nstdout: %s\nstderr: %s", res.Code, res.Stdout, res.Stderr)
		}
		mustPrintFingerprints(t, res.Stdout, fingerprint(mustReadCert(t, pki.interCert)), fingerprint(mustReadCert(t, pki.rootCert)))
		if fi, err := os.Stat(filepath.Join(d, "ca", "ca.key")); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("imported ca.key: %v %v, want mode 0600", fi, err)
		}

		srv := startServer(t, d)
		c := newSCEPClient(t, srv.URL+"/scep")
		id := c.mustEnroll(t, "imported-ca-leaf", srv.Challenge())
		leaf := filepath.Join(t.TempDir(), "leaf.pem")
		if err := os.WriteFile(leaf, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: id.Cert.Raw}), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(opensslBin, "verify", "-CAfile", pki.rootCert, "-untrusted", pki.interCert, leaf).CombinedOutput()
		if err != nil || !strings.Contains(string(out), ": OK") {
			t.Errorf("openssl verify of the issued certificate: %v\n%s", err, out)
		}
	})
}

// mustPrintFingerprints checks `ca init` output names both fingerprints.
func mustPrintFingerprints(t *testing.T, out, issuing, root string) {
	t.Helper()
	for name, fp := range map[string]string{"issuing CA": issuing, "root CA": root} {
		if !strings.Contains(out, "SHA-256 "+fp) {
			t.Errorf("ca init output lacks the %s fingerprint %s:\n%s", name, fp, out)
		}
	}
}

// openSSLPKI is a root and an intermediate CA made with openssl, as an
// operator with an existing PKI would bring them.
type openSSLPKI struct {
	rootCert, interCert string
	// interKeyEnc is the intermediate's key, PKCS#8 PBES2 AES-256-CBC.
	interKeyEnc string
}

func newOpenSSLPKI(t *testing.T, opensslBin, passphrase string) openSSLPKI {
	t.Helper()
	dir := t.TempDir()
	run := func(env []string, args ...string) {
		t.Helper()
		cmd := exec.Command(opensslBin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	ext := "basicConstraints=critical,CA:TRUE,pathlen:0\n" +
		"keyUsage=critical,keyCertSign,cRLSign,digitalSignature,keyEncipherment\n" +
		"subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid:always\n"
	if err := os.WriteFile(filepath.Join(dir, "inter.ext"), []byte(ext), 0o600); err != nil {
		t.Fatal(err)
	}
	run(nil, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "root.key", "-out", "root.pem",
		"-subj", "/CN=certgate-it Root", "-days", "30",
		"-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
	run(nil, "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "inter.key", "-out", "inter.csr",
		"-subj", "/CN=certgate-it Intermediate")
	run(nil, "x509", "-req", "-in", "inter.csr", "-CA", "root.pem", "-CAkey", "root.key", "-set_serial", "2",
		"-days", "30", "-extfile", "inter.ext", "-out", "inter.pem")
	run([]string{"PASS=" + passphrase}, "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", "inter.key",
		"-out", "inter.enc.key", "-passout", "env:PASS")
	return openSSLPKI{
		rootCert:    filepath.Join(dir, "root.pem"),
		interCert:   filepath.Join(dir, "inter.pem"),
		interKeyEnc: filepath.Join(dir, "inter.enc.key"),
	}
}
