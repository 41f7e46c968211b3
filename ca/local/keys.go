package local

import (
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// Key errors, for callers that prompt for a passphrase.
var (
	// ErrPassphraseRequired: the key is encrypted and no passphrase was given.
	ErrPassphraseRequired = errors.New("ca: local: the key is encrypted; a passphrase is required")
	// ErrPassphrase: decryption failed. Padding checks cannot tell a wrong
	// passphrase from a damaged file, so the error names both.
	ErrPassphrase = errors.New("ca: local: wrong passphrase or corrupt key")
	// ErrNotRSA: the CA key is not RSA.
	ErrNotRSA = errors.New("ca: local: the SCEP CA key must be RSA because clients encrypt to it")
)

// parsePrivateKey reads the first private key PEM block in data: PKCS#8
// ("PRIVATE KEY"), PKCS#1 ("RSA PRIVATE KEY") or SEC1 ("EC PRIVATE KEY"),
// each optionally encrypted the legacy OpenSSL way (Proc-Type 4,ENCRYPTED),
// or PKCS#8 PBES2 ("ENCRYPTED PRIVATE KEY"). Other blocks, such as the
// "EC PARAMETERS" openssl ecparam writes first, are skipped.
func parsePrivateKey(data, passphrase []byte) (crypto.Signer, error) {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, errors.New("ca: local: no private key PEM block")
		}
		if strings.HasSuffix(block.Type, "PRIVATE KEY") {
			return parseKeyBlock(block, passphrase)
		}
	}
}

func parseKeyBlock(block *pem.Block, passphrase []byte) (crypto.Signer, error) {
	der, encrypted := block.Bytes, false
	switch {
	case block.Type == "ENCRYPTED PRIVATE KEY":
		if len(passphrase) == 0 {
			return nil, ErrPassphraseRequired
		}
		var err error
		if der, err = decryptPKCS8(der, passphrase); err != nil {
			return nil, err
		}
		encrypted = true
	// Legacy PEM encryption is deprecated as weak (MD5 key derivation, no
	// MAC), but existing CA keys use it and we only ever read it.
	//lint:ignore SA1019 reading legacy-encrypted keys is the point here.
	case x509.IsEncryptedPEMBlock(block):
		if len(passphrase) == 0 {
			return nil, ErrPassphraseRequired
		}
		var err error
		//lint:ignore SA1019 see above.
		if der, err = x509.DecryptPEMBlock(block, passphrase); err != nil {
			if errors.Is(err, x509.IncorrectPasswordError) {
				return nil, ErrPassphrase
			}
			return nil, fmt.Errorf("ca: local: decrypt %s: %w", block.Type, err)
		}
		encrypted = true
	}
	key, err := parseKeyDER(block.Type, der)
	if err != nil {
		if encrypted {
			// The padding happened to check out under a wrong passphrase.
			return nil, ErrPassphrase
		}
		return nil, err
	}
	return key, nil
}

func parseKeyDER(pemType string, der []byte) (crypto.Signer, error) {
	var key any
	var err error
	switch pemType {
	case "PRIVATE KEY", "ENCRYPTED PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(der)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(der)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(der)
	default:
		return nil, fmt.Errorf("ca: local: unsupported PEM block %q", pemType)
	}
	if err != nil {
		return nil, fmt.Errorf("ca: local: parse %s: %w", pemType, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("ca: local: %T is not a signing key", key)
	}
	return signer, nil
}

// checkCA checks that cert and key can act as certgate's issuing CA.
func checkCA(cert *x509.Certificate, key crypto.Signer) (*rsa.PrivateKey, error) {
	rsaKey, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, ErrNotRSA
	}
	if !rsaKey.PublicKey.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("ca: local: the key does not match the certificate %q", cert.Subject)
	}
	if !cert.BasicConstraintsValid || !cert.IsCA {
		return nil, fmt.Errorf("ca: local: certificate %q is not a CA (basicConstraints cA is not set)", cert.Subject)
	}
	if cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, fmt.Errorf("ca: local: certificate %q lacks the keyCertSign key usage", cert.Subject)
	}
	return rsaKey, nil
}

// checkChain checks that each certificate in chain issued the one before
// it, starting with cert: GetCACert and EST cacerts serve it as is.
func checkChain(cert *x509.Certificate, chain []*x509.Certificate) error {
	child := cert
	for i, issuer := range chain {
		if err := child.CheckSignatureFrom(issuer); err != nil {
			return fmt.Errorf("ca: local: chain[%d] %q did not issue %q (want issuers leaf-first): %w", i, issuer.Subject, child.Subject, err)
		}
		child = issuer
	}
	return nil
}
