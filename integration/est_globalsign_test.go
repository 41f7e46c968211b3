//go:build integration

package integration

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestESTGlobalsignClient drives certgate with globalsign's estclient, an
// EST client written by others: cacerts, csrattrs, simpleenroll with HTTP
// Basic, simplereenroll with the TLS client certificate being renewed, a
// refused re-enrollment once that certificate is revoked, and
// serverkeygen. openssl verifies every certificate it gets.
func TestESTGlobalsignClient(t *testing.T) {
	estclient := requireGoTool(t, "estclient")
	openssl := requireTool(t, "openssl")
	e := startEST(t)
	dir := t.TempDir()
	path := func(name string) string { return filepath.Join(dir, name) }
	common := []string{"-server", e.host, "-explicit", e.root, "-timeout", "30s"}
	run := func(t *testing.T, args ...string) (string, int) {
		t.Helper()
		return runTool(t, estclient, append(args[:1:1], append(common, args[1:]...)...)...)
	}
	mustRun := func(t *testing.T, args ...string) string {
		t.Helper()
		out, code := run(t, args...)
		if code != 0 {
			t.Fatalf("estclient %s: exit %d\n%s", strings.Join(args, " "), code, out)
		}
		return out
	}
	verify := func(t *testing.T, certFile string) *x509.Certificate {
		t.Helper()
		out := mustRunTool(t, openssl, "verify", "-CAfile", e.root, "-untrusted", e.ca, "-purpose", "sslclient", certFile)
		if !strings.Contains(out, ": OK") {
			t.Fatalf("openssl verify %s: %s", certFile, out)
		}
		return readCertFile(t, certFile)
	}

	t.Run("cacerts", func(t *testing.T) {
		mustRun(t, "cacerts", "-out", path("cacerts.pem"))
		got := readAllCerts(t, path("cacerts.pem"))
		want := []*x509.Certificate{readCertFile(t, e.ca), readCertFile(t, e.root)}
		if len(got) != len(want) {
			t.Fatalf("cacerts returned %d certificates, want the issuing CA and the root", len(got))
		}
		for i := range want {
			if !got[i].Equal(want[i]) {
				t.Errorf("cacerts[%d] is %s, want %s", i, got[i].Subject, want[i].Subject)
			}
		}
	})

	t.Run("csrattrs", func(t *testing.T) {
		out := mustRun(t, "csrattrs")
		for _, oid := range []string{"1.2.840.113549.1.9.7", "1.2.840.113549.1.1.11"} {
			if !strings.Contains(out, oid) {
				t.Errorf("csrattrs output lacks %s:\n%s", oid, out)
			}
		}
	})

	mustRunTool(t, openssl, "ecparam", "-genkey", "-name", "prime256v1", "-noout", "-out", path("device.key"))
	var first *x509.Certificate
	t.Run("simpleenroll with Basic", func(t *testing.T) {
		mustRun(t, "enroll", "-key", path("device.key"), "-cn", "est-device-1", "-dnsnames", "dev1.example", "-user", "device", "-pass", estChallenge, "-out", path("device.pem"))
		first = verify(t, path("device.pem"))
		if first.Subject.CommonName != "est-device-1" || len(first.DNSNames) != 1 || first.DNSNames[0] != "dev1.example" {
			t.Errorf("issued %s with SANs %v", first.Subject, first.DNSNames)
		}
		rec := findRecord(t, e.srv, serialHex(first))
		if rec.Protocol != "est" || rec.Profile != "default" || rec.Status != "valid" {
			t.Errorf("record: protocol %q profile %q status %q, want est default valid", rec.Protocol, rec.Profile, rec.Status)
		}
	})

	t.Run("simpleenroll with a wrong password", func(t *testing.T) {
		out, code := run(t, "enroll", "-key", path("device.key"), "-cn", "est-device-x", "-user", "device", "-pass", "wrong", "-out", path("x.pem"))
		if code == 0 || !strings.Contains(out, "403") && !strings.Contains(out, "wrong challenge") {
			t.Fatalf("exit %d, want a failure naming 403 or the wrong challenge:\n%s", code, out)
		}
	})

	var renewed *x509.Certificate
	t.Run("simplereenroll with the TLS client certificate", func(t *testing.T) {
		if first == nil {
			t.Skip("no certificate to renew")
		}
		// estclient signs the TLS handshake and the new CSR with -key, so
		// this renews the certificate without re-keying.
		mustRun(t, "reenroll", "-key", path("device.key"), "-certs", path("device.pem"), "-out", path("renewed.pem"))
		renewed = verify(t, path("renewed.pem"))
		if renewed.SerialNumber.Cmp(first.SerialNumber) == 0 || renewed.Subject.String() != first.Subject.String() {
			t.Errorf("renewed %s serial %s; want the same subject and a new serial", renewed.Subject, serialHex(renewed))
		}
		if rec := findRecord(t, e.srv, serialHex(renewed)); rec.RenewalOf != serialHex(first) {
			t.Errorf("record renewal_of %q, want %s", rec.RenewalOf, serialHex(first))
		}
	})

	t.Run("simplereenroll with a revoked certificate", func(t *testing.T) {
		if renewed == nil {
			t.Skip("no renewed certificate")
		}
		mustCLI(t, "revoke", serialHex(renewed), "--reason", "keyCompromise", "--data-dir", e.srv.DataDir)
		out, code := run(t, "reenroll", "-key", path("device.key"), "-certs", path("renewed.pem"), "-out", path("again.pem"))
		if code == 0 || !strings.Contains(out, "revoked") {
			t.Fatalf("exit %d, want a failure saying the certificate is revoked:\n%s", code, out)
		}
	})

	t.Run("serverkeygen", func(t *testing.T) {
		mustRun(t, "serverkeygen", "-aps", "keygen", "-cn", "est-keygen-1", "-user", "device", "-pass", estChallenge, "-out", path("kg.pem"), "-keyout", path("kg.key"))
		cert := verify(t, path("kg.pem"))
		keyPEM, err := os.ReadFile(path("kg.key"))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := pem.Decode(keyPEM)
		if b == nil {
			t.Fatalf("kg.key is not PEM")
		}
		key, err := x509.ParsePKCS8PrivateKey(b.Bytes)
		if err != nil {
			t.Fatalf("kg.key: %v", err)
		}
		ec, ok := key.(*ecdsa.PrivateKey)
		if !ok || ec.Curve != elliptic.P384() {
			t.Fatalf("generated key is %T, want ECDSA P-384 as the profile says", key)
		}
		if !ec.PublicKey.Equal(cert.PublicKey) {
			t.Errorf("certificate is not for the generated key")
		}
		if rec := findRecord(t, e.srv, serialHex(cert)); rec.Profile != "keygen" {
			t.Errorf("record profile %q, want keygen", rec.Profile)
		}
		if res := runCLI(t, "escrow", "recover", serialHex(cert), "--data-dir", e.srv.DataDir); res.Code == 0 {
			t.Errorf("escrow recover of a profile that does not escrow succeeded:\n%s", res.Stdout)
		}
	})

	t.Run("serverkeygen with escrow", func(t *testing.T) {
		mustRun(t, "serverkeygen", "-aps", "escrowed", "-cn", "est-escrow-1", "-user", "device", "-pass", estChallenge, "-out", path("esc.pem"), "-keyout", path("esc.key"))
		cert := verify(t, path("esc.pem"))
		recovered := path("recovered.key")
		mustCLI(t, "escrow", "recover", serialHex(cert), "--out", recovered, "--data-dir", e.srv.DataDir)
		a := mustRunTool(t, openssl, "pkey", "-in", path("esc.key"), "-pubout")
		b := mustRunTool(t, openssl, "pkey", "-in", recovered, "-pubout")
		if a != b || !strings.Contains(a, "PUBLIC KEY") {
			t.Errorf("recovered key differs from the one the client received")
		}
		if fi, err := os.Stat(recovered); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("recovered key file mode %v, %v; want 0600", fi.Mode().Perm(), err)
		}
		if list := mustCLI(t, "certs", "list", "--json", "--data-dir", e.srv.DataDir); strings.Contains(list, "escrowed_key") || !strings.Contains(list, `"key_escrowed": true`) {
			t.Errorf("certs list should say the key is escrowed and never print the sealed blob:\n%s", list)
		}
		// The profile refuses a second valid certificate for the subject.
		out, code := run(t, "serverkeygen", "-aps", "escrowed", "-cn", "est-escrow-1", "-user", "device", "-pass", estChallenge, "-out", path("esc2.pem"), "-keyout", path("esc2.key"))
		if code == 0 || !strings.Contains(out, "already exists") {
			t.Errorf("second serverkeygen for the same subject: exit %d, want a refusal saying a certificate already exists:\n%s", code, out)
		}
	})
}

// readAllCerts parses every certificate in a PEM file.
func readAllCerts(t *testing.T, path string) []*x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return out
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, c)
	}
}
