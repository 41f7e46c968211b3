package crl

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
)

// oidIssuingDistributionPoint is id-ce-issuingDistributionPoint, RFC 5280
// §5.2.5.
var oidIssuingDistributionPoint = asn1.ObjectIdentifier{2, 5, 29, 28}

// ASN.1 context-specific tags of RFC 5280's implicitly tagged module.
const (
	tagDistributionPoint = 0 // IssuingDistributionPoint.distributionPoint, DistributionPointName
	tagFullName          = 0 // DistributionPointName.fullName, GeneralNames
	tagURI               = 6 // GeneralName.uniformResourceIdentifier, IA5String
)

// distributionPointName encodes DistributionPointName{fullName: [uri]}:
//
//	[0] {            -- fullName, GeneralNames with its SEQUENCE tag replaced
//	  [6] uri        -- uniformResourceIdentifier, IA5String tag replaced
//	}
//
// This is the same encoding crypto/x509 writes into a certificate's CRL
// distribution point, which is what makes the two comparable byte for byte.
func distributionPointName(uri string) ([]byte, error) {
	gn, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: tagURI, Bytes: []byte(uri)})
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: tagFullName, IsCompound: true, Bytes: gn})
}

// idpExtension builds the critical Issuing Distribution Point extension
// holding only distributionPoint = fullName [uri]; every BOOLEAN keeps its
// DEFAULT FALSE and is therefore absent (DER).
func idpExtension(uri string) (pkix.Extension, error) {
	dpn, err := distributionPointName(uri)
	if err != nil {
		return pkix.Extension{}, fmt.Errorf("crl: encode distribution point: %w", err)
	}
	// distributionPoint [0] is EXPLICIT because DistributionPointName is a
	// CHOICE (X.680 §31.2.7), so the CHOICE's own [0] stays inside.
	dp, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: tagDistributionPoint, IsCompound: true, Bytes: dpn})
	if err != nil {
		return pkix.Extension{}, fmt.Errorf("crl: encode issuing distribution point: %w", err)
	}
	value, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: dp})
	if err != nil {
		return pkix.Extension{}, fmt.Errorf("crl: encode issuing distribution point: %w", err)
	}
	return pkix.Extension{Id: oidIssuingDistributionPoint, Critical: true, Value: value}, nil
}
