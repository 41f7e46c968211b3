package ca

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"reflect"
	"sync"
	"testing"
	"time"
)

// Test keys are generated once: RSA generation dominates the run time.
var (
	rsa1024Key = sync.OnceValue(func() crypto.Signer { return mustRSA(1024) })
	rsa2048Key = sync.OnceValue(func() crypto.Signer { return mustRSA(2048) })
	p256Key    = sync.OnceValue(func() crypto.Signer { return mustEC(elliptic.P256()) })
	p224Key    = sync.OnceValue(func() crypto.Signer { return mustEC(elliptic.P224()) })
	edKey      = sync.OnceValue(func() crypto.Signer {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	})
)

func mustRSA(bits int) crypto.Signer {
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		panic(err)
	}
	return k
}

func mustEC(c elliptic.Curve) crypto.Signer {
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

func csrDER(t *testing.T, key crypto.Signer, tpl *x509.CertificateRequest) []byte {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, tpl, key)
	if err != nil {
		t.Fatalf("CreateCertificateRequest: %v", err)
	}
	return der
}

func parseCSR(t *testing.T, der []byte) *x509.CertificateRequest {
	t.Helper()
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		t.Fatalf("ParseCertificateRequest: %v", err)
	}
	return csr
}

func newCSR(t *testing.T, key crypto.Signer, tpl *x509.CertificateRequest) *x509.CertificateRequest {
	t.Helper()
	return parseCSR(t, csrDER(t, key, tpl))
}

// issue signs tpl with a throwaway CA so tests see the DER x509 emits.
func issue(t *testing.T, tpl *x509.Certificate, pub crypto.PublicKey) *x509.Certificate {
	t.Helper()
	caKey := p256Key()
	caTpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: tpl.NotBefore, NotAfter: tpl.NotAfter,
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	tpl.SerialNumber = big.NewInt(2)
	der, err := x509.CreateCertificate(rand.Reader, tpl, caTpl, pub, caKey)
	if err != nil {
		t.Fatalf("CreateCertificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("ParseCertificate: %v", err)
	}
	return cert
}

func defaultProfile(t *testing.T, mod func(*ProfileConfig)) *Profile {
	t.Helper()
	cfg := ProfileConfig{Name: "test"}
	if mod != nil {
		mod(&cfg)
	}
	p, err := cfg.Build()
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return p
}

func wantPolicy(t *testing.T, err error, code PolicyCode, detail string) {
	t.Helper()
	var pe *PolicyError
	if !errors.As(err, &pe) {
		t.Fatalf("error = %v, want *PolicyError", err)
	}
	if pe.Code != code || pe.Detail != detail {
		t.Fatalf("PolicyError = {%s %q}, want {%s %q}", pe.Code, pe.Detail, code, detail)
	}
}

var cnOnly = &x509.CertificateRequest{Subject: pkix.Name{CommonName: "device-1"}}

func TestTemplateKeysAndSignature(t *testing.T) {
	tampered := csrDER(t, rsa2048Key(), cnOnly)
	// Change the CN inside the signed part: still parses, no longer verifies.
	i := bytes.Index(tampered, []byte("device-1"))
	tampered[i] = 'D'
	badSig := csrDER(t, p256Key(), cnOnly)
	badSig[len(badSig)-1] ^= 0x01

	md5 := newCSR(t, rsa2048Key(), cnOnly)
	md5.SignatureAlgorithm = x509.MD5WithRSA

	withEd := func(c *ProfileConfig) {
		c.KeyTypes = []KeyTypeConfig{{Type: "rsa"}, {Type: "ed25519"}}
	}
	tests := []struct {
		name   string
		csr    *x509.CertificateRequest
		mod    func(*ProfileConfig)
		code   PolicyCode
		detail string // "" means success
	}{
		{name: "ok/rsa 2048", csr: newCSR(t, rsa2048Key(), cnOnly)},
		{name: "ok/p-256", csr: newCSR(t, p256Key(), cnOnly)},
		{name: "ok/ed25519 when allowed", csr: newCSR(t, edKey(), cnOnly), mod: withEd},
		{name: "fail/rsa 1024", csr: newCSR(t, rsa1024Key(), cnOnly),
			code: PolicyBadAlg, detail: "RSA 1024-bit key below the profile minimum 2048"},
		{name: "fail/rsa 2048 under a 3072 minimum", csr: newCSR(t, rsa2048Key(), cnOnly),
			mod:  func(c *ProfileConfig) { c.KeyTypes = []KeyTypeConfig{{Type: "rsa", MinBits: 3072}} },
			code: PolicyBadAlg, detail: "RSA 2048-bit key below the profile minimum 3072"},
		{name: "fail/p-224", csr: newCSR(t, p224Key(), cnOnly),
			code: PolicyBadAlg, detail: "ECDSA curve P-224 not accepted (profile allows P-256, P-384)"},
		{name: "fail/ed25519 by default", csr: newCSR(t, edKey(), cnOnly),
			code: PolicyBadAlg, detail: "Ed25519 keys not accepted (profile accepts RSA >= 2048 bits, ECDSA P-256/P-384)"},
		{name: "fail/ecdsa not allowed", csr: newCSR(t, p256Key(), cnOnly), mod: withEd,
			code: PolicyBadAlg, detail: "ECDSA keys not accepted (profile accepts RSA >= 2048 bits, Ed25519)"},
		{name: "fail/tampered subject", csr: parseCSR(t, tampered),
			code: PolicyBadMessageCheck, detail: "CSR signature does not verify"},
		{name: "fail/tampered signature", csr: parseCSR(t, badSig),
			code: PolicyBadMessageCheck, detail: "CSR signature does not verify"},
		{name: "ok/sha-1 signature", csr: newCSR(t, p256Key(), &x509.CertificateRequest{
			Subject: cnOnly.Subject, SignatureAlgorithm: x509.ECDSAWithSHA1})},
		{name: "fail/md5 signature", csr: md5,
			code: PolicyBadAlg, detail: "CSR signature algorithm MD5-RSA not accepted"},
		{name: "fail/nil csr", csr: nil, code: PolicyBadRequest, detail: "no CSR"},
		{name: "fail/unparsed key", csr: &x509.CertificateRequest{},
			code: PolicyBadAlg, detail: "unsupported key type <nil> (profile accepts RSA >= 2048 bits, ECDSA P-256/P-384)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tpl, err := defaultProfile(t, tt.mod).Template(tt.csr, time.Now())
			if tt.detail == "" {
				if err != nil {
					t.Fatalf("Template: %v", err)
				}
				if tpl == nil {
					t.Fatal("Template returned nil")
				}
				return
			}
			if tpl != nil {
				t.Error("Template returned a template with an error")
			}
			wantPolicy(t, err, tt.code, tt.detail)
		})
	}
}

