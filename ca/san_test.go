package ca

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// opensslSAN is the SAN extension value `openssl req -addext
// "subjectAltName=DNS:a.example,otherName:1.3.6.1.4.1.311.20.2.3;UTF8:user@example.com"`
// wrote: an encoding certgate did not produce, to check ours against.
const opensslSAN = "302d8209612e6578616d706c65a020060a2b060104018237140203a0120c1075736572406578616d706c652e636f6d"

func TestMarshalGeneralNamesMatchesOpenSSL(t *testing.T) {
	want, err := hex.DecodeString(opensslSAN)
	if err != nil {
		t.Fatal(err)
	}
	got, err := marshalGeneralNames(sanEntries{DNS: []string{"a.example"}, UPN: []string{"user@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("marshalGeneralNames = %x, want %x", got, want)
	}
	parsed, err := parseGeneralNames(want)
	if err != nil {
		t.Fatal(err)
	}
	if w := (sanEntries{DNS: []string{"a.example"}, UPN: []string{"user@example.com"}}); !reflect.DeepEqual(parsed, w) {
		t.Errorf("parseGeneralNames = %+v, want %+v", parsed, w)
	}
}

// Hand-built GeneralName pieces.
func gn(tag int, compound bool, body []byte) asn1.RawValue {
	return asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: tag, IsCompound: compound, Bytes: body}
}

func mustDER(t *testing.T, v any) []byte {
	t.Helper()
	der, err := asn1.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// otherName builds an otherName with type-id oid around the given value.
func otherName(t *testing.T, oid asn1.ObjectIdentifier, value asn1.RawValue) asn1.RawValue {
	t.Helper()
	body := append(mustDER(t, oid), mustDER(t, gn(0, true, mustDER(t, value)))...)
	return gn(tagOtherName, true, body)
}

func utf8Value(s string) asn1.RawValue {
	return asn1.RawValue{Tag: asn1.TagUTF8String, Bytes: []byte(s)}
}

func sanExt(t *testing.T, names ...asn1.RawValue) pkix.Extension {
	t.Helper()
	return pkix.Extension{Id: oidExtSubjectAltName, Value: mustDER(t, names)}
}

func TestUPNsFromExtensions(t *testing.T) {
	otherOID := asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 25, 1} // Microsoft GUID
	tests := []struct {
		name string
		exts []pkix.Extension
		want []string
		err  string
	}{
		{name: "ok/no extensions"},
		{name: "ok/no SAN", exts: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 19}, Value: []byte{0x30, 0}}}},
		{name: "ok/two UPNs among others", exts: []pkix.Extension{sanExt(t,
			gn(tagDNS, false, []byte("a.example")),
			otherName(t, oidUPN, utf8Value("first@example.com")),
			gn(7, false, []byte{192, 0, 2, 1}),
			otherName(t, otherOID, asn1.RawValue{Tag: asn1.TagOctetString, Bytes: []byte{1, 2}}),
			otherName(t, oidUPN, utf8Value("zweiter@bücher.example")),
		)}, want: []string{"first@example.com", "zweiter@bücher.example"}},
		{name: "fail/two SAN extensions", exts: []pkix.Extension{sanExt(t), sanExt(t)},
			err: "ca: more than one subjectAltName extension"},
		{name: "fail/not DER", exts: []pkix.Extension{{Id: oidExtSubjectAltName, Value: []byte{0x30, 0x05, 0x82}}},
			err: "ca: subjectAltName: asn1: syntax error: data truncated"},
		{name: "fail/trailing data", exts: []pkix.Extension{{Id: oidExtSubjectAltName, Value: []byte{0x30, 0x00, 0x00}}},
			err: "ca: subjectAltName: not a GeneralNames SEQUENCE"},
		{name: "fail/not a sequence", exts: []pkix.Extension{{Id: oidExtSubjectAltName, Value: []byte{0x04, 0x00}}},
			err: "ca: subjectAltName: not a GeneralNames SEQUENCE"},
		{name: "fail/universal entry", exts: []pkix.Extension{sanExt(t, asn1.RawValue{Tag: asn1.TagUTF8String, Bytes: []byte("x")})},
			err: "ca: subjectAltName entry is not a GeneralName"},
		{name: "fail/primitive otherName", exts: []pkix.Extension{sanExt(t, gn(tagOtherName, false, []byte{1}))},
			err: "ca: subjectAltName: malformed otherName"},
		{name: "fail/otherName without OID", exts: []pkix.Extension{sanExt(t, gn(tagOtherName, true, []byte{0x05, 0x00}))},
			err: "ca: subjectAltName: malformed otherName"},
		{name: "fail/UPN without explicit tag", exts: []pkix.Extension{sanExt(t,
			gn(tagOtherName, true, append(mustDER(t, oidUPN), mustDER(t, utf8Value("u@x"))...)))},
			err: "ca: subjectAltName: malformed otherName"},
		{name: "fail/UPN as IA5String", exts: []pkix.Extension{sanExt(t,
			otherName(t, oidUPN, asn1.RawValue{Tag: asn1.TagIA5String, Bytes: []byte("u@x")}))},
			err: "ca: subjectAltName: UPN is not a UTF8String"},
		{name: "fail/UPN not UTF-8", exts: []pkix.Extension{sanExt(t, otherName(t, oidUPN, utf8Value("u\xff@x")))},
			err: "ca: subjectAltName: UPN is not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := UPNsFromExtensions(tt.exts)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("error = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("UPNs = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMarshalGeneralNamesRefusesNonASCII(t *testing.T) {
	_, err := marshalGeneralNames(sanEntries{DNS: []string{"bücher.example"}, UPN: []string{"u@x"}})
	if err == nil || err.Error() != `ca: subjectAltName "bücher.example" is not ASCII (IA5String)` {
		t.Fatalf("error = %v", err)
	}
}

// sanCSR is a CSR carrying every SAN type, plus an IP address that no
// profile lets through.
func sanCSR(t *testing.T, subject pkix.Name, upnValue asn1.RawValue) *x509.CertificateRequest {
	t.Helper()
	ext := sanExt(t,
		gn(tagDNS, false, []byte("a.example")),
		gn(tagRFC822, false, []byte("user@example.com")),
		gn(tagURI, false, []byte("urn:uuid:7e8a8b5c-1b5e-4e0c-9a52-1c1f1f1f1f1f")),
		gn(7, false, []byte{192, 0, 2, 1}),
		otherName(t, oidUPN, upnValue),
	)
	return newCSR(t, p256Key(), &x509.CertificateRequest{Subject: subject, ExtraExtensions: []pkix.Extension{ext}})
}

func TestTemplateSANs(t *testing.T) {
	withCN := pkix.Name{CommonName: "device-1"}
	noCN := func(c *ProfileConfig) { c.RequireCN = boolPtr(false) }
	tests := []struct {
		name     string
		subject  pkix.Name
		upn      asn1.RawValue
		mod      func(*ProfileConfig)
		dns      []string
		email    []string
		uris     []string
		upns     []string
		critical bool
		err      string
	}{
		{name: "ok/all four types, IP dropped", subject: withCN, upn: utf8Value("user@corp.example"),
			dns: []string{"a.example"}, email: []string{"user@example.com"},
			uris: []string{"urn:uuid:7e8a8b5c-1b5e-4e0c-9a52-1c1f1f1f1f1f"}, upns: []string{"user@corp.example"}},
		{name: "ok/dns only", subject: withCN, upn: utf8Value("user@corp.example"),
			mod: func(c *ProfileConfig) { c.SANTypes = []string{"dns"} }, dns: []string{"a.example"}},
		{name: "ok/upn only", subject: withCN, upn: utf8Value("user@corp.example"),
			mod: func(c *ProfileConfig) { c.SANTypes = []string{"upn"} }, upns: []string{"user@corp.example"}},
		{name: "ok/no SAN types", subject: withCN, upn: utf8Value("user@corp.example"),
			mod: func(c *ProfileConfig) { c.SANTypes = []string{} }},
		{name: "ok/empty subject makes UPN SAN critical", upn: utf8Value("user@corp.example"), mod: noCN,
			dns: []string{"a.example"}, email: []string{"user@example.com"},
			uris: []string{"urn:uuid:7e8a8b5c-1b5e-4e0c-9a52-1c1f1f1f1f1f"}, upns: []string{"user@corp.example"}, critical: true},
		{name: "ok/empty subject makes x509 SAN critical", upn: utf8Value("user@corp.example"),
			mod:      func(c *ProfileConfig) { noCN(c); c.SANTypes = []string{"email"} },
			email:    []string{"user@example.com"},
			critical: true},
		{name: "ok/malformed UPN ignored when UPN not allowed", subject: withCN, upn: asn1.RawValue{Tag: asn1.TagBMPString, Bytes: []byte{0, 'u'}},
			mod: func(c *ProfileConfig) { c.SANTypes = []string{"dns"} }, dns: []string{"a.example"}},
		{name: "fail/malformed UPN", subject: withCN, upn: asn1.RawValue{Tag: asn1.TagBMPString, Bytes: []byte{0, 'u'}},
			err: "CSR subjectAltName: UPN is not a UTF8String"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			csr := sanCSR(t, tt.subject, tt.upn)
			tpl, err := defaultProfile(t, tt.mod).Template(csr, time.Now())
			if tt.err != "" {
				wantPolicy(t, err, PolicyBadRequest, tt.err)
				return
			}
			if err != nil {
				t.Fatalf("Template: %v", err)
			}
			cert := issue(t, tpl, csr.PublicKey)
			var uris []string
			for _, u := range cert.URIs {
				uris = append(uris, u.String())
			}
			upns, err := UPNsFromExtensions(cert.Extensions)
			if err != nil {
				t.Fatalf("UPNsFromExtensions(issued): %v", err)
			}
			got := [][]string{cert.DNSNames, cert.EmailAddresses, uris, upns}
			want := [][]string{tt.dns, tt.email, tt.uris, tt.upns}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("issued SANs (dns, email, uri, upn) = %q, want %q", got, want)
			}
			if len(cert.IPAddresses) > 0 {
				t.Errorf("IP SAN passed through: %v", cert.IPAddresses)
			}
			var sans []pkix.Extension
			for _, e := range cert.Extensions {
				if e.Id.Equal(oidExtSubjectAltName) {
					sans = append(sans, e)
				}
			}
			switch {
			case len(want[0])+len(want[1])+len(want[2])+len(want[3]) == 0:
				if len(sans) != 0 {
					t.Errorf("issued %d SAN extensions, want none", len(sans))
				}
			case len(sans) != 1:
				t.Errorf("issued %d SAN extensions, want 1", len(sans))
			case sans[0].Critical != tt.critical:
				t.Errorf("SAN critical = %v, want %v", sans[0].Critical, tt.critical)
			}
		})
	}
}

