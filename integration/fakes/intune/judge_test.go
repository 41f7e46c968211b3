package intune_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"net/url"
	"testing"
	"time"

	"github.com/smallstep/scep/x509util"

	"github.com/certgate/certgate/integration/fakes/intune"
	"github.com/certgate/certgate/integration/fakes/microsoft"
)

var (
	ekuClientAuth = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 2}
	ekuServerAuth = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 1}
)

type csrSpec struct {
	cn    string
	uris  []string
	ku    x509.KeyUsage
	ekus  []asn1.ObjectIdentifier
	curve elliptic.Curve
}

func buildCSR(t *testing.T, challenge string, s csrSpec) string {
	t.Helper()
	curve := s.curve
	if curve == nil {
		curve = elliptic.P256()
	}
	key, _ := ecdsa.GenerateKey(curve, rand.Reader)
	tmpl := &x509util.CertificateRequest{ChallengePassword: challenge}
	if s.cn != "" {
		tmpl.Subject = pkix.Name{CommonName: s.cn}
	}
	for _, u := range s.uris {
		p, _ := url.Parse(u)
		tmpl.URIs = append(tmpl.URIs, p)
	}
	if s.ku != 0 {
		// Bit i of the BIT STRING is KeyUsage 1<<i (RFC 5280 §4.2.1.3).
		b := make([]byte, 2)
		for i := 0; i < 9; i++ {
			if s.ku&(1<<i) != 0 {
				b[i/8] |= 0x80 >> (i % 8)
			}
		}
		v, _ := asn1.Marshal(asn1.BitString{Bytes: b, BitLength: 9})
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 15}, Value: v})
	}
	if s.ekus != nil {
		v, _ := asn1.Marshal(s.ekus)
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Value: v})
	}
	der, err := x509util.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}

// The fake's verdicts on CSRs against registered challenges.
func TestJudge(t *testing.T) {
	c := microsoft.New()
	defer c.Close()
	now := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	c.Intune.SetClock(func() time.Time { return now })
	full := intune.Challenge{
		Subject:  "CN=dev",
		URIs:     []string{"IntuneDeviceId://abc"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyAgreement,
		KeyBits:  256,
		EKUs:     []asn1.ObjectIdentifier{ekuClientAuth},
		NotAfter: now.Add(time.Minute),
	}
	c.Intune.AllowChallenge("full", full)
	c.Intune.AllowChallenge("forced", intune.Challenge{Code: "SomethingNew", Description: "d"})
	good := csrSpec{cn: "dev", uris: []string{"IntuneDeviceId://abc"},
		ku: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyAgreement, ekus: []asn1.ObjectIdentifier{ekuClientAuth}}
	mod := func(f func(*csrSpec)) csrSpec { s := good; f(&s); return s }
	tests := []struct {
		name, challenge string
		spec            csrSpec
		want            string
	}{
		{"ok/everything matches", "full", good, intune.CodeSuccess},
		{"fail/forced unknown code", "forced", good, "SomethingNew"},
		{"fail/no subject", "full", mod(func(s *csrSpec) { s.cn = "" }), intune.CodeSubjectNameMissing},
		{"fail/other subject", "full", mod(func(s *csrSpec) { s.cn = "x" }), intune.CodeSubjectNameMismatch},
		{"fail/no SAN", "full", mod(func(s *csrSpec) { s.uris = nil }), intune.CodeSubjectAltNameMissing},
		{"fail/other SAN", "full", mod(func(s *csrSpec) { s.uris = []string{"IntuneDeviceId://xyz"} }), intune.CodeSubjectAltNameMismatch},
		{"fail/key usage", "full", mod(func(s *csrSpec) { s.ku = x509.KeyUsageDigitalSignature }), intune.CodeKeyUsageMismatch},
		{"fail/key size", "full", mod(func(s *csrSpec) { s.curve = elliptic.P384() }), intune.CodeKeyLengthMismatch},
		{"fail/no EKU", "full", mod(func(s *csrSpec) { s.ekus = nil }), intune.CodeEnhancedKeyUsageMissing},
		{"fail/other EKU", "full", mod(func(s *csrSpec) { s.ekus = []asn1.ObjectIdentifier{ekuServerAuth} }), intune.CodeEnhancedKeyUsageMismatch},
		{"fail/no challenge", "", good, intune.CodeChallengePasswordMissing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"request":{"transactionId":"tx","certificateRequest":"` + buildCSR(t, tt.challenge, tt.spec) + `","callerInfo":"c"}}`
			status, m := call(t, c, intune.SCEPPath+"/ScepActions/validateRequest", body, nil)
			if status != 200 || m["code"] != tt.want {
				t.Errorf("status %d body %v, want code %s", status, m, tt.want)
			}
		})
	}
	// Undecodable CSRs.
	for name, csr := range map[string]string{"not base64": "%%%", "not DER": base64.StdEncoding.EncodeToString([]byte("junk"))} {
		body := `{"request":{"transactionId":"tx","certificateRequest":"` + csr + `","callerInfo":"c"}}`
		if _, m := call(t, c, intune.SCEPPath+"/ScepActions/validateRequest", body, nil); m["code"] != intune.CodeCertificateRequestDecodingFailed {
			t.Errorf("%s: code %v", name, m["code"])
		}
	}
	// Expiry follows the fake's clock.
	now = now.Add(time.Minute)
	body := `{"request":{"transactionId":"tx","certificateRequest":"` + buildCSR(t, "full", good) + `","callerInfo":"c"}}`
	if _, m := call(t, c, intune.SCEPPath+"/ScepActions/validateRequest", body, nil); m["code"] != intune.CodeChallengeExpired {
		t.Errorf("after expiry: code %v", m["code"])
	}
}
