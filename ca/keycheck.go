package ca

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// checkKey refuses a subject key that no KeyRule accepts. The detail says
// what was sent and what the profile wants, because the device owner reads
// it in a SCEP client log and has to regenerate the key.
func (p *Profile) checkKey(pub any) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		r, ok := p.rule("rsa")
		if !ok {
			return p.refuseAlg("RSA")
		}
		if k.N == nil {
			return &PolicyError{Code: PolicyBadAlg, Detail: "RSA key has no modulus"}
		}
		if bits, floor := k.N.BitLen(), ruleMinBits(r); bits < floor {
			return &PolicyError{Code: PolicyBadAlg, Detail: fmt.Sprintf("RSA %d-bit key below the profile minimum %d", bits, floor)}
		}
	case *ecdsa.PublicKey:
		r, ok := p.rule("ecdsa")
		if !ok {
			return p.refuseAlg("ECDSA")
		}
		if k.Curve == nil {
			return &PolicyError{Code: PolicyBadAlg, Detail: "ECDSA key has no curve"}
		}
		name, allowed := k.Curve.Params().Name, ruleCurves(r)
		if !slices.Contains(allowed, name) {
			return &PolicyError{Code: PolicyBadAlg, Detail: fmt.Sprintf("ECDSA curve %s not accepted (profile allows %s)", name, strings.Join(allowed, ", "))}
		}
	case ed25519.PublicKey:
		if _, ok := p.rule("ed25519"); !ok {
			return p.refuseAlg("Ed25519")
		}
	default:
		return &PolicyError{Code: PolicyBadAlg, Detail: fmt.Sprintf("unsupported key type %T (profile accepts %s)", pub, p.describeRules())}
	}
	return nil
}

func (p *Profile) rule(alg string) (KeyRule, bool) {
	for _, r := range p.KeyRules {
		if strings.EqualFold(r.Algorithm, alg) {
			return r, true
		}
	}
	return KeyRule{}, false
}

func (p *Profile) refuseAlg(alg string) error {
	return &PolicyError{Code: PolicyBadAlg, Detail: fmt.Sprintf("%s keys not accepted (profile accepts %s)", alg, p.describeRules())}
}

// describeRules renders KeyRules as "RSA >= 2048 bits, ECDSA P-256/P-384".
func (p *Profile) describeRules() string {
	var parts []string
	for _, r := range p.KeyRules {
		switch strings.ToLower(r.Algorithm) {
		case "rsa":
			parts = append(parts, fmt.Sprintf("RSA >= %d bits", ruleMinBits(r)))
		case "ecdsa":
			parts = append(parts, "ECDSA "+strings.Join(ruleCurves(r), "/"))
		case "ed25519":
			parts = append(parts, "Ed25519")
		}
	}
	if len(parts) == 0 {
		return "no key type"
	}
	return strings.Join(parts, ", ")
}

// checkCSRSignature verifies the CSR's proof of possession. An algorithm
// Go refuses on principle (MD5) is badAlg, not a forged signature: the
// client can fix it by changing its settings. SHA-1 CSR signatures pass,
// as crypto/x509 lets them: older Windows and network-gear SCEP clients
// still send them, and a collision on a self-signature proves nothing an
// attacker could use. We choose to accept it.
func checkCSRSignature(csr *x509.CertificateRequest) error {
	err := csr.CheckSignature()
	if err == nil {
		return nil
	}
	var insecure x509.InsecureAlgorithmError
	if errors.As(err, &insecure) || errors.Is(err, x509.ErrUnsupportedAlgorithm) {
		return &PolicyError{Code: PolicyBadAlg, Detail: fmt.Sprintf("CSR signature algorithm %s not accepted", csr.SignatureAlgorithm)}
	}
	return &PolicyError{Code: PolicyBadMessageCheck, Detail: "CSR signature does not verify"}
}

// keyUsageFor drops usages the key's algorithm cannot have, so one profile
// can serve RSA and EC devices: RFC 5480 §3 forbids keyEncipherment and
// dataEncipherment for EC keys, RFC 8410 §5 also keyAgreement for Ed25519.
func keyUsageFor(ku x509.KeyUsage, pub any) x509.KeyUsage {
	switch pub.(type) {
	case *ecdsa.PublicKey:
		return ku &^ (x509.KeyUsageKeyEncipherment | x509.KeyUsageDataEncipherment)
	case ed25519.PublicKey:
		return ku &^ (x509.KeyUsageKeyEncipherment | x509.KeyUsageDataEncipherment | x509.KeyUsageKeyAgreement)
	}
	return ku
}
