package upstream

import (
	"crypto/x509"

	"github.com/certgate/certgate/ca/cms"
)

// contentCipher is a CMS content-encryption algorithm for the
// pkcsPKIEnvelope.
type contentCipher = cms.Cipher

// The ciphers the gateway sends with. The envelope is built by ca/cms,
// per message: smallstep/pkcs7's Encrypt takes its cipher from a
// package-global variable that other code in this process (certgate's
// SCEP server does not, but a test client might) can change
// concurrently, and cannot do DES-EDE3.
var (
	// RFC 8894 §3.5.2: "AES" in GetCACaps promises AES128-CBC.
	cipherAES128 = cms.AES128CBC
	cipherDES3   = cms.DESEDE3CBC
)

// envelope encrypts content to the recipient's RSA key with PKCS#1 v1.5
// key transport, which every SCEP CA implements, and returns the DER
// ContentInfo (RFC 8894 §3.2.2).
func envelope(content []byte, recipient *x509.Certificate, alg contentCipher) ([]byte, error) {
	return cms.Envelope(content, recipient, alg)
}
