package local

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"testing"
	"time"
)

func TestIssueAdminClient(t *testing.T) {
	c := loadFixture(t, Options{})
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := c.IssueAdminClient(key.Public(), "alice", "certgate admin", "operator", 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if cert.Subject.CommonName != "alice" || cert.Subject.Organization[0] != "certgate admin" || cert.Subject.OrganizationalUnit[0] != "operator" {
		t.Errorf("subject %s", cert.Subject)
	}
	roots := x509.NewCertPool()
	roots.AddCert(c.Root())
	inter := x509.NewCertPool()
	inter.AddCert(c.Certificate())
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("verify as a TLS client: %v", err)
	}
	if _, err := c.IssueAdminClient(nil, "bob", "certgate admin", "viewer", time.Hour); err == nil {
		t.Error("nil key accepted")
	}
}
