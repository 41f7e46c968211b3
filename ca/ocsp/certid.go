package ocsp

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
)

// issuerHashes are a CA's CertID hashes (RFC 6960 §4.1.1): of the DER
// subject name and of the subjectPublicKey BIT STRING's value, without its
// tag, length and unused-bits octet, computed once per algorithm.
type issuerHashes [numHashAlgs]struct{ name, key []byte }

func computeIssuerHashes(issuer *x509.Certificate) (issuerHashes, error) {
	var h issuerHashes
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(issuer.RawSubjectPublicKeyInfo, &spki); err != nil {
		return h, fmt.Errorf("ocsp: issuer public key: %w", err)
	}
	n1, k1 := sha1.Sum(issuer.RawSubject), sha1.Sum(spki.PublicKey.RightAlign())
	n2, k2 := sha256.Sum256(issuer.RawSubject), sha256.Sum256(spki.PublicKey.RightAlign())
	h[hashSHA1].name, h[hashSHA1].key = n1[:], k1[:]
	h[hashSHA256].name, h[hashSHA256].key = n2[:], k2[:]
	return h, nil
}

// certIDKey indexes a CA by what a request names it with.
func certIDKey(h hashAlg, nameHash, keyHash []byte) string {
	var buf [1 + 2*sha256.Size]byte
	return string(appendCertIDKey(buf[:0], h, nameHash, keyHash))
}

// appendCertIDKey appends certIDKey's result to dst; the hot path looks
// it up as m[string(b)], which does not allocate.
func appendCertIDKey(dst []byte, h hashAlg, nameHash, keyHash []byte) []byte {
	return append(append(append(dst, byte(h)), nameHash...), keyHash...)
}
