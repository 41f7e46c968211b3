package local

import (
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/certgate/certgate/ca"
)

// Options configures Load. Zero values take the documented defaults.
type Options struct {
	// Name identifies the CA in records and URLs (/crl/<Name>.crl,
	// /ca/<Name>.crt), so it follows the profile-name rule
	// ^[a-z0-9][a-z0-9_-]{0,63}$. Zero means "certgate".
	Name string
	// PublicURL is the base URL clients reach certgate at, such as
	// http://host:8080; a trailing slash is removed. Issued certificates
	// point their CRL distribution point, OCSP responder and CA issuers
	// URL under it. Zero means certificates carry none of the three,
	// which leaves relying parties no way to check revocation.
	PublicURL string
	// Now is the clock; zero means time.Now.
	Now func() time.Time
}

// nameRE mirrors the profile-name rule: the name is a URL path segment.
var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// CA is the local issuing CA. It implements ca.Issuer and is safe for
// concurrent use.
type CA struct {
	name  string
	cert  *x509.Certificate
	key   *rsa.PrivateKey
	chain []*x509.Certificate // issuers of cert, leaf-first
	now   func() time.Time

	crlURL, ocspURL, issuerURL string
}

var _ ca.Issuer = (*CA)(nil)

// Load opens the CA in dir written by Init or Import. root.crt is
// optional; further certificates after the first in ca.crt are taken as
// the start of the chain.
func Load(dir string, opts Options) (*CA, error) {
	if opts.Name == "" {
		opts.Name = "certgate"
	}
	if !nameRE.MatchString(opts.Name) {
		return nil, fmt.Errorf("ca: local: name %q is not valid (want %s; it is a URL path segment)", opts.Name, nameRE)
	}
	base, err := publicBase(opts.PublicURL)
	if err != nil {
		return nil, err
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	certPath := filepath.Join(dir, caCertFile)
	data, err := os.ReadFile(certPath)
	if err != nil {
		return nil, fmt.Errorf("ca: local: %w", err)
	}
	certs, err := parseCerts(data)
	if err != nil {
		return nil, fmt.Errorf("ca: local: %s: %w", certPath, err)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("ca: local: %s: no CERTIFICATE PEM block", certPath)
	}
	keyPath := filepath.Join(dir, caKeyFile)
	if data, err = os.ReadFile(keyPath); err != nil {
		return nil, fmt.Errorf("ca: local: %w", err)
	}
	signer, err := parsePrivateKey(data, nil)
	if errors.Is(err, ErrPassphraseRequired) {
		return nil, fmt.Errorf("ca: local: %s is encrypted; certgate keeps ca.key unencrypted, so import the key with its passphrase instead", keyPath)
	}
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, keyPath)
	}
	key, err := checkCA(certs[0], signer)
	if err != nil {
		return nil, err
	}
	chain := certs[1:]
	rootPath := filepath.Join(dir, rootCertFile)
	switch data, err = os.ReadFile(rootPath); {
	case err == nil:
		issuers, err := parseCerts(data)
		if err != nil {
			return nil, fmt.Errorf("ca: local: %s: %w", rootPath, err)
		}
		chain = append(chain, issuers...)
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("ca: local: %w", err)
	}
	if err := checkChain(certs[0], chain); err != nil {
		return nil, err
	}
	c := &CA{name: opts.Name, cert: certs[0], key: key, chain: chain, now: opts.Now}
	if base != "" {
		c.crlURL = base + "/crl/" + c.name + ".crl"
		c.ocspURL = base + "/ocsp"
		c.issuerURL = base + "/ca/" + c.name + ".crt"
	}
	return c, nil
}

// publicBase validates PublicURL and strips its trailing slash.
func publicBase(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	s = strings.TrimRight(s, "/")
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("ca: local: public URL %q is not an http(s) base URL like http://host:8080", s)
	}
	return s, nil
}

// Name returns the CA's name.
func (c *CA) Name() string { return c.name }

// Chain returns the issuing CA certificate followed by its issuers up to
// the root, as far as the directory holds them. The slice is the caller's.
func (c *CA) Chain() []*x509.Certificate {
	return append([]*x509.Certificate{c.cert}, c.chain...)
}

// Certificate returns the issuing CA certificate.
func (c *CA) Certificate() *x509.Certificate { return c.cert }

// Root returns the last certificate of Chain: the self-signed root when
// the directory holds it (always after Init), else the topmost issuer
// known, which for a CA imported without its chain is the issuing CA
// itself. It is never nil, so it can always be handed out as the anchor
// to pin.
func (c *CA) Root() *x509.Certificate {
	if len(c.chain) == 0 {
		return c.cert
	}
	return c.chain[len(c.chain)-1]
}

// Signer returns the issuing CA's key, with which the SCEP layer signs
// CertReps. It is an *rsa.PrivateKey.
func (c *CA) Signer() crypto.Signer { return c.key }

// Decrypter returns the same key as a crypto.Decrypter, with which the
// SCEP layer opens the EnvelopedData clients encrypt to the CA.
func (c *CA) Decrypter() crypto.Decrypter { return c.key }

// Fingerprints returns the SHA-256 fingerprints (see Fingerprint) of Root
// and of the issuing CA, for operators to pin in MDM profiles and compare
// with what devices show. They are equal when no chain is known.
func (c *CA) Fingerprints() (root, issuing string) {
	return Fingerprint(c.Root()), Fingerprint(c.cert)
}
