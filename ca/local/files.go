package local

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// File names inside a CA directory.
const (
	rootCertFile = "root.crt"
	rootKeyFile  = "root.key"
	caCertFile   = "ca.crt"
	caKeyFile    = "ca.key"
)

// Exists reports whether dir holds an issuing CA (ca.crt and ca.key).
func Exists(dir string) bool {
	for _, name := range []string{caCertFile, caKeyFile} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return false
		}
	}
	return true
}

// refuseExisting returns an error naming ca.crt if it exists, so neither
// Init nor Import replaces a CA whose certificates are already out there.
func refuseExisting(dir string) error {
	path := filepath.Join(dir, caCertFile)
	_, err := os.Lstat(path)
	if err == nil {
		return fmt.Errorf("ca: local: %s already exists; refusing to replace the CA", path)
	}
	if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("ca: local: %w", err)
	}
	return nil
}

// writeFileAtomic replaces path with data so that a crash leaves the old
// file or the new one, never a torn one: temp file in the same directory,
// fsync, rename, fsync the directory.
func writeFileAtomic(path string, data []byte, mode os.FileMode) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("ca: local: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if err = f.Chmod(mode); err != nil {
		return fmt.Errorf("ca: local: %w", err)
	}
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("ca: local: %w", err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("ca: local: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("ca: local: %w", err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("ca: local: %w", err)
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("ca: local: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("ca: local: sync %s: %w", dir, err)
	}
	return nil
}

func certsPEM(certs ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

func encodeKeyPEM(key any) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("ca: local: marshal key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// parseCerts returns every CERTIFICATE block in data, in order, and
// ignores other blocks and text (openssl puts "subject=" lines in bundles).
func parseCerts(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return certs, nil
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %w", len(certs), err)
		}
		certs = append(certs, c)
	}
}
