package local

import (
	"crypto/sha256"
	"crypto/x509"
	"strings"
)

// Fingerprint returns the SHA-256 of cert's DER as upper-case hex pairs
// joined by colons (AA:BB:...), the form openssl x509 -fingerprint and MDM
// consoles show, so an operator can compare them by eye. A nil cert gives "".
func Fingerprint(cert *x509.Certificate) string {
	if cert == nil {
		return ""
	}
	sum := sha256.Sum256(cert.Raw)
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(sum)*3 - 1)
	for i, v := range sum {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteByte(hexDigits[v>>4])
		b.WriteByte(hexDigits[v&0x0f])
	}
	return b.String()
}
