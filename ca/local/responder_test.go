package local

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/certgate/certgate/ca"
)

func TestIssueOCSPResponder(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	fixture := loadFixture(t, Options{})
	caNotAfter := fixture.Certificate().NotAfter
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name         string
		opts         Options
		key          crypto.Signer
		validity     time.Duration
		wantCN       string
		wantNotAfter time.Time
	}{
		{name: "ok/ecdsa 7 days", opts: Options{Name: "corp"}, key: ecKey, validity: 7 * 24 * time.Hour,
			wantCN: "corp OCSP Responder", wantNotAfter: now.Add(7 * 24 * time.Hour)},
		{name: "ok/rsa 1 hour", opts: Options{}, key: rsaKey, validity: time.Hour,
			wantCN: "certgate OCSP Responder", wantNotAfter: now.Add(time.Hour)},
		{name: "ok/long name shortened to 64 characters", opts: Options{Name: strings.Repeat("a", 64)}, key: ecKey, validity: time.Hour,
			wantCN: strings.Repeat("a", 49) + " OCSP Responder", wantNotAfter: now.Add(time.Hour)},
		{name: "ok/clamped to the CA's notAfter", opts: Options{Now: func() time.Time { return caNotAfter.Add(-time.Hour) }},
			key: ecKey, validity: 7 * 24 * time.Hour, wantCN: "certgate OCSP Responder", wantNotAfter: caNotAfter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.opts.Now == nil {
				tt.opts.Now = func() time.Time { return now }
			}
			c := loadFixture(t, tt.opts)
			cert, err := c.IssueOCSPResponder(tt.key, tt.validity)
			if err != nil {
				t.Fatalf("IssueOCSPResponder: %v", err)
			}
			if err := cert.CheckSignatureFrom(c.Certificate()); err != nil {
				t.Errorf("not signed by the issuing CA: %v", err)
			}
			spki, err := x509.MarshalPKIXPublicKey(tt.key.Public())
			if err != nil {
				t.Fatal(err)
			}
			ski, err := ca.SubjectKeyID(spki)
			if err != nil {
				t.Fatal(err)
			}
			var nocheck []byte
			nocheckCount := 0
			for _, e := range cert.Extensions {
				if e.Id.Equal(asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 5}) {
					nocheck, nocheckCount = e.Value, nocheckCount+1
					if e.Critical {
						t.Error("nocheck is critical")
					}
				}
			}
			checks := []struct {
				name      string
				got, want any
			}{
				{"CN", cert.Subject.CommonName, tt.wantCN},
				{"KeyUsage", cert.KeyUsage, x509.KeyUsageDigitalSignature},
				{"ExtKeyUsage", cert.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}},
				{"IsCA", cert.IsCA, false},
				{"nocheck count", nocheckCount, 1},
				{"nocheck value is NULL", nocheck, []byte{0x05, 0x00}},
				{"SKI", cert.SubjectKeyId, ski},
				{"AKI", cert.AuthorityKeyId, c.Certificate().SubjectKeyId},
				{"public key", bytes.Equal(cert.RawSubjectPublicKeyInfo, spki), true},
				{"serial >= 128 bits", cert.SerialNumber.BitLen() >= 128, true},
				{"NotBefore backdated 5 minutes", cert.NotBefore, c.now().Add(-5 * time.Minute).UTC().Truncate(time.Second)},
				{"NotAfter", cert.NotAfter, tt.wantNotAfter.UTC().Truncate(time.Second)},
				{"no revocation pointers", len(cert.OCSPServer) + len(cert.CRLDistributionPoints), 0},
			}
			for _, ch := range checks {
				if !reflect.DeepEqual(ch.got, ch.want) {
					t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
				}
			}
		})
	}
}

func TestIssueOCSPResponderErrors(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	fixture := loadFixture(t, Options{})
	expired := fixture.Certificate().NotAfter.Add(time.Second)
	tests := []struct {
		name     string
		now      func() time.Time
		key      crypto.Signer
		validity time.Duration
		err      string
	}{
		{name: "fail/nil key", key: nil, validity: time.Hour, err: "ca: local: ocsp responder: nil key"},
		{name: "fail/zero validity", key: key, validity: 0, err: "ca: local: ocsp responder: validity 0s is not positive"},
		{name: "fail/negative validity", key: key, validity: -time.Hour, err: "ca: local: ocsp responder: validity -1h0m0s is not positive"},
		{name: "fail/expired CA", now: func() time.Time { return expired }, key: key, validity: time.Hour,
			err: `ca: local: issuing CA "CN=certgate Issuing CA" expired on ` + fixture.Certificate().NotAfter.UTC().Format(time.RFC3339)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := loadFixture(t, Options{Now: tt.now})
			cert, err := c.IssueOCSPResponder(tt.key, tt.validity)
			if err == nil || err.Error() != tt.err {
				t.Fatalf("IssueOCSPResponder error = %v, want %q", err, tt.err)
			}
			if cert != nil {
				t.Error("a certificate came back with the error")
			}
		})
	}
}
