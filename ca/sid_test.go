package ca

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"net/url"
	"testing"
	"time"
)

func TestSIDExtension(t *testing.T) {
	// A 45-character SID gives the bytes seen in an AD CS certificate.
	sid := "S-1-5-21-1004336348-1177238915-682003330-1001"
	ext, err := SIDExtension(sid)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := hex.DecodeString("303fa03d060a2b060104018237190201a02f042d")
	if !bytes.HasPrefix(ext.Value, want) || !bytes.HasSuffix(ext.Value, []byte(sid)) || ext.Critical || !ext.Id.Equal(OIDSIDExtension) {
		t.Fatalf("extension %x critical %v, want prefix %x and the SID text", ext.Value, ext.Critical, want)
	}

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	requested, _ := SIDExtension("S-1-5-21-1-2-3-500") // an attacker's claim: Administrator
	csrWith := func(uri string, exts ...pkix.Extension) *x509.CertificateRequest {
		tpl := &x509.CertificateRequest{Subject: pkix.Name{CommonName: "user"}, ExtraExtensions: exts}
		if uri != "" {
			u, _ := url.Parse(uri)
			tpl.URIs = []*url.URL{u}
		}
		der, err := x509.CreateCertificateRequest(rand.Reader, tpl, key)
		if err != nil {
			t.Fatal(err)
		}
		csr, _ := x509.ParseCertificateRequest(der)
		return csr
	}
	tests := []struct {
		name          string
		add, allow    bool
		csr           *x509.CertificateRequest
		wantSID       string
		wantPolicyErr bool
	}{
		{name: "ok/from the SID URI SAN", add: true, csr: csrWith(SIDURIPrefix + sid), wantSID: sid},
		{name: "ok/requested extension dropped by default", csr: csrWith("", requested)},
		{name: "ok/requested extension ignored when adding from the URI", add: true, csr: csrWith(SIDURIPrefix+sid, requested), wantSID: sid},
		{name: "ok/requested extension copied when allowed", allow: true, csr: csrWith("", requested), wantSID: "S-1-5-21-1-2-3-500"},
		{name: "ok/no SID URI, nothing added", add: true, csr: csrWith("")},
		{name: "fail/SID URI without a SID", add: true, csr: csrWith(SIDURIPrefix + "administrator"), wantPolicyErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ProfileConfig{Name: "p", AddSIDExtension: tc.add, AllowRequestedSID: tc.allow}.Build()
			if err != nil {
				t.Fatal(err)
			}
			tpl, err := p.Template(tc.csr, time.Now())
			if tc.wantPolicyErr {
				if _, ok := err.(*PolicyError); !ok {
					t.Fatalf("err = %v, want a PolicyError", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []byte
			for _, e := range tpl.ExtraExtensions {
				if e.Id.Equal(OIDSIDExtension) {
					got = e.Value
				}
			}
			if tc.wantSID == "" {
				if got != nil {
					t.Fatalf("SID extension %x present, want none", got)
				}
				return
			}
			if !bytes.HasSuffix(got, []byte(tc.wantSID)) {
				t.Fatalf("SID extension %x, want SID %s", got, tc.wantSID)
			}
		})
	}
}
