package local

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"
)

// IssueTLSServer signs the TLS server certificate of the gateway's own EST
// listener for key: extKeyUsage serverAuth, the hosts as DNS or IP
// subjectAltNames (the first is also the CN), valid from 5 minutes ago for
// validity, clamped to the CA's own validity.
//
// Like the OCSP responder certificate it is infrastructure, not an
// enrollment, and is not recorded in the store: the gateway re-issues it
// from its files on every start when it nears expiry or the host list
// changes, and operators who need a revocable server certificate configure
// their own (est.cert_file).
func (c *CA) IssueTLSServer(key crypto.Signer, hosts []string, validity time.Duration) (*x509.Certificate, error) {
	if len(hosts) == 0 {
		return nil, errors.New("ca: local: tls server: no host names")
	}
	tpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: hosts[0]},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if len(tpl.Subject.CommonName) > maxCNLen {
		tpl.Subject.CommonName = c.name + " EST"
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tpl.IPAddresses = append(tpl.IPAddresses, ip)
		} else {
			tpl.DNSNames = append(tpl.DNSNames, h)
		}
	}
	if key == nil {
		return nil, errors.New("ca: local: tls server: nil key")
	}
	return c.issueInternal("tls server", key.Public(), validity, tpl)
}

// TLS server files in the directory ServerTLS manages.
const (
	tlsCertFile = "tls.crt"
	tlsKeyFile  = "tls.key"
)

// ServerTLS returns the EST listener's server certificate kept in dir
// (tls.crt: leaf then CA chain; tls.key: ECDSA P-256, PKCS#8, 0600). It
// reuses the files while the certificate chains to this CA, names every
// host and has more than a third of its life left; otherwise it issues a
// new key and certificate and replaces the files (key first, certificate
// last, each atomically). issued reports whether it did.
func (c *CA) ServerTLS(dir string, hosts []string, validity time.Duration) (cert *tls.Certificate, issued bool, err error) {
	if cur, err := c.loadServerTLS(dir, hosts); err == nil {
		return cur, false, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false, fmt.Errorf("ca: local: tls server: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, false, fmt.Errorf("ca: local: tls server: %w", err)
	}
	leaf, err := c.IssueTLSServer(key, hosts, validity)
	if err != nil {
		return nil, false, err
	}
	keyPEM, err := encodeKeyPEM(key)
	if err != nil {
		return nil, false, err
	}
	if err := writeFileAtomic(filepath.Join(dir, tlsKeyFile), keyPEM, 0o600); err != nil {
		return nil, false, err
	}
	chain := append([]*x509.Certificate{leaf}, c.Chain()...)
	if err := writeFileAtomic(filepath.Join(dir, tlsCertFile), certsPEM(chain...), 0o644); err != nil {
		return nil, false, err
	}
	return tlsCertificate(chain, key), true, nil
}

// errStale says the stored server certificate must be replaced.
var errStale = errors.New("ca: local: tls server certificate must be replaced")

func (c *CA) loadServerTLS(dir string, hosts []string) (*tls.Certificate, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, tlsCertFile))
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, tlsKeyFile))
	if err != nil {
		return nil, err
	}
	certs, err := parseCerts(certPEM)
	if err != nil || len(certs) == 0 {
		return nil, errStale
	}
	key, err := parsePrivateKey(keyPEM, nil)
	if err != nil {
		return nil, errStale
	}
	leaf := certs[0]
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(leaf.PublicKey) || leaf.CheckSignatureFrom(c.cert) != nil {
		return nil, errStale
	}
	lifetime := leaf.NotAfter.Sub(leaf.NotBefore)
	if c.now().After(leaf.NotAfter.Add(-lifetime / 3)) {
		return nil, errStale
	}
	for _, h := range hosts {
		if leaf.VerifyHostname(h) != nil {
			return nil, errStale
		}
	}
	return tlsCertificate(append([]*x509.Certificate{leaf}, c.Chain()...), key), nil
}

func tlsCertificate(chain []*x509.Certificate, key crypto.Signer) *tls.Certificate {
	out := &tls.Certificate{PrivateKey: key, Leaf: chain[0]}
	for _, c := range chain {
		out.Certificate = append(out.Certificate, c.Raw)
	}
	return out
}
