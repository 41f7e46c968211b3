package ca

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"regexp"
	"strings"
)

// Strong certificate mapping (KB5014754): Windows domain controllers map a
// certificate to an account by the SID in this extension.
var (
	// OIDSIDExtension is szOID_NTDS_CA_SECURITY_EXT.
	OIDSIDExtension = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 25, 2}
	// oidNTDSObjectSID is szOID_NTDS_OBJECTSID, the otherName inside it.
	oidNTDSObjectSID = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 25, 2, 1}
)

// SIDURIPrefix is the URI SAN Intune puts a SID in
// ("tag:microsoft.com,2022-09-14:sid:S-1-5-21-…").
const SIDURIPrefix = "tag:microsoft.com,2022-09-14:sid:"

// sidRE is the text form of a security identifier.
var sidRE = regexp.MustCompile(`^S-1-[0-9]+(-[0-9]+)+$`)

// sidFromURIs returns the SID of the first SID URI SAN, or "".
func sidFromURIs(uris []string) (string, error) {
	for _, u := range uris {
		if sid, ok := strings.CutPrefix(u, SIDURIPrefix); ok {
			if !sidRE.MatchString(sid) || len(sid) > 184 {
				return "", &PolicyError{Code: PolicyBadRequest, Detail: fmt.Sprintf("SID URI SAN %q does not hold a SID", u)}
			}
			return sid, nil
		}
	}
	return "", nil
}

// SIDExtension encodes the SID extension for sid (text form, as AD CS
// writes it): SEQUENCE { [0] { OID 1.3.6.1.4.1.311.25.2.1, [0] { OCTET STRING sid } } }.
// It is never critical (MS-WCCE §2.2.2.7.7.4).
func SIDExtension(sid string) (pkix.Extension, error) {
	// An OCTET STRING holding the ASCII text, not a binary SID.
	oct, err := asn1.Marshal([]byte(sid))
	if err != nil {
		return pkix.Extension{}, err
	}
	oid, err := asn1.Marshal(oidNTDSObjectSID)
	if err != nil {
		return pkix.Extension{}, err
	}
	value, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: oct})
	if err != nil {
		return pkix.Extension{}, err
	}
	other, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: append(oid, value...)})
	if err != nil {
		return pkix.Extension{}, err
	}
	der, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: other})
	if err != nil {
		return pkix.Extension{}, err
	}
	return pkix.Extension{Id: OIDSIDExtension, Value: der}, nil
}

// sidExtension decides the certificate's SID extension: from the SID URI
// SAN when the profile adds it (a CSR's own extension is then ignored),
// the CSR's requested extension only when the profile allows it (Intune
// does not vouch for it: anyone enrolling could name any account), none
// otherwise.
func (p *Profile) sidExtension(csr *x509.CertificateRequest, uris []string) (*pkix.Extension, error) {
	if p.AddSIDExtension {
		sid, err := sidFromURIs(uris)
		if err != nil || sid == "" {
			return nil, err
		}
		ext, err := SIDExtension(sid)
		if err != nil {
			return nil, &PolicyError{Code: PolicyBadRequest, Detail: "SID extension: " + err.Error()}
		}
		return &ext, nil
	}
	if p.AllowRequestedSID {
		for _, e := range csr.Extensions {
			if e.Id.Equal(OIDSIDExtension) {
				ext := pkix.Extension{Id: OIDSIDExtension, Value: e.Value}
				return &ext, nil
			}
		}
	}
	return nil, nil
}
