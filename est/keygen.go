package est

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
)

// KeySpec is the key type serverkeygen generates.
type KeySpec struct {
	// Type is "ecdsa" or "rsa".
	Type string
	// Bits is the RSA modulus size: 2048, 3072 or 4096.
	Bits int
	// Curve is the ECDSA curve: "P-256" or "P-384".
	Curve string
}

func (k *KeySpec) check() error {
	switch k.Type {
	case "rsa":
		if k.Bits != 2048 && k.Bits != 3072 && k.Bits != 4096 {
			return fmt.Errorf("server key generation: rsa bits %d not one of 2048, 3072, 4096", k.Bits)
		}
	case "ecdsa":
		if _, err := curve(k.Curve); err != nil {
			return err
		}
	default:
		return fmt.Errorf("server key generation: key type %q is not rsa or ecdsa", k.Type)
	}
	return nil
}

func curve(name string) (elliptic.Curve, error) {
	switch name {
	case "P-256":
		return elliptic.P256(), nil
	case "P-384":
		return elliptic.P384(), nil
	}
	return nil, fmt.Errorf("server key generation: curve %q is not P-256 or P-384", name)
}

// generate makes a key and its PKCS#8 DER encoding.
func (k *KeySpec) generate() (crypto.Signer, []byte, error) {
	var key crypto.Signer
	var err error
	switch k.Type {
	case "rsa":
		key, err = rsa.GenerateKey(rand.Reader, k.Bits)
	default:
		var c elliptic.Curve
		if c, err = curve(k.Curve); err == nil {
			key, err = ecdsa.GenerateKey(c, rand.Reader)
		}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("est: generate key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("est: encode key: %w", err)
	}
	return key, der, nil
}

// resignCSR carries the client's subject and requested extensions over to
// a CSR signed by the generated key, so the enrollment path sees an
// ordinary, self-consistent request. Attributes other than the extension
// request (the challengePassword) are dropped: they were consumed by
// authentication.
func resignCSR(csr *x509.CertificateRequest, key crypto.Signer) ([]byte, error) {
	tpl := &x509.CertificateRequest{
		RawSubject:      csr.RawSubject,
		ExtraExtensions: csr.Extensions,
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, tpl, key)
	if err != nil {
		return nil, fmt.Errorf("est: re-sign CSR: %w", err)
	}
	return der, nil
}
