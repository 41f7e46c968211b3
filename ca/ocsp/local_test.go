package ocsp_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"math/big"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/certgate/certgate/ca/local"
	"github.com/certgate/certgate/ca/ocsp"
	"github.com/certgate/certgate/ca/ocsp/ocsptest"
	"github.com/certgate/certgate/store"
	xocsp "golang.org/x/crypto/ocsp"
)

// TestLocalCA wires the responder to a real local.CA the way cmd does, and
// checks a response as a Go client would, delegation included.
func TestLocalCA(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	if err := local.Init(dir, local.InitOptions{Bits: 2048, RootBits: 2048}); err != nil {
		t.Fatal(err)
	}
	c, err := local.Load(dir, local.Options{Name: "corp"})
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ocsp.NewSigner(ocsp.SignerConfig{Name: c.Name(), Issuer: c.Certificate(), Issue: c.IssueOCSPResponder})
	if err != nil {
		t.Fatal(err)
	}
	certs := &ocsptest.Certs{}
	r, err := ocsp.New(ocsp.Options{CAs: []*ocsp.Signer{signer}, Source: certs, Cache: &ocsptest.Cache{}})
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
		SerialNumber: big.NewInt(0x0c5f), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
	}, c.Certificate(), key.Public(), c.Signer())
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(leafDER)
	if err != nil {
		t.Fatal(err)
	}
	certs.Add(store.CertRecord{Serial: leaf.SerialNumber, Issuer: "corp", Status: store.StatusValid, NotAfter: leaf.NotAfter})

	req, err := xocsp.CreateRequest(leaf, c.Certificate(), nil)
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	hr := httptest.NewRequest(http.MethodPost, "/ocsp", bytes.NewReader(req))
	hr.Header.Set("Content-Type", "application/ocsp-request")
	r.ServeHTTP(w, hr)
	resp, err := xocsp.ParseResponseForCert(w.Body.Bytes(), leaf, c.Certificate())
	if err != nil {
		t.Fatalf("HTTP %d: %v", w.Code, err)
	}
	if resp.Status != xocsp.Good {
		t.Errorf("status %d, want good", resp.Status)
	}
	rc := resp.Certificate
	if rc == nil || !rc.Equal(signer.ResponderCertificate()) {
		t.Fatal("response does not carry the current responder certificate")
	}
	roots := x509.NewCertPool()
	roots.AddCert(c.Root())
	inter := x509.NewCertPool()
	inter.AddCert(c.Certificate())
	if _, err := rc.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}}); err != nil {
		t.Errorf("responder certificate does not chain for OCSPSigning: %v", err)
	}
	nocheck := false
	for _, e := range rc.Extensions {
		nocheck = nocheck || e.Id.Equal(asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 5})
	}
	if !nocheck {
		t.Error("responder certificate lacks id-pkix-ocsp-nocheck")
	}
	if got := rc.NotAfter.Sub(rc.NotBefore); got != ocsp.DefaultResponderValidity+5*time.Minute {
		t.Errorf("responder certificate lives %s, want 7 days and the 5-minute backdate", got)
	}
}
