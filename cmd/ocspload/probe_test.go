package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net/url"
	"strings"
	"testing"
	"time"

	xocsp "golang.org/x/crypto/ocsp"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// testCert signs a certificate for key by parent (self-signed when parent
// is nil).
func testCert(t *testing.T, cn string, key *ecdsa.PrivateKey, parent *x509.Certificate, parentKey crypto.Signer, isCA bool, eku []x509.ExtKeyUsage) *x509.Certificate {
	t.Helper()
	tpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: t0.Add(-time.Hour), NotAfter: t0.Add(24 * time.Hour),
		BasicConstraintsValid: true, IsCA: isCA, ExtKeyUsage: eku,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
	}
	if parent == nil {
		parent, parentKey = tpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, parent, key.Public(), parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func testKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestCheckResponse(t *testing.T) {
	caKey, otherKey, respKey := testKey(t), testKey(t), testKey(t)
	caCert := testCert(t, "Test CA", caKey, nil, nil, true, nil)
	other := testCert(t, "Other CA", otherKey, nil, nil, true, nil)
	delegated := testCert(t, "Test OCSP", respKey, caCert, caKey, false, []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning})
	noEKU := testCert(t, "Test not OCSP", respKey, caCert, caKey, false, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth})
	serial := big.NewInt(0x1234)
	tpl := func(status int, s *big.Int, next time.Time) xocsp.Response {
		r := xocsp.Response{Status: status, SerialNumber: s, ThisUpdate: t0, NextUpdate: next}
		if status == xocsp.Revoked {
			r.RevokedAt = t0.Add(-time.Minute)
		}
		return r
	}
	sign := func(r xocsp.Response, responder *x509.Certificate, key crypto.Signer) []byte {
		t.Helper()
		r.Certificate = responder
		der, err := xocsp.CreateResponse(caCert, responder, r, key)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	good := tpl(xocsp.Good, serial, t0.Add(24*time.Hour))
	tests := []struct {
		name    string
		der     []byte
		wantErr string
		want    int // the certStatus asked for; zero is good
	}{
		{"ok/signed by the CA", sign(good, caCert, caKey), "", xocsp.Good},
		{"ok/signed by a delegated responder", sign(good, delegated, respKey), "", xocsp.Good},
		{"fail/revoked", sign(tpl(xocsp.Revoked, serial, t0.Add(time.Hour)), delegated, respKey), "certStatus revoked", xocsp.Good},
		{"fail/unknown", sign(tpl(xocsp.Unknown, serial, t0.Add(time.Hour)), delegated, respKey), "certStatus unknown", xocsp.Good},
		{"fail/another serial", sign(tpl(xocsp.Good, big.NewInt(99), t0.Add(time.Hour)), delegated, respKey), "no response matching", xocsp.Good},
		{"fail/no nextUpdate", sign(tpl(xocsp.Good, serial, time.Time{}), delegated, respKey), "nextUpdate", xocsp.Good},
		{"fail/nextUpdate passed", sign(tpl(xocsp.Good, serial, t0.Add(-time.Second)), delegated, respKey), "nextUpdate", xocsp.Good},
		{"fail/signed by another CA", sign(good, other, otherKey), "signature", xocsp.Good},
		{"fail/responder without OCSPSigning", sign(good, noEKU, respKey), "lacks extKeyUsage OCSPSigning", xocsp.Good},
		{"fail/unauthorized status", xocsp.UnauthorizedErrorResponse, "unauthorized", xocsp.Good},
		{"fail/not DER", []byte("<html>busy</html>"), "response for 1234", xocsp.Good},
		{"ok/unknown when unknown is wanted", sign(tpl(xocsp.Unknown, serial, t0.Add(time.Hour)), delegated, respKey), "", xocsp.Unknown},
		{"fail/good when unknown is wanted", sign(good, delegated, respKey), "certStatus good, want unknown", xocsp.Unknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkResponse(tt.der, serial, caCert, t0, tt.want)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestBuildProbes(t *testing.T) {
	caKey := testKey(t)
	caCert := testCert(t, "Test CA", caKey, nil, nil, true, nil)
	base, _ := url.Parse("http://127.0.0.1:8080/ocsp/")
	serials := []*big.Int{big.NewInt(1), new(big.Int).Lsh(big.NewInt(1), 159)}
	probes, err := buildProbes(base, caCert, serials)
	if err != nil {
		t.Fatal(err)
	}
	nameHash := sha1.Sum(caCert.RawSubject)
	for i, p := range probes {
		req, err := xocsp.ParseRequest(p.der)
		if err != nil {
			t.Fatalf("probe %d: %v", i, err)
		}
		if req.SerialNumber.Cmp(serials[i]) != 0 || req.HashAlgorithm != crypto.SHA1 || string(req.IssuerNameHash) != string(nameHash[:]) {
			t.Errorf("probe %d asks for %x with %v, want %x with SHA-1 and the CA's name hash", i, req.SerialNumber, req.HashAlgorithm, serials[i])
		}
		enc, ok := strings.CutPrefix(p.getURL, "http://127.0.0.1:8080/ocsp/")
		if !ok || strings.ContainsAny(enc, "/+=") {
			t.Fatalf("probe %d GET URL %q: want the base, one slash, and url-encoded base64", i, p.getURL)
		}
		raw, _ := url.QueryUnescape(enc)
		if der, err := base64.StdEncoding.DecodeString(raw); err != nil || string(der) != string(p.der) {
			t.Errorf("probe %d GET URL does not carry the POST body (%v)", i, err)
		}
	}
}
