package upstream

import (
	"bytes"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"github.com/certgate/certgate/ca/cms"
)

// LoadClientCert reads the gateway's TLS client certificate for an EST
// upstream.
//
//   - PEM: certPath holds the certificate, optionally followed by its
//     chain; keyPath holds the key, or is empty when certPath holds it too.
//     Keys may be PKCS#8 ("PRIVATE KEY"), PKCS#1 ("RSA PRIVATE KEY"), SEC1
//     ("EC PRIVATE KEY") or encrypted PKCS#8 ("ENCRYPTED PRIVATE KEY",
//     PBES2 with AES or 3DES, as `openssl pkcs8 -topk8 -v2 aes256` and
//     OpenSSL 3 write it). Legacy OpenSSL encryption (a "Proc-Type:
//     4,ENCRYPTED" header) is refused: it is unauthenticated and derives
//     the key with one round of MD5.
//   - PKCS#12 (.p12/.pfx, detected by not being PEM): certPath alone, with
//     keyPath empty. OpenSSL 3's default (PBES2/AES, HMAC-SHA-256) and the
//     legacy RC2/3DES with SHA-1 (Windows, `openssl pkcs12 -legacy`) are
//     read.
//
// passphrase decrypts an encrypted key or the PKCS#12 file; nil for a
// clear key. The leaf is the certificate matching the key; the others
// follow as the chain sent in the handshake.
func LoadClientCert(certPath, keyPath string, passphrase []byte) (*tls.Certificate, error) {
	certData, err := os.ReadFile(certPath)
	if err != nil {
		return nil, fmt.Errorf("upstream: client certificate: %w", err)
	}
	var (
		key   crypto.PrivateKey
		certs []*x509.Certificate
	)
	if isPEM(certData) {
		keyData := certData
		if keyPath != "" {
			if keyData, err = os.ReadFile(keyPath); err != nil {
				return nil, fmt.Errorf("upstream: client key: %w", err)
			}
		}
		if certs, err = pemCerts(certData); err != nil {
			return nil, fmt.Errorf("upstream: client certificate %s: %w", certPath, err)
		}
		keyFile := keyPath
		if keyFile == "" {
			keyFile = certPath
		}
		if key, err = pemKey(keyData, passphrase); err != nil {
			return nil, fmt.Errorf("upstream: client key %s: %w", keyFile, err)
		}
	} else {
		if keyPath != "" {
			return nil, fmt.Errorf("upstream: client certificate %s: a PKCS#12 file holds the key; keyPath must be empty", certPath)
		}
		if key, certs, err = decodePKCS12(certData, passphrase); err != nil {
			return nil, fmt.Errorf("upstream: client certificate %s: %w", certPath, err)
		}
		if key == nil {
			return nil, fmt.Errorf("upstream: client certificate %s: PKCS#12 file holds no private key", certPath)
		}
		if len(certs) == 0 {
			return nil, fmt.Errorf("upstream: client certificate %s: PKCS#12 file holds no certificate", certPath)
		}
	}
	return assemble(key, certs, certPath)
}

func isPEM(b []byte) bool {
	return bytes.Contains(b, []byte("-----BEGIN "))
}

// assemble puts the certificate for key first.
func assemble(key crypto.PrivateKey, certs []*x509.Certificate, path string) (*tls.Certificate, error) {
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("upstream: client key %s: %T cannot sign", path, key)
	}
	pub, err := x509.MarshalPKIXPublicKey(signer.Public())
	if err != nil {
		return nil, fmt.Errorf("upstream: client key %s: %w", path, err)
	}
	leaf := -1
	for i, c := range certs {
		if bytes.Equal(c.RawSubjectPublicKeyInfo, pub) {
			leaf = i
			break
		}
	}
	if leaf < 0 {
		return nil, fmt.Errorf("upstream: client certificate %s: no certificate matches the private key", path)
	}
	tc := &tls.Certificate{PrivateKey: key, Leaf: certs[leaf]}
	tc.Certificate = append(tc.Certificate, certs[leaf].Raw)
	for i, c := range certs {
		if i != leaf {
			tc.Certificate = append(tc.Certificate, c.Raw)
		}
	}
	return tc, nil
}

func pemCerts(b []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		if block, b = pem.Decode(b); block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("no CERTIFICATE block")
	}
	return certs, nil
}

// pemKey returns the one private key in b.
func pemKey(b, passphrase []byte) (crypto.PrivateKey, error) {
	var key crypto.PrivateKey
	for {
		var block *pem.Block
		if block, b = pem.Decode(b); block == nil {
			break
		}
		var (
			k   crypto.PrivateKey
			err error
		)
		switch block.Type {
		case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY":
			if block.Headers["Proc-Type"] != "" {
				return nil, errors.New("legacy OpenSSL key encryption (Proc-Type header) is not supported; convert with `openssl pkcs8 -topk8 -v2 aes256`")
			}
			k, err = parseKeyDER(block.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			if len(passphrase) == 0 {
				return nil, errors.New("the key is encrypted and no passphrase was given")
			}
			var der []byte
			if der, err = cms.DecryptPKCS8(block.Bytes, passphrase); err != nil {
				return nil, err
			}
			k, err = x509.ParsePKCS8PrivateKey(der)
		default:
			continue
		}
		if err != nil {
			return nil, err
		}
		if key != nil {
			return nil, errors.New("more than one private key")
		}
		key = k
	}
	if key == nil {
		return nil, errors.New("no private key block")
	}
	return key, nil
}

// parseKeyDER reads PKCS#8, PKCS#1 or SEC1, whatever the PEM label says:
// tools mislabel them.
func parseKeyDER(der []byte) (crypto.PrivateKey, error) {
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return k, nil
	}
	return nil, errors.New("not a PKCS#8, PKCS#1 or SEC1 private key")
}
