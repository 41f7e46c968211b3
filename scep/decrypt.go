package scep

import (
	"crypto"
	"crypto/x509"
	"fmt"

	"github.com/smallstep/pkcs7"

	"github.com/certgate/certgate/ca/cms"
)

// openEnvelope decrypts a pkcsPKIEnvelope. smallstep/pkcs7 does the work
// (it also copes with BER from OpenSSL-based clients) for every cipher it
// knows; AES-192-CBC, which it lacks, is opened here from DER.
func openEnvelope(envelope []byte, alg cipherAlg, raCert *x509.Certificate, raKey crypto.Decrypter) ([]byte, error) {
	if alg.name == cipherAES192.name {
		content, err := cms.Open(envelope, raCert, raKey)
		if err != nil {
			return nil, fmt.Errorf("scep: %w", err)
		}
		return content, nil
	}
	env, err := pkcs7.Parse(envelope)
	if err != nil {
		return nil, fmt.Errorf("scep: envelope: %w", err)
	}
	return env.Decrypt(raCert, raKey)
}
