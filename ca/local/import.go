package local

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Import installs an existing issuing CA in dir: certPEM holds its
// certificate (further certificates in it are taken as the start of its
// chain), keyPEM its key in any format parsePrivateKey reads, encrypted
// with passphrase or not, and chainPEM (optional) its issuers, leaf-first.
//
// The key must be RSA (ErrNotRSA) and match the certificate, the
// certificate must be a CA with keyCertSign and not expired, and each chain
// certificate must have issued the one before. The key is stored
// unencrypted (PKCS#8, mode 0600): the server must start unattended, so the
// directory's permissions are the protection.
//
// Import replaces a CA already in dir, once every check has passed;
// callers that must not (the CLI without --force) check Exists first.
func Import(dir string, certPEM, keyPEM []byte, chainPEM []byte, passphrase []byte) error {
	certs, err := parseCerts(certPEM)
	if err != nil {
		return fmt.Errorf("ca: local: CA certificate: %w", err)
	}
	if len(certs) == 0 {
		return errors.New("ca: local: no CERTIFICATE PEM block in the CA certificate")
	}
	cert := certs[0]
	issuers, err := parseCerts(chainPEM)
	if err != nil {
		return fmt.Errorf("ca: local: chain: %w", err)
	}
	chain := append(certs[1:], issuers...)
	signer, err := parsePrivateKey(keyPEM, passphrase)
	if err != nil {
		return err
	}
	key, err := checkCA(cert, signer)
	if err != nil {
		return err
	}
	if now := time.Now(); now.After(cert.NotAfter) {
		return fmt.Errorf("ca: local: certificate %q expired on %s", cert.Subject, cert.NotAfter.UTC().Format(time.RFC3339))
	}
	if err := checkChain(cert, chain); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("ca: local: %w", err)
	}
	caKeyPEM, err := encodeKeyPEM(key)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(dir, caKeyFile), caKeyPEM, 0o600); err != nil {
		return err
	}
	rootPath := filepath.Join(dir, rootCertFile)
	if len(chain) > 0 {
		if err := writeFileAtomic(rootPath, certsPEM(chain...), 0o644); err != nil {
			return err
		}
	} else if err := os.Remove(rootPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		// A root.crt left by the CA being replaced would be served as
		// this CA's chain.
		return fmt.Errorf("ca: local: %w", err)
	}
	return writeFileAtomic(filepath.Join(dir, caCertFile), certsPEM(cert), 0o644)
}
