package local

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestIssueTLSServer(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	c := loadFixture(t, Options{Name: "corp"})
	long := strings.Repeat("a", 60) + ".example.com"
	tests := []struct {
		name    string
		hosts   []string
		wantCN  string
		wantErr string
	}{
		{name: "ok/names and addresses", hosts: []string{"est.example.com", "127.0.0.1", "::1", "localhost"}, wantCN: "est.example.com"},
		{name: "ok/long first name", hosts: []string{long}, wantCN: "corp EST"},
		{name: "fail/no hosts", wantErr: "no host names"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cert, err := c.IssueTLSServer(key, tc.hosts, 90*24*time.Hour)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cert.Subject.CommonName != tc.wantCN {
				t.Errorf("CN %q, want %q", cert.Subject.CommonName, tc.wantCN)
			}
			roots := x509.NewCertPool()
			roots.AddCert(c.Root())
			inter := x509.NewCertPool()
			inter.AddCert(c.Certificate())
			for _, h := range tc.hosts {
				if _, err := cert.Verify(x509.VerifyOptions{DNSName: h, Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
					t.Errorf("verify for %s: %v", h, err)
				}
			}
			if cert.IsCA {
				t.Error("server certificate is a CA")
			}
		})
	}
}

func TestServerTLS(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	c := loadFixture(t, Options{Now: func() time.Time { return now }})
	hosts := []string{"localhost", "127.0.0.1"}
	const validity = 90 * 24 * time.Hour

	first, issued, err := c.ServerTLS(dir, hosts, validity)
	if err != nil || !issued {
		t.Fatalf("first start: issued=%v err=%v, want a new certificate", issued, err)
	}
	if len(first.Certificate) != 1+len(c.Chain()) {
		t.Errorf("chain has %d certificates, want leaf + %d", len(first.Certificate), len(c.Chain()))
	}
	if fi, err := os.Stat(filepath.Join(dir, "tls.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("tls.key: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}

	steps := []struct {
		name       string
		advance    time.Duration
		hosts      []string
		wantIssued bool
	}{
		{name: "ok/restart reuses", hosts: hosts},
		{name: "ok/subset of hosts reuses", hosts: hosts[:1]},
		{name: "ok/new host reissues", hosts: append(hosts, "est.example.com"), wantIssued: true},
		{name: "ok/half-way reuses", advance: 45 * 24 * time.Hour, hosts: append(hosts, "est.example.com")},
		{name: "ok/last third reissues", advance: 20 * 24 * time.Hour, hosts: append(hosts, "est.example.com"), wantIssued: true},
	}
	prev := first.Leaf
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			now = now.Add(s.advance)
			got, issued, err := c.ServerTLS(dir, s.hosts, validity)
			if err != nil {
				t.Fatal(err)
			}
			if issued != s.wantIssued || got.Leaf.Equal(prev) == s.wantIssued {
				t.Fatalf("issued=%v (same leaf %v), want issued=%v", issued, got.Leaf.Equal(prev), s.wantIssued)
			}
			if _, err := tls.X509KeyPair(pemOf(got), keyPEMOf(t, got)); err != nil {
				t.Errorf("key does not match certificate: %v", err)
			}
			prev = got.Leaf
		})
	}
}

func pemOf(c *tls.Certificate) []byte {
	var out []byte
	for _, der := range c.Certificate {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	return out
}

func keyPEMOf(t *testing.T, c *tls.Certificate) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}
