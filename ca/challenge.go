package ca

import (
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"unicode/utf16"
)

// oidChallengePassword is PKCS#9 challengePassword (RFC 2985 §5.4.1).
var oidChallengePassword = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 7}

// ChallengePassword returns the CSR's challengePassword attribute, or ""
// when it has none. RFC 2985 allows PrintableString or UTF8String; clients
// also send IA5String, T61String and BMPString, and certmonger sends a
// PrintableString even when the password holds characters PrintableString
// forbids ('_', '@'). We take the string's bytes as they are rather than
// refuse an enrollment over the string type.
func ChallengePassword(csr *x509.CertificateRequest) (string, error) {
	var tbs struct {
		Version       int
		Subject       asn1.RawValue
		PublicKey     asn1.RawValue
		RawAttributes []asn1.RawValue `asn1:"tag:0"`
	}
	if _, err := asn1.Unmarshal(csr.RawTBSCertificateRequest, &tbs); err != nil {
		return "", errors.New("ca: csr: malformed attributes")
	}
	for _, raw := range tbs.RawAttributes {
		var attr struct {
			Type   asn1.ObjectIdentifier
			Values asn1.RawValue
		}
		if _, err := asn1.Unmarshal(raw.FullBytes, &attr); err != nil {
			return "", errors.New("ca: csr: malformed attribute")
		}
		if !attr.Type.Equal(oidChallengePassword) {
			continue
		}
		var value asn1.RawValue
		if _, err := asn1.Unmarshal(attr.Values.Bytes, &value); err != nil {
			return "", errors.New("ca: csr: malformed challengePassword")
		}
		return decodeDirectoryString(value)
	}
	return "", nil
}

func decodeDirectoryString(v asn1.RawValue) (string, error) {
	if v.Class != asn1.ClassUniversal {
		return "", errors.New("ca: csr: challengePassword is not a string")
	}
	switch v.Tag {
	case asn1.TagPrintableString, asn1.TagUTF8String, asn1.TagIA5String, asn1.TagT61String:
		return string(v.Bytes), nil
	case asn1.TagBMPString:
		if len(v.Bytes)%2 != 0 {
			return "", errors.New("ca: csr: malformed BMPString challengePassword")
		}
		u := make([]uint16, len(v.Bytes)/2)
		for i := range u {
			u[i] = uint16(v.Bytes[2*i])<<8 | uint16(v.Bytes[2*i+1])
		}
		return string(utf16.Decode(u)), nil
	}
	return "", errors.New("ca: csr: challengePassword is not a string")
}
