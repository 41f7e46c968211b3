package ca

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"testing"
	"unicode/utf16"
)

// csrWithChallenge builds a CSR by hand whose challengePassword is encoded
// with the given ASN.1 tag (tag < 0: no attribute), as different clients do.
func csrWithChallenge(t *testing.T, tag int, content []byte) *x509.CertificateRequest {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	spki, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	subject, err := asn1.Marshal(pkix.Name{CommonName: "c"}.ToRDNSequence())
	if err != nil {
		t.Fatal(err)
	}
	var attrs []byte
	if tag >= 0 {
		val, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: tag, Bytes: content})
		set, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: val})
		oid, _ := asn1.Marshal(oidChallengePassword)
		attr, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: append(oid, set...)})
		attrs = attr
	}
	tbs, err := asn1.Marshal(struct {
		Version    int
		Subject    asn1.RawValue
		PublicKey  asn1.RawValue
		Attributes asn1.RawValue
	}{0, asn1.RawValue{FullBytes: subject}, asn1.RawValue{FullBytes: spki},
		asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: attrs}})
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256(tbs)
	sig, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	der, err := asn1.Marshal(struct {
		TBS       asn1.RawValue
		Algorithm pkix.AlgorithmIdentifier
		Signature asn1.BitString
	}{asn1.RawValue{FullBytes: tbs}, pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}},
		asn1.BitString{Bytes: sig, BitLength: len(sig) * 8}})
	if err != nil {
		t.Fatal(err)
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		t.Fatal(err)
	}
	if err := csr.CheckSignature(); err != nil {
		t.Fatal(err)
	}
	return csr
}

func TestChallengePassword(t *testing.T) {
	bmp := func(s string) []byte {
		var b []byte
		for _, u := range utf16.Encode([]rune(s)) {
			b = append(b, byte(u>>8), byte(u))
		}
		return b
	}
	tests := []struct {
		name    string
		tag     int
		content []byte
		want    string
		wantErr bool
	}{
		{name: "ok/printable", tag: asn1.TagPrintableString, content: []byte("abc123"), want: "abc123"},
		{name: "ok/printable with underscore (certmonger)", tag: asn1.TagPrintableString, content: []byte("cert_monger"), want: "cert_monger"},
		{name: "ok/utf8", tag: asn1.TagUTF8String, content: []byte("pässword"), want: "pässword"},
		{name: "ok/ia5", tag: asn1.TagIA5String, content: []byte("x@y"), want: "x@y"},
		{name: "ok/bmp", tag: asn1.TagBMPString, content: bmp("wïfi"), want: "wïfi"},
		{name: "ok/none", tag: -1, want: ""},
		{name: "fail/integer", tag: asn1.TagInteger, content: []byte{1}, wantErr: true},
		{name: "fail/odd bmp", tag: asn1.TagBMPString, content: []byte{0, 'a', 0}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ChallengePassword(csrWithChallenge(t, tc.tag, tc.content))
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("got %q, %v; want %q (error %v)", got, err, tc.want, tc.wantErr)
			}
		})
	}
}
