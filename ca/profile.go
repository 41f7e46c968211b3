package ca

import (
	"crypto/x509"
	"time"
)

// Profile is the policy that shapes a certificate from a CSR: what the CSR
// may ask for and what certgate adds regardless. Build one from a
// ProfileConfig.
type Profile struct {
	// Name selects the profile (/scep/<name>, EST label).
	Name string
	// Validity is notAfter - (now). Zero is not allowed after Build.
	Validity time.Duration
	// Backdate moves notBefore into the past for devices whose clocks lag.
	Backdate time.Duration
	// KeyUsage and ExtKeyUsage are set on every certificate; the CSR's
	// requested usages are ignored.
	KeyUsage    x509.KeyUsage
	ExtKeyUsage []x509.ExtKeyUsage
	// KeyRules lists accepted subject key types; a CSR key matching none of
	// them is refused with PolicyBadAlg.
	KeyRules []KeyRule
	// SubjectFields lists the subject attributes copied from the CSR
	// ("CN", "O", "OU", "C", "ST", "L", "STREET", "POSTALCODE",
	// "SERIALNUMBER"); others are dropped.
	SubjectFields []string
	// SANs says which SAN types pass through from the CSR; others are dropped.
	SANs SANRules
	// RequireCN refuses a CSR without a common name.
	RequireCN bool
	// AddSIDExtension adds the strong-mapping SID extension (KB5014754)
	// built from the CSR's tag:microsoft.com,2022-09-14:sid: URI SAN.
	AddSIDExtension bool
	// AllowRequestedSID copies a SID extension the CSR requests; off, it
	// is dropped (the SID is the requester's claim, unchecked).
	AllowRequestedSID bool
}

// KeyRule accepts one key algorithm.
type KeyRule struct {
	// Algorithm is "rsa", "ecdsa" or "ed25519".
	Algorithm string
	// MinBits is the minimum RSA modulus size (rsa only). Values below
	// 2048, zero included, are treated as 2048.
	MinBits int
	// Curves lists accepted ECDSA curves by name ("P-256", "P-384",
	// "P-521"); empty means P-256 and P-384.
	Curves []string
}

// SANRules says which subjectAltName types a CSR may carry into the
// certificate.
type SANRules struct {
	DNS   bool
	Email bool
	URI   bool
	// UPN is the Microsoft userPrincipalName otherName (1.3.6.1.4.1.311.20.2.3).
	UPN bool
}

// ProfileConfig is the YAML form of a Profile (one entry under
// `profiles:`). Validator settings are not here: they belong to the
// enrollment service, which pairs a Profile with a validator.
type ProfileConfig struct {
	Name string `yaml:"name"`
	// Validity as a Go duration ("8760h"); default 8760h (one year).
	Validity string `yaml:"validity"`
	// Backdate as a Go duration; default 5m.
	Backdate string `yaml:"backdate"`
	// KeyUsage names (digitalSignature, keyEncipherment, ...); default
	// [digitalSignature, keyEncipherment].
	KeyUsage []string `yaml:"key_usage"`
	// ExtKeyUsage names (clientAuth, serverAuth, emailProtection,
	// codeSigning, ...); default [clientAuth].
	ExtKeyUsage []string `yaml:"ext_key_usage"`
	// KeyTypes; default rsa >= 2048 and ecdsa P-256/P-384.
	KeyTypes []KeyTypeConfig `yaml:"key_types"`
	// SubjectFields; default [CN, O, OU, C, ST, L].
	SubjectFields []string `yaml:"subject_fields"`
	// SANTypes: any of dns, email, uri, upn; default all four.
	SANTypes []string `yaml:"san_types"`
	// RequireCN; default true (nil means default).
	RequireCN *bool `yaml:"require_cn"`
	// AddSIDExtension adds the strong-mapping SID extension from the SID
	// URI SAN; default false.
	AddSIDExtension bool `yaml:"add_sid_extension"`
	// AllowRequestedSID copies a SID extension the CSR requests; default
	// false (dropped).
	AllowRequestedSID bool `yaml:"allow_requested_sid"`
}

// KeyTypeConfig is the YAML form of a KeyRule.
type KeyTypeConfig struct {
	Type    string   `yaml:"type"`
	MinBits int      `yaml:"min_bits"`
	Curves  []string `yaml:"curves"`
}
