package ca

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"unicode/utf8"
)

var (
	oidExtSubjectAltName = asn1.ObjectIdentifier{2, 5, 29, 17}
	// oidUPN is Microsoft's userPrincipalName otherName, which Windows
	// smart-card and Wi-Fi (EAP-TLS) logon map to an account.
	oidUPN = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 20, 2, 3}
)

// GeneralName tags (RFC 5280 §4.2.1.6), all context-specific and IMPLICIT.
const (
	tagOtherName = 0
	tagRFC822    = 1
	tagDNS       = 2
	tagURI       = 6
)

// sanEntries are the subjectAltName entries certgate passes through.
type sanEntries struct {
	DNS, Email, URI, UPN []string
}

func (s sanEntries) empty() bool {
	return len(s.DNS)+len(s.Email)+len(s.URI)+len(s.UPN) == 0
}

// UPNsFromExtensions returns the userPrincipalName otherNames of the
// subjectAltName extension among exts, in order. crypto/x509 skips
// otherName entries when it parses a SAN, so the store and anyone else who
// needs UPNs reads them here. No SAN extension means no UPNs and no error.
func UPNsFromExtensions(exts []pkix.Extension) ([]string, error) {
	var found *pkix.Extension
	for i := range exts {
		if !exts[i].Id.Equal(oidExtSubjectAltName) {
			continue
		}
		if found != nil {
			// RFC 5280 §4.2: an extension appears at most once.
			return nil, errors.New("ca: more than one subjectAltName extension")
		}
		found = &exts[i]
	}
	if found == nil {
		return nil, nil
	}
	names, err := parseGeneralNames(found.Value)
	if err != nil {
		return nil, err
	}
	return names.UPN, nil
}

// parseGeneralNames reads a GeneralNames SEQUENCE. Entry types certgate
// does not pass through (IP addresses, directory names, other otherNames)
// are skipped, but every entry must be well-formed DER.
func parseGeneralNames(der []byte) (sanEntries, error) {
	var out sanEntries
	var seq asn1.RawValue
	rest, err := asn1.Unmarshal(der, &seq)
	if err != nil {
		return out, fmt.Errorf("ca: subjectAltName: %w", err)
	}
	if len(rest) > 0 || seq.Class != asn1.ClassUniversal || seq.Tag != asn1.TagSequence || !seq.IsCompound {
		return out, errors.New("ca: subjectAltName: not a GeneralNames SEQUENCE")
	}
	for body := seq.Bytes; len(body) > 0; {
		var gn asn1.RawValue
		if body, err = asn1.Unmarshal(body, &gn); err != nil {
			return out, fmt.Errorf("ca: subjectAltName entry: %w", err)
		}
		if gn.Class != asn1.ClassContextSpecific {
			return out, errors.New("ca: subjectAltName entry is not a GeneralName")
		}
		switch gn.Tag {
		case tagDNS:
			out.DNS = append(out.DNS, string(gn.Bytes))
		case tagRFC822:
			out.Email = append(out.Email, string(gn.Bytes))
		case tagURI:
			out.URI = append(out.URI, string(gn.Bytes))
		case tagOtherName:
			upn, ok, err := parseUPN(gn)
			if err != nil {
				return out, err
			}
			if ok {
				out.UPN = append(out.UPN, upn)
			}
		}
	}
	return out, nil
}

// parseUPN reads an otherName (RFC 5280: SEQUENCE { type-id OID, value [0]
// EXPLICIT ANY }, here under the GeneralName's IMPLICIT [0]) and returns
// its value if type-id is the UPN. Microsoft encodes the value as
// UTF8String; other string types are refused rather than guessed at.
func parseUPN(gn asn1.RawValue) (string, bool, error) {
	bad := errors.New("ca: subjectAltName: malformed otherName")
	if !gn.IsCompound {
		return "", false, bad
	}
	var typeID asn1.ObjectIdentifier
	rest, err := asn1.Unmarshal(gn.Bytes, &typeID)
	if err != nil {
		return "", false, bad
	}
	if !typeID.Equal(oidUPN) {
		return "", false, nil
	}
	var explicit asn1.RawValue
	if rest, err = asn1.Unmarshal(rest, &explicit); err != nil || len(rest) > 0 ||
		explicit.Class != asn1.ClassContextSpecific || explicit.Tag != 0 || !explicit.IsCompound {
		return "", false, bad
	}
	var str asn1.RawValue
	if rest, err = asn1.Unmarshal(explicit.Bytes, &str); err != nil || len(rest) > 0 ||
		str.Class != asn1.ClassUniversal || str.Tag != asn1.TagUTF8String {
		return "", false, errors.New("ca: subjectAltName: UPN is not a UTF8String")
	}
	if !utf8.Valid(str.Bytes) {
		return "", false, errors.New("ca: subjectAltName: UPN is not valid UTF-8")
	}
	return string(str.Bytes), true, nil
}

// marshalGeneralNames encodes entries as a GeneralNames SEQUENCE, in the
// order DNS, email, URI, UPN.
func marshalGeneralNames(s sanEntries) ([]byte, error) {
	var names []asn1.RawValue
	ia5 := func(tag int, values []string) error {
		for _, v := range values {
			if !isIA5(v) {
				return fmt.Errorf("ca: subjectAltName %q is not ASCII (IA5String)", v)
			}
			names = append(names, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: tag, Bytes: []byte(v)})
		}
		return nil
	}
	if err := ia5(tagDNS, s.DNS); err != nil {
		return nil, err
	}
	if err := ia5(tagRFC822, s.Email); err != nil {
		return nil, err
	}
	if err := ia5(tagURI, s.URI); err != nil {
		return nil, err
	}
	typeID, err := asn1.Marshal(oidUPN)
	if err != nil {
		return nil, fmt.Errorf("ca: marshal UPN OID: %w", err)
	}
	for _, upn := range s.UPN {
		if !utf8.ValidString(upn) {
			return nil, fmt.Errorf("ca: UPN %q is not valid UTF-8", upn)
		}
		str, err := asn1.Marshal(asn1.RawValue{Tag: asn1.TagUTF8String, Bytes: []byte(upn)})
		if err != nil {
			return nil, fmt.Errorf("ca: marshal UPN: %w", err)
		}
		value, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: str})
		if err != nil {
			return nil, fmt.Errorf("ca: marshal UPN: %w", err)
		}
		body := append(append([]byte{}, typeID...), value...)
		names = append(names, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: tagOtherName, IsCompound: true, Bytes: body})
	}
	der, err := asn1.Marshal(names)
	if err != nil {
		return nil, fmt.Errorf("ca: marshal subjectAltName: %w", err)
	}
	return der, nil
}

func isIA5(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
