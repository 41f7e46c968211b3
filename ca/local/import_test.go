package local

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const testPassphrase = "correct horse"

// fixtureKey is the fixture's issuing CA key.
func fixtureKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := parsePrivateKey(readFile(t, fixtureDir, "ca.key"), nil)
	if err != nil {
		t.Fatal(err)
	}
	return k.(*rsa.PrivateKey)
}

// legacyEncrypt re-encodes a PEM key as PKCS#1 with OpenSSL's legacy
// Proc-Type encryption.
func legacyEncrypt(t *testing.T, keyPEM []byte, pass string) []byte {
	t.Helper()
	k, err := parsePrivateKey(keyPEM, nil)
	if err != nil {
		t.Fatal(err)
	}
	// EncryptPEMBlock is deprecated as weak; producing that format is the point.
	//lint:ignore SA1019 producing the legacy format is the point of this test.
	block, err := x509.EncryptPEMBlock(rand.Reader, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(k.(*rsa.PrivateKey)), []byte(pass), x509.PEMCipherAES256)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(block)
}

// opensslKey runs openssl on the fixture's ca.key (as -in) and returns
// what it wrote to -out; it skips the test if openssl is not installed.
func opensslKey(t *testing.T, args ...string) []byte {
	t.Helper()
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not on PATH")
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.pem"), filepath.Join(dir, "out.pem")
	if err := os.WriteFile(in, readFile(t, fixtureDir, "ca.key"), 0o600); err != nil {
		t.Fatal(err)
	}
	args = append(args, "-in", in, "-out", out)
	if msg, err := exec.Command(openssl, args...).CombinedOutput(); err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, msg)
	}
	return readFile(t, dir, "out.pem")
}

// selfSigned makes a self-signed certificate for key from tpl.
func selfSigned(t *testing.T, key crypto.Signer, tpl *x509.Certificate) []byte {
	t.Helper()
	tpl.SerialNumber = big.NewInt(1)
	if tpl.NotAfter.IsZero() {
		tpl.NotBefore, tpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func TestImportKeyFormats(t *testing.T) {
	caCert, root := readFile(t, fixtureDir, "ca.crt"), readFile(t, fixtureDir, "root.crt")
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(fixtureKey(t))})
	pass := "pass:" + testPassphrase
	tests := []struct {
		name string
		key  func(t *testing.T) []byte
		pass string
		err  error
	}{
		{name: "ok/pkcs8", key: func(t *testing.T) []byte { return readFile(t, fixtureDir, "ca.key") }},
		{name: "ok/pkcs1", key: func(t *testing.T) []byte { return pkcs1 }},
		{name: "ok/pkcs1 after other PEM blocks", key: func(t *testing.T) []byte {
			return append(append([]byte("key for the CA\n"), caCert...), pkcs1...)
		}},
		{name: "ok/legacy encrypted pkcs1", pass: testPassphrase,
			key: func(t *testing.T) []byte { return legacyEncrypt(t, readFile(t, fixtureDir, "ca.key"), testPassphrase) }},
		{name: "ok/openssl legacy encrypted pkcs1", pass: testPassphrase, key: func(t *testing.T) []byte {
			return opensslKey(t, "rsa", "-traditional", "-aes128", "-passout", pass)
		}},
		{name: "ok/openssl pbes2 aes-256-cbc", pass: testPassphrase, key: func(t *testing.T) []byte {
			return opensslKey(t, "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-passout", pass)
		}},
		{name: "ok/openssl pbes2 aes-128-cbc hmacWithSHA1", pass: testPassphrase, key: func(t *testing.T) []byte {
			return opensslKey(t, "pkcs8", "-topk8", "-v2", "aes-128-cbc", "-v2prf", "hmacWithSHA1", "-passout", pass)
		}},
		{name: "ok/openssl pbes2 aes-192-cbc hmacWithSHA512", pass: testPassphrase, key: func(t *testing.T) []byte {
			return opensslKey(t, "pkcs8", "-topk8", "-v2", "aes-192-cbc", "-v2prf", "hmacWithSHA512", "-passout", pass)
		}},
		{name: "ok/openssl pbes2 des-ede3-cbc", pass: testPassphrase, key: func(t *testing.T) []byte {
			return opensslKey(t, "pkcs8", "-topk8", "-v2", "des3", "-passout", pass)
		}},
		{name: "fail/legacy wrong passphrase", pass: "wrong", err: ErrPassphrase,
			key: func(t *testing.T) []byte { return legacyEncrypt(t, readFile(t, fixtureDir, "ca.key"), testPassphrase) }},
		{name: "fail/pbes2 wrong passphrase", pass: "wrong", err: ErrPassphrase, key: func(t *testing.T) []byte {
			return opensslKey(t, "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-passout", pass)
		}},
		{name: "fail/legacy without passphrase", err: ErrPassphraseRequired,
			key: func(t *testing.T) []byte { return legacyEncrypt(t, readFile(t, fixtureDir, "ca.key"), testPassphrase) }},
		{name: "fail/pbes2 without passphrase", err: ErrPassphraseRequired, key: func(t *testing.T) []byte {
			return opensslKey(t, "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-passout", pass)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "ca")
			err := Import(dir, caCert, tt.key(t), root, []byte(tt.pass))
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("Import error = %v, want %v", err, tt.err)
				}
				if Exists(dir) {
					t.Error("a failed Import left a CA behind")
				}
				return
			}
			if err != nil {
				t.Fatalf("Import: %v", err)
			}
			c, err := Load(dir, Options{})
			if err != nil {
				t.Fatalf("Load after Import: %v", err)
			}
			want := loadFixture(t, Options{})
			if !c.Certificate().Equal(want.Certificate()) || !c.Root().Equal(want.Root()) || len(c.Chain()) != 2 {
				t.Errorf("imported chain differs from the fixture's")
			}
			fi, err := os.Stat(filepath.Join(dir, "ca.key"))
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode() != 0o600 {
				t.Errorf("ca.key mode = %v, want 0600", fi.Mode())
			}
			if block, _ := pem.Decode(readFile(t, dir, "ca.key")); block == nil || block.Type != "PRIVATE KEY" || len(block.Headers) != 0 {
				t.Errorf("ca.key is not unencrypted PKCS#8")
			}
		})
	}
}

