package local

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/certgate/certgate/ca"
)

// InitOptions configures Init. Zero values take the documented defaults.
type InitOptions struct {
	// CommonName prefixes the CA names: "<CommonName> Root CA" and
	// "<CommonName> Issuing CA". Zero means "certgate".
	CommonName string
	// RootBits is the root's RSA modulus size. Zero means 4096; at least
	// 2048. The root signs rarely, so size costs little.
	RootBits int
	// Bits is the issuing CA's RSA modulus size. Zero means 3072 (128-bit
	// security, NIST SP 800-57); at least 2048. It signs every certificate
	// and decrypts every SCEP request, so each step up costs throughput.
	Bits int
	// Force replaces an existing CA. Certificates it issued stop chaining
	// to anything clients are given.
	Force bool
}

// Lifetimes of the generated CA certificates; the intermediate's is half
// the root's so the root outlives every certificate under it.
const (
	rootYears = 20
	caYears   = 10
	// caBackdate starts CA validity two days early, the most a profile may
	// backdate a leaf, so leaf notBefore never precedes its issuer's.
	caBackdate = 48 * time.Hour
	// maxCNLen is the X.520 upper bound on a common name.
	maxCNLen = 64
)

// Init creates a CA in dir: a self-signed RSA root and an RSA intermediate
// it signs, which is the issuing and SCEP CA (see the package doc for the
// files written). It refuses to replace an existing ca.crt unless
// opts.Force is set.
func Init(dir string, opts InitOptions) error {
	if opts.CommonName == "" {
		opts.CommonName = "certgate"
	}
	if opts.RootBits == 0 {
		opts.RootBits = 4096
	}
	if opts.Bits == 0 {
		opts.Bits = 3072
	}
	for _, b := range []struct {
		name string
		bits int
	}{{"RootBits", opts.RootBits}, {"Bits", opts.Bits}} {
		if b.bits < 2048 || b.bits > 16384 {
			return fmt.Errorf("ca: local: %s %d out of range 2048..16384", b.name, b.bits)
		}
	}
	if n := len(opts.CommonName + " Issuing CA"); n > maxCNLen {
		return fmt.Errorf("ca: local: CommonName %q too long: %q would be %d characters, the limit is %d", opts.CommonName, opts.CommonName+" Issuing CA", n, maxCNLen)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("ca: local: %w", err)
	}
	if !opts.Force {
		if err := refuseExisting(dir); err != nil {
			return err
		}
	}

	now := time.Now()
	rootKey, err := rsa.GenerateKey(rand.Reader, opts.RootBits)
	if err != nil {
		return fmt.Errorf("ca: local: root key: %w", err)
	}
	root, err := createCA(&x509.Certificate{
		Subject:    pkix.Name{CommonName: opts.CommonName + " Root CA"},
		NotBefore:  now.Add(-caBackdate),
		NotAfter:   now.AddDate(rootYears, 0, 0),
		KeyUsage:   x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		MaxPathLen: 1,
	}, rootKey, nil, rootKey)
	if err != nil {
		return err
	}
	key, err := rsa.GenerateKey(rand.Reader, opts.Bits)
	if err != nil {
		return fmt.Errorf("ca: local: issuing CA key: %w", err)
	}
	cert, err := createCA(&x509.Certificate{
		Subject:   pkix.Name{CommonName: opts.CommonName + " Issuing CA"},
		NotBefore: now.Add(-caBackdate),
		NotAfter:  now.AddDate(caYears, 0, 0),
		// digitalSignature signs CertReps, keyEncipherment receives the
		// SCEP clients' content-encryption keys; see the package doc.
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign |
			x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		MaxPathLen:     0,
		MaxPathLenZero: true,
	}, key, root, rootKey)
	if err != nil {
		return err
	}

	rootKeyPEM, err := encodeKeyPEM(rootKey)
	if err != nil {
		return err
	}
	caKeyPEM, err := encodeKeyPEM(key)
	if err != nil {
		return err
	}
	// ca.crt goes last: its presence is what marks the CA complete.
	for _, f := range []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{rootKeyFile, rootKeyPEM, 0o600},
		{rootCertFile, certsPEM(root), 0o644},
		{caKeyFile, caKeyPEM, 0o600},
		{caCertFile, certsPEM(cert), 0o644},
	} {
		if err := writeFileAtomic(filepath.Join(dir, f.name), f.data, f.mode); err != nil {
			return err
		}
	}
	return nil
}

// createCA completes tpl as a CA certificate for key, signed by parent
// (nil: self-signed) with parentKey.
func createCA(tpl *x509.Certificate, key *rsa.PrivateKey, parent *x509.Certificate, parentKey *rsa.PrivateKey) (*x509.Certificate, error) {
	serial, err := randomSerial(rand.Reader)
	if err != nil {
		return nil, err
	}
	spki, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("ca: local: %w", err)
	}
	if tpl.SubjectKeyId, err = ca.SubjectKeyID(spki); err != nil {
		return nil, err
	}
	tpl.SerialNumber = serial
	tpl.IsCA, tpl.BasicConstraintsValid = true, true
	tpl.SignatureAlgorithm = x509.SHA256WithRSA
	if parent == nil {
		parent = tpl
	} else if tpl.NotAfter.After(parent.NotAfter) {
		tpl.NotAfter = parent.NotAfter
	}
	// x509 sets the authority key identifier from parent.SubjectKeyId when
	// the issuer differs from the subject (RFC 5280 §4.2.1.1).
	der, err := x509.CreateCertificate(rand.Reader, tpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		return nil, fmt.Errorf("ca: local: create %q: %w", tpl.Subject.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("ca: local: parse %q: %w", tpl.Subject.CommonName, err)
	}
	return cert, nil
}