func TestTemplateFields(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 500, time.FixedZone("CET", 3600))
	key := p256Key().(*ecdsa.PrivateKey)
	bc, err := asn1.Marshal(struct{ IsCA bool }{true})
	if err != nil {
		t.Fatal(err)
	}
	csr := newCSR(t, key, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: "device-1"},
		// Requested extensions other than SAN are ignored.
		ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 19}, Critical: true, Value: bc}},
	})
	p := defaultProfile(t, func(c *ProfileConfig) { c.ExtKeyUsage = []string{"clientAuth", "serverAuth"} })
	tpl, err := p.Template(csr, now)
	if err != nil {
		t.Fatal(err)
	}
	ecdhKey, err := key.PublicKey.ECDH()
	if err != nil {
		t.Fatal(err)
	}
	ski := sha1.Sum(ecdhKey.Bytes()) // the uncompressed point is the BIT STRING's content
	wantNow := time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC)
	checks := []struct {
		name      string
		got, want any
	}{
		{"NotBefore", tpl.NotBefore, wantNow.Add(-5 * time.Minute)},
		{"NotAfter", tpl.NotAfter, wantNow.Add(8760 * time.Hour)},
		// keyEncipherment is dropped for an EC key (RFC 5480 §3).
		{"KeyUsage", tpl.KeyUsage, x509.KeyUsageDigitalSignature},
		{"ExtKeyUsage", tpl.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth}},
		{"BasicConstraintsValid", tpl.BasicConstraintsValid, true},
		{"IsCA", tpl.IsCA, false},
		{"SubjectKeyId", tpl.SubjectKeyId, ski[:]},
		{"ExtraExtensions", len(tpl.ExtraExtensions), 0},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	cert := issue(t, tpl, csr.PublicKey)
	if cert.IsCA || cert.MaxPathLen != -1 {
		t.Errorf("issued IsCA=%v MaxPathLen=%d, want a non-CA", cert.IsCA, cert.MaxPathLen)
	}

	// The profile's slice must not be shared with the template.
	tpl.ExtKeyUsage[0] = x509.ExtKeyUsageAny
	if p.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth {
		t.Error("Template shares ExtKeyUsage with the profile")
	}

	rsaTpl, err := p.Template(newCSR(t, rsa2048Key(), cnOnly), now)
	if err != nil {
		t.Fatal(err)
	}
	if want := x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment; rsaTpl.KeyUsage != want {
		t.Errorf("RSA KeyUsage = %v, want %v", rsaTpl.KeyUsage, want)
	}
}