// TestUPNRoundTripOpenSSL has openssl write the CSR and read the
// certificate, so the UPN encoding is checked by a second implementation.
func TestUPNRoundTripOpenSSL(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not on PATH")
	}
	dir := t.TempDir()
	csrPath, certPath := filepath.Join(dir, "req.pem"), filepath.Join(dir, "cert.pem")
	out, err := exec.Command(openssl, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
		"-subj", "/CN=device-1", "-keyout", filepath.Join(dir, "key.pem"), "-out", csrPath,
		"-addext", "subjectAltName=DNS:a.example,IP:192.0.2.1,otherName:1.3.6.1.4.1.311.20.2.3;UTF8:user@corp.example").CombinedOutput()
	if err != nil {
		t.Fatalf("openssl req: %v\n%s", err, out)
	}
	pemBytes, err := os.ReadFile(csrPath)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		t.Fatal("no PEM in openssl output")
	}
	csr := parseCSR(t, block.Bytes)
	tpl, err := defaultProfile(t, nil).Template(csr, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cert := issue(t, tpl, csr.PublicKey)
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = exec.Command(openssl, "x509", "-in", certPath, "-noout", "-ext", "subjectAltName").CombinedOutput()
	if err != nil {
		t.Fatalf("openssl x509: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); !strings.HasSuffix(got, "DNS:a.example, othername: UPN::user@corp.example") {
		t.Errorf("openssl reads the SAN as %q", got)
	}
	if len(cert.IPAddresses) != 0 {
		t.Errorf("IP passed through: %v", cert.IPAddresses)
	}
}
