//go:build integration

package integration

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// scepclientRun is one run of Debian's scepclient (micromdm/scep 2.1.0).
type scepclientRun struct {
	dir, keyPath, certPath string
	output                 string
	err                    error
}

// runScepclient enrolls cn at url with challenge. Each run gets its own
// directory: scepclient keeps csr.pem and self.pem next to the key and
// reuses them on the next run.
func runScepclient(t *testing.T, bin, url, challenge, cn string) scepclientRun {
	t.Helper()
	dir := t.TempDir()
	r := scepclientRun{dir: dir, keyPath: filepath.Join(dir, "key.pem"), certPath: filepath.Join(dir, "cert.pem")}
	cmd := exec.Command(bin, "-server-url", url, "-challenge", challenge,
		"-private-key", r.keyPath, "-certificate", r.certPath, "-cn", cn)
	out, err := cmd.CombinedOutput()
	r.output, r.err = string(out), err
	return r
}

// TestScepclient enrolls with micromdm's scepclient on /scep and on the
// profile path and checks the result with openssl and the CLI; a wrong
// challenge must leave no record and count as rejected.
func TestScepclient(t *testing.T) {
	bin := requireTool(t, "scepclient")
	opensslBin := requireTool(t, "openssl")
	srv := startServer(t, newDataDir(t))

	for _, tc := range []struct{ name, path, cn string }{
		{"ok/scep", "/scep", "scepclient-one"},
		{"ok/profile-path", "/scep/default", "scepclient-two"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runScepclient(t, bin, srv.URL+tc.path, srv.Challenge(), tc.cn)
			if r.err != nil {
				t.Fatalf("scepclient: %v\n%s", r.err, r.output)
			}
			cert := mustReadCert(t, r.certPath)
			key := mustReadKey(t, r.keyPath)
			if cert.Subject.CommonName != tc.cn {
				t.Errorf("CN %q, want %q", cert.Subject.CommonName, tc.cn)
			}
			if pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(cert.PublicKey) {
				t.Errorf("certificate public key does not match %s", r.keyPath)
			}
			out, err := exec.Command(opensslBin, "verify", "-CAfile", srv.CAFile("root.crt"),
				"-untrusted", srv.CAFile("ca.crt"), r.certPath).CombinedOutput()
			if err != nil || !strings.Contains(string(out), ": OK") {
				t.Errorf("openssl verify: %v\n%s", err, out)
			}
			recs := certsList(t, srv.DataDir, "--subject", tc.cn)
			if len(recs) != 1 || recs[0].Serial != serialHex(cert) {
				t.Fatalf("certs list --subject %s: %+v, want exactly serial %s", tc.cn, recs, serialHex(cert))
			}
			rec := recs[0]
			if rec.Status != "valid" || rec.Protocol != "scep" || rec.Profile != "default" || rec.TransactionID == "" || rec.CommonName != tc.cn {
				t.Errorf("record: status %q protocol %q profile %q transaction_id %q common_name %q, want valid scep default non-empty %q",
					rec.Status, rec.Protocol, rec.Profile, rec.TransactionID, rec.CommonName, tc.cn)
			}
		})
	}

	t.Run("fail/wrong-challenge", func(t *testing.T) {
		before := len(certsList(t, srv.DataDir))
		r := runScepclient(t, bin, srv.URL+"/scep", "not-the-challenge", "scepclient-bad")
		if _, err := os.Stat(r.certPath); r.err == nil && err == nil {
			t.Fatalf("scepclient with a wrong challenge succeeded:\n%s", r.output)
		}
		if recs := certsList(t, srv.DataDir, "--subject", "scepclient-bad"); len(recs) != 0 {
			t.Errorf("records after a wrong challenge: %+v", recs)
		}
		if after := len(certsList(t, srv.DataDir)); after != before {
			t.Errorf("records: %d before, %d after a wrong challenge", before, after)
		}
		got, ok := metricValue(t, scrape(t, srv), "certgate_enrollments_total",
			map[string]string{"protocol": "scep", "profile": "default", "result": "rejected"})
		if !ok || got != 1 {
			t.Errorf("certgate_enrollments_total{result=rejected} = %v (present %v), want 1", got, ok)
		}
	})
}

func mustReadCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("certificate: %v", err)
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("%s holds no PEM CERTIFICATE", path)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return cert
}

func mustReadKey(t *testing.T, path string) crypto.Signer {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("key: %v", err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatalf("%s holds no PEM block", path)
	}
	key, err := parsePrivateKey(block.Bytes)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return key
}

// parsePrivateKey accepts PKCS#1 (scepclient) and PKCS#8 (certmonger) keys.
func parsePrivateKey(der []byte) (crypto.Signer, error) {
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, err
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, errors.New("key is not a crypto.Signer")
	}
	return s, nil
}
