package ca

import (
	"crypto/x509"
	"reflect"
	"testing"
	"time"
)

func boolPtr(b bool) *bool { return &b }

func TestProfileConfigBuildDefaults(t *testing.T) {
	p, err := ProfileConfig{Name: "default"}.Build()
	if err != nil {
		t.Fatal(err)
	}
	want := &Profile{
		Name:        "default",
		Validity:    8760 * time.Hour,
		Backdate:    5 * time.Minute,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		KeyRules: []KeyRule{
			{Algorithm: "rsa", MinBits: 2048},
			{Algorithm: "ecdsa", Curves: []string{"P-256", "P-384"}},
		},
		SubjectFields: []string{"CN", "O", "OU", "C", "ST", "L"},
		SANs:          SANRules{DNS: true, Email: true, URI: true, UPN: true},
		RequireCN:     true,
	}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("Build() =\n%+v\nwant\n%+v", p, want)
	}
}

func TestProfileConfigBuild(t *testing.T) {
	tests := []struct {
		name string
		cfg  ProfileConfig
		want func(*Profile) bool // checked only when err is ""
		err  string
	}{
		{name: "ok/explicit values", cfg: ProfileConfig{
			Name: "wifi_eap-tls", Validity: "720h", Backdate: "0s",
			KeyUsage:      []string{"digitalSignature", "nonRepudiation", "keyAgreement", "dataEncipherment"},
			ExtKeyUsage:   []string{"serverAuth", "clientAuth", "emailProtection", "codeSigning", "timeStamping", "ocspSigning", "any"},
			KeyTypes:      []KeyTypeConfig{{Type: "RSA", MinBits: 3072}, {Type: "ecdsa", Curves: []string{"p-521"}}, {Type: "ed25519"}},
			SubjectFields: []string{"cn", "SERIALNUMBER", "STREET", "POSTALCODE"},
			SANTypes:      []string{"UPN"},
			RequireCN:     boolPtr(false),
		}, want: func(p *Profile) bool {
			return p.Validity == 720*time.Hour && p.Backdate == 0 &&
				p.KeyUsage == x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment|x509.KeyUsageKeyAgreement|x509.KeyUsageDataEncipherment &&
				len(p.ExtKeyUsage) == 7 && p.ExtKeyUsage[6] == x509.ExtKeyUsageAny &&
				reflect.DeepEqual(p.KeyRules, []KeyRule{{Algorithm: "rsa", MinBits: 3072}, {Algorithm: "ecdsa", Curves: []string{"P-521"}}, {Algorithm: "ed25519"}}) &&
				reflect.DeepEqual(p.SubjectFields, []string{"CN", "SERIALNUMBER", "STREET", "POSTALCODE"}) &&
				p.SANs == SANRules{UPN: true} && !p.RequireCN
		}},
		{name: "ok/empty lists mean none", cfg: ProfileConfig{
			Name: "x", KeyUsage: []string{}, ExtKeyUsage: []string{}, SubjectFields: []string{}, SANTypes: []string{}, RequireCN: boolPtr(false),
		}, want: func(p *Profile) bool {
			return p.KeyUsage == 0 && len(p.ExtKeyUsage) == 0 && len(p.SubjectFields) == 0 && p.SANs == SANRules{}
		}},
		{name: "ok/limits inclusive", cfg: ProfileConfig{Name: "x", Validity: "87600h", Backdate: "48h"},
			want: func(p *Profile) bool { return p.Validity == 87600*time.Hour && p.Backdate == 48*time.Hour }},

		{name: "fail/name required", cfg: ProfileConfig{}, err: `name: required`},
		{name: "fail/name upper case", cfg: ProfileConfig{Name: "Default"},
			err: `name: "Default" is not a valid name (want ^[a-z0-9][a-z0-9_-]{0,63}$; it is a URL path segment)`},
		{name: "fail/name slash", cfg: ProfileConfig{Name: "a/b"},
			err: `name: "a/b" is not a valid name (want ^[a-z0-9][a-z0-9_-]{0,63}$; it is a URL path segment)`},
		{name: "fail/name leading dash", cfg: ProfileConfig{Name: "-a"},
			err: `name: "-a" is not a valid name (want ^[a-z0-9][a-z0-9_-]{0,63}$; it is a URL path segment)`},
		{name: "fail/validity not a duration", cfg: ProfileConfig{Name: "x", Validity: "1y"},
			err: `validity: "1y" is not a duration (e.g. 8760h)`},
		{name: "fail/validity zero", cfg: ProfileConfig{Name: "x", Validity: "0s"}, err: `validity: "0s" must be positive`},
		{name: "fail/validity negative", cfg: ProfileConfig{Name: "x", Validity: "-1h"}, err: `validity: "-1h" must be positive`},
		{name: "fail/validity over 10 years", cfg: ProfileConfig{Name: "x", Validity: "87601h"},
			err: `validity: "87601h" exceeds 10 years (87600h)`},
		{name: "fail/backdate not a duration", cfg: ProfileConfig{Name: "x", Backdate: "5 minutes"},
			err: `backdate: "5 minutes" is not a duration (e.g. 5m)`},
		{name: "fail/backdate negative", cfg: ProfileConfig{Name: "x", Backdate: "-1m"}, err: `backdate: "-1m" must not be negative`},
		{name: "fail/backdate over 48h", cfg: ProfileConfig{Name: "x", Backdate: "48h1s"}, err: `backdate: "48h1s" exceeds 48h`},
		{name: "fail/key usage unknown", cfg: ProfileConfig{Name: "x", KeyUsage: []string{"digitalSignature", "keyEncipherment", "foo"}},
			err: `key_usage[2]: unknown key usage "foo"`},
		{name: "fail/key usage CA only", cfg: ProfileConfig{Name: "x", KeyUsage: []string{"keyCertSign"}},
			err: `key_usage[0]: unknown key usage "keyCertSign"`},
		{name: "fail/key usage duplicate alias", cfg: ProfileConfig{Name: "x", KeyUsage: []string{"contentCommitment", "nonRepudiation"}},
			err: `key_usage[1]: duplicate "nonRepudiation"`},
		{name: "fail/ext key usage unknown", cfg: ProfileConfig{Name: "x", ExtKeyUsage: []string{"smartcardLogon"}},
			err: `ext_key_usage[0]: unknown extended key usage "smartcardLogon"`},
		{name: "fail/ext key usage duplicate", cfg: ProfileConfig{Name: "x", ExtKeyUsage: []string{"clientAuth", "ClientAuth"}},
			err: `ext_key_usage[1]: duplicate "ClientAuth"`},
		{name: "fail/key types empty", cfg: ProfileConfig{Name: "x", KeyTypes: []KeyTypeConfig{}},
			err: `key_types: empty; at least one key type is required`},
		{name: "fail/key type required", cfg: ProfileConfig{Name: "x", KeyTypes: []KeyTypeConfig{{MinBits: 2048}}},
			err: `key_types[0].type: required`},
		{name: "fail/key type unknown", cfg: ProfileConfig{Name: "x", KeyTypes: []KeyTypeConfig{{Type: "rsa"}, {Type: "dsa"}}},
			err: `key_types[1].type: unknown key type "dsa" (want rsa, ecdsa, ed25519)`},
		{name: "fail/key type duplicate", cfg: ProfileConfig{Name: "x", KeyTypes: []KeyTypeConfig{{Type: "rsa"}, {Type: "RSA", MinBits: 4096}}},
			err: `key_types[1].type: duplicate "RSA"`},
		{name: "fail/rsa min bits below 2048", cfg: ProfileConfig{Name: "x", KeyTypes: []KeyTypeConfig{{Type: "rsa", MinBits: 1024}}},
			err: `key_types[0].min_bits: 1024 is below 2048`},
		{name: "fail/rsa min bits negative", cfg: ProfileConfig{Name: "x", KeyTypes: []KeyTypeConfig{{Type: "rsa", MinBits: -1}}},
			err: `key_types[0].min_bits: -1 is below 2048`},
		{name: "fail/rsa min bits above 16384", cfg: ProfileConfig{Name: "x", KeyTypes: []KeyTypeConfig{{Type: "rsa", MinBits: 20480}}},
			err: `key_types[0].min_bits: 20480 is above 16384`},
		{name: "fail/rsa with curves", cfg: ProfileConfig{Name: "x", KeyTypes: []KeyTypeConfig{{Type: "rsa", Curves: []string{"P-256"}}}},
			err: `key_types[0].curves: only for ecdsa`},
		{name: "fail/ecdsa with min bits", cfg: ProfileConfig{Name: "x", KeyTypes: []KeyTypeConfig{{Type: "ecdsa", MinBits: 256}}},
			err: `key_types[0].min_bits: only for rsa`},
		{name: "fail/ecdsa unknown curve", cfg: ProfileConfig{Name: "x", KeyTypes: []KeyTypeConfig{{Type: "ecdsa", Curves: []string{"P-256", "P-224"}}}},
			err: `key_types[0].curves[1]: unknown curve "P-224" (want P-256, P-384, P-521)`},
		{name: "fail/ecdsa duplicate curve", cfg: ProfileConfig{Name: "x", KeyTypes: []KeyTypeConfig{{Type: "ecdsa", Curves: []string{"P-256", "p-256"}}}},
			err: `key_types[0].curves[1]: duplicate "p-256"`},
		{name: "fail/ecdsa empty curves", cfg: ProfileConfig{Name: "x", KeyTypes: []KeyTypeConfig{{Type: "ecdsa", Curves: []string{}}}},
			err: `key_types[0].curves: empty; list at least one curve or leave it out`},
		{name: "fail/ed25519 with min bits", cfg: ProfileConfig{Name: "x", KeyTypes: []KeyTypeConfig{{Type: "ed25519", MinBits: 256}}},
			err: `key_types[0].min_bits: only for rsa`},
		{name: "fail/ed25519 with curves", cfg: ProfileConfig{Name: "x", KeyTypes: []KeyTypeConfig{{Type: "ed25519", Curves: []string{"P-256"}}}},
			err: `key_types[0].curves: only for ecdsa`},
		{name: "fail/subject field unknown", cfg: ProfileConfig{Name: "x", SubjectFields: []string{"CN", "E"}},
			err: `subject_fields[1]: unknown subject field "E" (want CN, O, OU, C, ST, L, STREET, POSTALCODE, SERIALNUMBER)`},
		{name: "fail/subject field duplicate", cfg: ProfileConfig{Name: "x", SubjectFields: []string{"CN", "cn"}},
			err: `subject_fields[1]: duplicate "cn"`},
		{name: "fail/san type unknown", cfg: ProfileConfig{Name: "x", SANTypes: []string{"dns", "ip"}},
			err: `san_types[1]: unknown SAN type "ip" (want dns, email, uri, upn)`},
		{name: "fail/san type duplicate", cfg: ProfileConfig{Name: "x", SANTypes: []string{"dns", "DNS"}},
			err: `san_types[1]: duplicate "DNS"`},
		{name: "fail/require cn without CN field", cfg: ProfileConfig{Name: "x", SubjectFields: []string{"O"}},
			err: `require_cn: true but CN is not in subject_fields, so no certificate could have one`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := tt.cfg.Build()
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("Build() error = %v, want %q", err, tt.err)
				}
				if p != nil {
					t.Errorf("Build() returned a profile with an error")
				}
				return
			}
			if err != nil {
				t.Fatalf("Build() error = %v", err)
			}
			if !tt.want(p) {
				t.Errorf("Build() = %+v", p)
			}
		})
	}
}
