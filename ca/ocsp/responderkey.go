package ocsp

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
)

// responderRSABits is the delegated RSA key size: the responder key lives
// a week, so the 2048-bit minimum of the CA/Browser baseline is enough
// and keeps each signature cheap.
const responderRSABits = 2048

// keyGenerator returns the delegated responder's key generator for alg.
func keyGenerator(alg x509.PublicKeyAlgorithm) (func() (crypto.Signer, error), error) {
	switch alg {
	case x509.UnknownPublicKeyAlgorithm, x509.ECDSA:
		return func() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }, nil
	case x509.RSA:
		return func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, responderRSABits) }, nil
	}
	return nil, fmt.Errorf("ResponderKey %s is not supported (ECDSA, RSA)", alg)
}