func TestImportRefusals(t *testing.T) {
	caCert, caKey, root := readFile(t, fixtureDir, "ca.crt"), readFile(t, fixtureDir, "ca.key"), readFile(t, fixtureDir, "root.crt")

	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalECPrivateKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	// openssl ecparam -genkey writes EC PARAMETERS before the key.
	ecKeyPEM := append(pem.EncodeToMemory(&pem.Block{Type: "EC PARAMETERS", Bytes: []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ecDER})...)
	caTpl := func() *x509.Certificate {
		return &x509.Certificate{Subject: pkix.Name{CommonName: "other CA"}, IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	}
	ecCA := selfSigned(t, ecKey, caTpl())
	expired := caTpl()
	expired.NotBefore, expired.NotAfter = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)
	expiredCA := selfSigned(t, fixtureKey(t), expired)
	notCA := selfSigned(t, fixtureKey(t), &x509.Certificate{Subject: pkix.Name{CommonName: "leaf"}, BasicConstraintsValid: true})
	noCertSign := caTpl()
	noCertSign.KeyUsage = x509.KeyUsageDigitalSignature
	noCertSignCA := selfSigned(t, fixtureKey(t), noCertSign)

	tests := []struct {
		name             string
		cert, key, chain []byte
		wantErr          string
		is               error
	}{
		{name: "fail/ecdsa CA", cert: ecCA, key: ecKeyPEM, is: ErrNotRSA,
			wantErr: "ca: local: the SCEP CA key must be RSA because clients encrypt to it"},
		{name: "fail/key does not match", cert: caCert, key: readFile(t, fixtureDir, "root.key"), chain: root,
			wantErr: `ca: local: the key does not match the certificate "CN=certgate Issuing CA"`},
		{name: "fail/not a CA", cert: notCA, key: caKey,
			wantErr: `ca: local: certificate "CN=leaf" is not a CA (basicConstraints cA is not set)`},
		{name: "fail/no keyCertSign", cert: noCertSignCA, key: caKey,
			wantErr: `ca: local: certificate "CN=other CA" lacks the keyCertSign key usage`},
		{name: "fail/expired", cert: expiredCA, key: caKey,
			wantErr: `ca: local: certificate "CN=other CA" expired on 2021-01-01T00:00:00Z`},
		{name: "fail/chain does not issue the CA", cert: caCert, key: caKey, chain: caCert,
			wantErr: `ca: local: chain[0] "CN=certgate Issuing CA" did not issue "CN=certgate Issuing CA" (want issuers leaf-first): crypto/rsa: verification error`},
		{name: "fail/no certificate", cert: caKey, key: caKey,
			wantErr: "ca: local: no CERTIFICATE PEM block in the CA certificate"},
		{name: "fail/no key", cert: caCert, key: caCert, chain: root,
			wantErr: "ca: local: no private key PEM block"},
		{name: "fail/unsupported key block", cert: caCert, key: pem.EncodeToMemory(&pem.Block{Type: "OPENSSH PRIVATE KEY", Bytes: []byte{1}}),
			wantErr: `ca: local: unsupported PEM block "OPENSSH PRIVATE KEY"`},
		{name: "fail/corrupt key", cert: caCert, key: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{0x30, 0}}),
			wantErr: "ca: local: parse PRIVATE KEY: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			err := Import(dir, tt.cert, tt.key, tt.chain, nil)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Import error = %v, want it to contain %q", err, tt.wantErr)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("Import error = %v, want errors.Is %v", err, tt.is)
			}
			if _, err := os.Stat(filepath.Join(dir, "ca.key")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a refused Import wrote ca.key")
			}
		})
	}
}

func TestImportChainLayouts(t *testing.T) {
	caCert, caKey, root := readFile(t, fixtureDir, "ca.crt"), readFile(t, fixtureDir, "ca.key"), readFile(t, fixtureDir, "root.crt")
	tests := []struct {
		name      string
		cert      []byte
		chain     []byte
		chainLen  int
		wantsRoot bool
	}{
		{name: "ok/chain given separately", cert: caCert, chain: root, chainLen: 2, wantsRoot: true},
		{name: "ok/chain appended to the certificate", cert: append(append([]byte{}, caCert...), root...), chainLen: 2, wantsRoot: true},
		{name: "ok/no chain", cert: caCert, chainLen: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Import over a complete CA: its root.crt must not survive an
			// import without a chain.
			dir := filepath.Join(t.TempDir(), "ca")
			if err := Init(dir, testInitOptions()); err != nil {
				t.Fatal(err)
			}
			if err := Import(dir, tt.cert, caKey, tt.chain, nil); err != nil {
				t.Fatal(err)
			}
			c, err := Load(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			fixture := loadFixture(t, Options{})
			if !c.Certificate().Equal(fixture.Certificate()) {
				t.Error("Import did not replace the CA")
			}
			wantRoot := fixture.Certificate()
			if tt.wantsRoot {
				wantRoot = fixture.Root()
			}
			if len(c.Chain()) != tt.chainLen || !c.Root().Equal(wantRoot) {
				t.Errorf("len(Chain()) = %d, Root() = %s; want %d, %s", len(c.Chain()), c.Root().Subject, tt.chainLen, wantRoot.Subject)
			}
		})
	}
}
