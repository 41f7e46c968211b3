package local

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/certgate/certgate/ca"
)

// fixtureDir holds one CA made by Init for the tests that only read it;
// RSA key generation dominates the run time.
var fixtureDir string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "certgate-local-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	fixtureDir = filepath.Join(tmp, "ca")
	if err := Init(fixtureDir, testInitOptions()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// testInitOptions uses small keys for speed.
func testInitOptions() InitOptions {
	return InitOptions{Bits: 2048, RootBits: 2048}
}

func readFile(t testing.TB, dir, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func loadFixture(t testing.TB, opts Options) *CA {
	t.Helper()
	c, err := Load(fixtureDir, opts)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

func testCSR(t testing.TB, cn string) *x509.CertificateRequest {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: cn}, DNSNames: []string{cn + ".example"},
	}, key)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		t.Fatal(err)
	}
	return csr
}

func testProfile(t testing.TB, mod func(*ca.ProfileConfig)) *ca.Profile {
	t.Helper()
	cfg := ca.ProfileConfig{Name: "test"}
	if mod != nil {
		mod(&cfg)
	}
	p, err := cfg.Build()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func issue(t testing.TB, c *CA, csr *x509.CertificateRequest, p *ca.Profile) *x509.Certificate {
	t.Helper()
	d, err := c.Prepare(context.Background(), csr, p)
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	cert, err := c.Sign(context.Background(), d)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return cert
}
