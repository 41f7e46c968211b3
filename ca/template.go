package ca

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Template applies the profile to csr and returns the certificate template
// an Issuer completes (serial, signature algorithm, CDP/AIA) and signs.
//
// From the CSR it takes the public key, the subject attributes listed in
// SubjectFields (in the CSR's order) and the SAN types allowed by SANs;
// every other requested extension is ignored. From the profile it takes
// validity (NotBefore = now - Backdate, NotAfter = now + Validity, both
// truncated to the second that DER can hold), KeyUsage (minus usages the
// key's algorithm cannot have), ExtKeyUsage, and a non-CA basic
// constraints. SubjectKeyId is computed from the key (RFC 5280 §4.2.1.2
// method 1).
//
// A CSR the profile refuses returns *PolicyError: PolicyBadAlg for the key
// or signature algorithm, PolicyBadMessageCheck for a signature that does
// not verify, PolicyBadRequest otherwise. Other errors mean the profile
// itself is unusable.
func (p *Profile) Template(csr *x509.CertificateRequest, now time.Time) (*x509.Certificate, error) {
	if p == nil {
		return nil, errors.New("ca: nil profile")
	}
	if p.Validity <= 0 {
		return nil, fmt.Errorf("ca: profile %q: validity must be positive", p.Name)
	}
	if csr == nil {
		return nil, &PolicyError{Code: PolicyBadRequest, Detail: "no CSR"}
	}
	// The key comes before the signature: Go will not verify with an RSA
	// key under 1024 bits, and such a key is a weak key (badAlg), not a bad
	// signature.
	if err := p.checkKey(csr.PublicKey); err != nil {
		return nil, err
	}
	if err := checkCSRSignature(csr); err != nil {
		return nil, err
	}
	subject, err := p.subject(csr)
	if err != nil {
		return nil, err
	}
	if p.RequireCN && strings.TrimSpace(subject.CommonName) == "" {
		return nil, &PolicyError{Code: PolicyBadRequest, Detail: fmt.Sprintf("CSR has no common name (CN) and profile %q requires one", p.Name)}
	}
	sans, err := p.sans(csr)
	if err != nil {
		return nil, err
	}
	subjectEmpty := len(subject.ExtraNames) == 0
	if subjectEmpty && sans.empty() {
		return nil, &PolicyError{Code: PolicyBadRequest, Detail: "CSR names no subject and no subjectAltName the profile allows"}
	}
	ski, err := SubjectKeyID(csr.RawSubjectPublicKeyInfo)
	if err != nil {
		return nil, &PolicyError{Code: PolicyBadRequest, Detail: "CSR public key is malformed"}
	}
	now = now.UTC().Truncate(time.Second)
	tpl := &x509.Certificate{
		Subject:               subject,
		NotBefore:             now.Add(-p.Backdate),
		NotAfter:              now.Add(p.Validity),
		KeyUsage:              keyUsageFor(p.KeyUsage, csr.PublicKey),
		ExtKeyUsage:           append([]x509.ExtKeyUsage(nil), p.ExtKeyUsage...),
		BasicConstraintsValid: true,
		IsCA:                  false,
		SubjectKeyId:          ski,
	}
	if err := setSANs(tpl, sans, subjectEmpty); err != nil {
		return nil, err
	}
	var uris []string
	for _, u := range csr.URIs {
		uris = append(uris, u.String())
	}
	sid, err := p.sidExtension(csr, uris)
	if err != nil {
		return nil, err
	}
	if sid != nil {
		tpl.ExtraExtensions = append(tpl.ExtraExtensions, *sid)
	}
	return tpl, nil
}

// sans collects the SAN entries the profile lets through. DNS, email and
// URI come from Go's parse of the CSR; UPNs, which Go skips, from ours.
func (p *Profile) sans(csr *x509.CertificateRequest) (sanEntries, error) {
	var s sanEntries
	if p.SANs.DNS {
		s.DNS = append(s.DNS, csr.DNSNames...)
	}
	if p.SANs.Email {
		s.Email = append(s.Email, csr.EmailAddresses...)
	}
	if p.SANs.URI {
		for _, u := range csr.URIs {
			s.URI = append(s.URI, u.String())
		}
	}
	if p.SANs.UPN {
		upns, err := UPNsFromExtensions(csr.Extensions)
		if err != nil {
			return s, &PolicyError{Code: PolicyBadRequest, Detail: "CSR subjectAltName: " + strings.TrimPrefix(err.Error(), "ca: subjectAltName: ")}
		}
		s.UPN = upns
	}
	return s, nil
}

// setSANs puts the SAN entries on tpl. crypto/x509 cannot express an
// otherName, so with any UPN the whole extension is encoded here and goes
// in ExtraExtensions (CreateCertificate then adds no SAN of its own);
// without one, the template fields suffice and x509 handles criticality.
func setSANs(tpl *x509.Certificate, s sanEntries, subjectEmpty bool) error {
	if len(s.UPN) == 0 {
		tpl.DNSNames, tpl.EmailAddresses = s.DNS, s.Email
		for _, raw := range s.URI {
			u, err := url.Parse(raw)
			if err != nil {
				return &PolicyError{Code: PolicyBadRequest, Detail: fmt.Sprintf("CSR URI SAN %q is malformed", raw)}
			}
			tpl.URIs = append(tpl.URIs, u)
		}
		return nil
	}
	der, err := marshalGeneralNames(s)
	if err != nil {
		return &PolicyError{Code: PolicyBadRequest, Detail: "CSR subjectAltName: " + strings.TrimPrefix(err.Error(), "ca: ")}
	}
	tpl.ExtraExtensions = append(tpl.ExtraExtensions, pkix.Extension{
		Id: oidExtSubjectAltName,
		// RFC 5280 §4.2.1.6: with an empty subject the SAN is the only
		// name and MUST be critical.
		Critical: subjectEmpty,
		Value:    der,
	})
	return nil
}