var (
	oidCN     = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidO      = asn1.ObjectIdentifier{2, 5, 4, 10}
	oidOU     = asn1.ObjectIdentifier{2, 5, 4, 11}
	oidC      = asn1.ObjectIdentifier{2, 5, 4, 6}
	oidSerial = asn1.ObjectIdentifier{2, 5, 4, 5}
	oidEmail  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}
)

func rawSubject(t *testing.T, atvs ...pkix.AttributeTypeAndValue) []byte {
	t.Helper()
	var seq pkix.RDNSequence
	for _, a := range atvs {
		seq = append(seq, pkix.RelativeDistinguishedNameSET{a})
	}
	der, err := asn1.Marshal(seq)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestTemplateSubject(t *testing.T) {
	atv := func(oid asn1.ObjectIdentifier, v string) pkix.AttributeTypeAndValue {
		return pkix.AttributeTypeAndValue{Type: oid, Value: v}
	}
	// Deliberately not Go's marshalling order (C, O, OU, CN).
	full := rawSubject(t,
		atv(oidCN, "device-1"), atv(oidEmail, "a@example.com"), atv(oidOU, "b"),
		atv(oidO, "Example"), atv(oidOU, "a"), atv(oidC, "DE"), atv(oidSerial, "42"))
	tests := []struct {
		name   string
		raw    []byte
		mod    func(*ProfileConfig)
		want   []pkix.AttributeTypeAndValue
		detail string
	}{
		{name: "ok/default fields keep CSR order", raw: full,
			want: []pkix.AttributeTypeAndValue{atv(oidCN, "device-1"), atv(oidOU, "b"), atv(oidO, "Example"), atv(oidOU, "a"), atv(oidC, "DE")}},
		{name: "ok/serial number allowed", raw: full,
			mod:  func(c *ProfileConfig) { c.SubjectFields = []string{"SERIALNUMBER", "CN"} },
			want: []pkix.AttributeTypeAndValue{atv(oidCN, "device-1"), atv(oidSerial, "42")}},
		{name: "fail/cn required but missing", raw: rawSubject(t, atv(oidO, "Example")),
			detail: `CSR has no common name (CN) and profile "test" requires one`},
		{name: "fail/cn required but blank", raw: rawSubject(t, atv(oidCN, " ")),
			detail: `CSR has no common name (CN) and profile "test" requires one`},
		{name: "ok/cn dropped by subject_fields", raw: full,
			mod: func(c *ProfileConfig) {
				c.SubjectFields = []string{"O"}
				c.RequireCN = boolPtr(false)
			},
			want: []pkix.AttributeTypeAndValue{atv(oidO, "Example")}},
		{name: "fail/nothing names the subject", raw: rawSubject(t, atv(oidEmail, "a@example.com")),
			mod:    func(c *ProfileConfig) { c.RequireCN = boolPtr(false) },
			detail: "CSR names no subject and no subjectAltName the profile allows"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			csr := newCSR(t, p256Key(), &x509.CertificateRequest{RawSubject: tt.raw})
			tpl, err := defaultProfile(t, tt.mod).Template(csr, time.Now())
			if tt.detail != "" {
				wantPolicy(t, err, PolicyBadRequest, tt.detail)
				return
			}
			if err != nil {
				t.Fatalf("Template: %v", err)
			}
			cert := issue(t, tpl, csr.PublicKey)
			if !reflect.DeepEqual(cert.Subject.Names, tt.want) {
				t.Errorf("issued subject = %v, want %v", cert.Subject.Names, tt.want)
			}
			// The store records the template's subject before signing; it
			// must read the same as the issued DN.
			var issued pkix.RDNSequence
			if _, err := asn1.Unmarshal(cert.RawSubject, &issued); err != nil {
				t.Fatal(err)
			}
			if tpl.Subject.String() != issued.String() {
				t.Errorf("template subject %q, issued %q", tpl.Subject, issued)
			}
		})
	}
}
