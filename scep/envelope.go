package scep

import (
	"crypto/x509"
	"encoding/asn1"
	"fmt"

	"github.com/certgate/certgate/ca/cms"
)

// cipherAlg is a content-encryption algorithm certgate accepts and answers
// with.
type cipherAlg struct {
	cms.Cipher
	name   string // Cipher.Name(), for comparisons
	oidDER []byte // the OID's encoding, found in BER by envelopeCipher
}

func newCipherAlg(c cms.Cipher) cipherAlg {
	der, err := asn1.Marshal(c.OID())
	if err != nil {
		panic("scep: marshal cipher OID: " + err.Error()) // constant input; cannot fail
	}
	return cipherAlg{Cipher: c, name: c.Name(), oidDER: der}
}

var (
	cipherAES256 = newCipherAlg(cms.AES256CBC)
	cipherAES192 = newCipherAlg(cms.AES192CBC)
	cipherAES128 = newCipherAlg(cms.AES128CBC)
	cipherDES3   = newCipherAlg(cms.DESEDE3CBC)
	// cipherDES is accepted on requests only: Debian's scepclient (micromdm
	// 2.1.0) encrypts with single DES whatever GetCACaps says. We answer
	// such a client with DES-EDE3, which it decrypts, and never emit DES.
	cipherDES = newCipherAlg(cms.DESCBC)
)

// ciphers are the accepted request ciphers. RC2 is deliberately absent.
var ciphers = []cipherAlg{cipherAES256, cipherAES192, cipherAES128, cipherDES3, cipherDES}

// replyCipher is the cipher a CertRep uses for a request encrypted with c.
func replyCipher(c cipherAlg) cipherAlg {
	if c.name == cipherDES.name {
		return cipherDES3
	}
	return c
}

// encryptEnvelope returns a DER ContentInfo holding content encrypted with
// alg to the recipient's RSA key (PKCS#1 v1.5 key transport, which every
// SCEP client implements).
func encryptEnvelope(content []byte, recipient *x509.Certificate, alg cipherAlg) ([]byte, error) {
	env, err := cms.Envelope(content, recipient, alg.Cipher)
	if err != nil {
		return nil, fmt.Errorf("scep: %w", err)
	}
	return env, nil
}
