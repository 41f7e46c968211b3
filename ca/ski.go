package ca

import (
	"crypto/sha1"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
)

// SubjectKeyID returns the SHA-1 of the subjectPublicKey BIT STRING in a
// DER SubjectPublicKeyInfo (RFC 5280 §4.2.1.2 method 1), as found in
// csr.RawSubjectPublicKeyInfo or cert.RawSubjectPublicKeyInfo. It is also
// the OCSP issuerKeyHash for SHA-1 (RFC 6960 §4.1.1). SHA-1 is used as an
// identifier here, not for collision resistance.
func SubjectKeyID(rawSPKI []byte) ([]byte, error) {
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	rest, err := asn1.Unmarshal(rawSPKI, &spki)
	if err != nil {
		return nil, fmt.Errorf("ca: subjectPublicKeyInfo: %w", err)
	}
	if len(rest) > 0 {
		return nil, errors.New("ca: subjectPublicKeyInfo: trailing data")
	}
	sum := sha1.Sum(spki.PublicKey.Bytes)
	return sum[:], nil
}
