package ca

import (
	"crypto/x509"
	"testing"
	"time"
)

func TestPolicyCodeString(t *testing.T) {
	for code, want := range map[PolicyCode]string{
		PolicyBadRequest:      "badRequest",
		PolicyBadAlg:          "badAlg",
		PolicyBadMessageCheck: "badMessageCheck",
		PolicyCode(9):         "PolicyCode(9)",
	} {
		if got := code.String(); got != want {
			t.Errorf("PolicyCode(%d).String() = %q, want %q", int(code), got, want)
		}
	}
}

func TestSubjectKeyIDErrors(t *testing.T) {
	tests := []struct {
		name string
		der  []byte
		err  string
	}{
		{name: "fail/empty", der: nil, err: "ca: subjectPublicKeyInfo: asn1: syntax error: sequence truncated"},
		{name: "fail/trailing data", der: append(newCSR(t, p256Key(), cnOnly).RawSubjectPublicKeyInfo, 0),
			err: "ca: subjectPublicKeyInfo: trailing data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := SubjectKeyID(tt.der); err == nil || err.Error() != tt.err {
				t.Fatalf("error = %v, want %q", err, tt.err)
			}
		})
	}
}

// TestTemplateHandBuiltProfile covers profiles that skipped Build: the
// floors still hold and an unusable profile is an error, not a policy
// verdict on the CSR.
func TestTemplateHandBuiltProfile(t *testing.T) {
	csr1024 := newCSR(t, rsa1024Key(), cnOnly)
	tests := []struct {
		name string
		p    *Profile
		csr  *x509.CertificateRequest
		err  string
	}{
		{name: "fail/nil profile", p: nil, csr: csr1024, err: "ca: nil profile"},
		{name: "fail/zero validity", p: &Profile{Name: "x"}, csr: csr1024, err: `ca: profile "x": validity must be positive`},
		{name: "fail/rsa floor without MinBits", csr: csr1024,
			p:   &Profile{Name: "x", Validity: time.Hour, KeyRules: []KeyRule{{Algorithm: "RSA"}}},
			err: "ca: policy: RSA 1024-bit key below the profile minimum 2048"},
		{name: "fail/no key rules", csr: csr1024, p: &Profile{Name: "x", Validity: time.Hour},
			err: "ca: policy: RSA keys not accepted (profile accepts no key type)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.p.Template(tt.csr, time.Now()); err == nil || err.Error() != tt.err {
				t.Fatalf("error = %v, want %q", err, tt.err)
			}
		})
	}
}

func TestKeyUsageFor(t *testing.T) {
	all := x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment | x509.KeyUsageKeyEncipherment |
		x509.KeyUsageDataEncipherment | x509.KeyUsageKeyAgreement
	tests := []struct {
		name string
		pub  any
		want x509.KeyUsage
	}{
		{"ok/rsa keeps all", rsa2048Key().Public(), all},
		{"ok/ecdsa drops encipherment", p256Key().Public(),
			x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment | x509.KeyUsageKeyAgreement},
		{"ok/ed25519 signs only", edKey().Public(), x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := keyUsageFor(all, tt.pub); got != tt.want {
				t.Errorf("keyUsageFor = %b, want %b", got, tt.want)
			}
		})
	}
}
