package upstream

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readFixtureCert(t *testing.T, name string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatalf("%s: no PEM", name)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestLoadClientCert reads fixtures written by OpenSSL 3 (testdata/gen.sh).
func TestLoadClientCert(t *testing.T) {
	leaf := readFixtureCert(t, "leaf.crt")
	ecLeaf := readFixtureCert(t, "ec.crt")
	ca := readFixtureCert(t, "ca.crt")
	pass := []byte("test-pass")
	for _, tc := range []struct {
		name      string
		cert, key string
		pass      []byte
		wantLeaf  *x509.Certificate
		wantChain int    // certificates after the leaf
		wantErr   string // substring; "" for success
	}{
		{"ok/pem-pkcs8", "leaf.crt", "leaf.key", nil, leaf, 0, ""},
		{"ok/pem-pkcs1", "leaf.crt", "leaf-pkcs1.key", nil, leaf, 0, ""},
		{"ok/pem-sec1", "ec.crt", "ec-sec1.key", nil, ecLeaf, 0, ""},
		{"ok/pem-encrypted-aes256", "leaf.crt", "leaf-aes.key", pass, leaf, 0, ""},
		{"ok/pem-encrypted-des3", "leaf.crt", "leaf-des3.key", pass, leaf, 0, ""},
		{"ok/pem-chain-ca-first", "chain-ca-first.pem", "leaf.key", nil, leaf, 1, ""},
		{"ok/pem-cert-and-key-in-one-file", "combined.pem", "", nil, leaf, 0, ""},
		{"ok/p12-openssl3-default", "leaf.p12", "", pass, leaf, 1, ""},
		{"ok/p12-legacy-rc2-3des", "leaf-legacy.p12", "", pass, leaf, 1, ""},
		{"ok/p12-sha512-mac", "leaf-sha512mac.p12", "", pass, leaf, 0, ""},
		{"ok/p12-empty-passphrase", "leaf-nopass.p12", "", nil, leaf, 0, ""},
		{"fail/pem-encrypted-wrong-passphrase", "leaf.crt", "leaf-aes.key", []byte("nope"), nil, 0, "wrong passphrase"},
		{"fail/pem-encrypted-no-passphrase", "leaf.crt", "leaf-aes.key", nil, nil, 0, "no passphrase was given"},
		{"fail/pem-legacy-encryption", "leaf.crt", "leaf-legacy-enc.key", pass, nil, 0, "legacy OpenSSL key encryption"},
		{"fail/pem-key-of-another-cert", "ec.crt", "leaf.key", nil, nil, 0, "no certificate matches the private key"},
		{"fail/pem-no-key", "leaf.crt", "", nil, nil, 0, "no private key block"},
		{"fail/pem-no-cert", "leaf.key", "leaf.key", nil, nil, 0, "no CERTIFICATE block"},
		{"fail/p12-wrong-passphrase", "leaf.p12", "", []byte("nope"), nil, 0, "wrong passphrase"},
		{"fail/p12-legacy-wrong-passphrase", "leaf-legacy.p12", "", []byte("nope"), nil, 0, "wrong passphrase"},
		{"fail/p12-with-key-path", "leaf.p12", "leaf.key", pass, nil, 0, "keyPath must be empty"},
		{"fail/missing-file", "absent.pem", "", nil, nil, 0, "no such file"},
		{"fail/garbage", "gen.sh", "", nil, nil, 0, "not a PKCS#12 file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keyPath := ""
			if tc.key != "" {
				keyPath = filepath.Join("testdata", tc.key)
			}
			got, err := LoadClientCert(filepath.Join("testdata", tc.cert), keyPath, tc.pass)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.HasPrefix(err.Error(), "upstream: ") {
					t.Fatalf("error %v, want one saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !got.Leaf.Equal(tc.wantLeaf) || string(got.Certificate[0]) != string(tc.wantLeaf.Raw) {
				t.Fatalf("leaf %v, want %v", got.Leaf.Subject, tc.wantLeaf.Subject)
			}
			if len(got.Certificate)-1 != tc.wantChain {
				t.Fatalf("%d chain certificates, want %d", len(got.Certificate)-1, tc.wantChain)
			}
			if tc.wantChain > 0 && string(got.Certificate[1]) != string(ca.Raw) {
				t.Fatal("chain is not the CA")
			}
		})
	}
}
