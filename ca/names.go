package ca

import (
	"crypto/elliptic"
	"crypto/x509"
	"encoding/asn1"
	"strings"
)

// The names below are the vocabulary of ProfileConfig. They follow the
// RFC 5280 ASN.1 identifiers (keyUsage bit names, id-kp-* suffixes) so an
// operator can copy them from an openssl -text dump.

// keyUsageNames maps RFC 5280 §4.2.1.3 bit names to x509 bits. Only the
// usages an end-entity certificate may carry are here: keyCertSign and
// cRLSign belong to CAs, and certgate issues no CA certificates.
var keyUsageNames = map[string]x509.KeyUsage{
	"digitalSignature":  x509.KeyUsageDigitalSignature,
	"contentCommitment": x509.KeyUsageContentCommitment,
	// nonRepudiation is the pre-2008 name of contentCommitment and still
	// what openssl and most vendor docs print.
	"nonRepudiation":   x509.KeyUsageContentCommitment,
	"keyEncipherment":  x509.KeyUsageKeyEncipherment,
	"dataEncipherment": x509.KeyUsageDataEncipherment,
	"keyAgreement":     x509.KeyUsageKeyAgreement,
}

var extKeyUsageNames = map[string]x509.ExtKeyUsage{
	"clientAuth":      x509.ExtKeyUsageClientAuth,
	"serverAuth":      x509.ExtKeyUsageServerAuth,
	"emailProtection": x509.ExtKeyUsageEmailProtection,
	"codeSigning":     x509.ExtKeyUsageCodeSigning,
	"timeStamping":    x509.ExtKeyUsageTimeStamping,
	"ocspSigning":     x509.ExtKeyUsageOCSPSigning,
	"any":             x509.ExtKeyUsageAny,
}

// subjectFieldOIDs are the subject attributes a profile may copy from a CSR
// (RFC 5280 §4.1.2.4 and X.520).
var subjectFieldOIDs = map[string]asn1.ObjectIdentifier{
	"CN":           {2, 5, 4, 3},
	"SERIALNUMBER": {2, 5, 4, 5},
	"C":            {2, 5, 4, 6},
	"L":            {2, 5, 4, 7},
	"ST":           {2, 5, 4, 8},
	"STREET":       {2, 5, 4, 9},
	"O":            {2, 5, 4, 10},
	"OU":           {2, 5, 4, 11},
	"POSTALCODE":   {2, 5, 4, 17},
}

// subjectFieldList is subjectFieldOIDs' keys in the order error messages
// list them.
const subjectFieldList = "CN, O, OU, C, ST, L, STREET, POSTALCODE, SERIALNUMBER"

// curves are the ECDSA curves a profile may accept. P-224 is left out on
// purpose: it is below the 128-bit security level every current baseline
// asks for.
var curves = map[string]elliptic.Curve{
	"P-256": elliptic.P256(),
	"P-384": elliptic.P384(),
	"P-521": elliptic.P521(),
}

// defaultCurves is what an ecdsa rule without curves accepts.
var defaultCurves = []string{"P-256", "P-384"}

// minRSABits is the floor for any RSA rule (NIST SP 800-131A).
const minRSABits = 2048

// maxRSABits keeps a typo (20480) from becoming a rule no device can meet.
const maxRSABits = 16384

// ruleMinBits is r's RSA floor; a hand-built rule without MinBits still
// gets the global floor rather than accepting any size.
func ruleMinBits(r KeyRule) int {
	if r.MinBits < minRSABits {
		return minRSABits
	}
	return r.MinBits
}

// ruleCurves is r's accepted curve list with the documented default.
func ruleCurves(r KeyRule) []string {
	if len(r.Curves) == 0 {
		return defaultCurves
	}
	return r.Curves
}

// fieldOID returns the OID of a subject field name, case-insensitively.
func fieldOID(name string) (asn1.ObjectIdentifier, bool) {
	oid, ok := subjectFieldOIDs[strings.ToUpper(name)]
	return oid, ok
}
