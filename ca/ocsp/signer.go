package ocsp

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"
)

// IssueFunc issues a delegated OCSP responder certificate for key, valid
// for validity, signed by the CA the Signer answers for.
// (*local.CA).IssueOCSPResponder is one.
type IssueFunc func(key crypto.Signer, validity time.Duration) (*x509.Certificate, error)

// DefaultResponderValidity is the life of a delegated responder
// certificate when SignerConfig.ResponderValidity is zero.
const DefaultResponderValidity = 7 * 24 * time.Hour

// SignerConfig configures NewSigner. Exactly one of Key and Issue is set.
type SignerConfig struct {
	// Name is the CA's name as store.CertRecord.Issuer records it; it is
	// also the first part of cache keys, so it follows the CA name rule
	// (^[a-z0-9][a-z0-9_-]{0,63}$). Required.
	Name string
	// Issuer is the CA certificate whose certificates are answered for.
	// Required.
	Issuer *x509.Certificate
	// Key, when set, makes the CA sign responses itself (mode "ca"). It
	// must be Issuer's key. RSA or ECDSA.
	Key crypto.Signer
	// Issue, when set, makes a delegated responder sign responses (RFC
	// 6960 §4.2.2.2): a key generated in memory and a certificate Issue
	// obtains for it, both replaced when half the certificate's life is
	// gone. Neither is persisted: a restart issues a new pair, and
	// responses signed by an earlier one stay verifiable because each
	// carries its responder certificate.
	Issue IssueFunc
	// ResponderValidity is what Issue is asked for. Zero means
	// DefaultResponderValidity; it must be at least twice the
	// responder's Options.Validity, so that a certificate at rotation
	// still outlives every response it signed.
	ResponderValidity time.Duration
	// ResponderKey is the delegated key's algorithm: x509.ECDSA (P-256;
	// the zero value means this) or x509.RSA (2048 bits, for relying
	// parties that cannot verify ECDSA).
	ResponderKey x509.PublicKeyAlgorithm
}

// Signer signs the responses for one CA. It is safe for concurrent use;
// give each Signer to one Responder.
type Signer struct {
	name    string
	issuer  *x509.Certificate
	hashes  issuerHashes
	rotator *rotator // nil in mode "ca"
	caID    identity // mode "ca"
}

// nameRE mirrors local.CA's name rule; '/' must never occur in a name
// because cache keys are "<name>/<serial>".
var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// NewSigner checks cfg and returns its Signer. A delegated Signer has no
// responder certificate until New issues the first one.
func NewSigner(cfg SignerConfig) (*Signer, error) {
	if !nameRE.MatchString(cfg.Name) {
		return nil, fmt.Errorf("ocsp: signer name %q is not valid (want %s)", cfg.Name, nameRE)
	}
	if cfg.Issuer == nil {
		return nil, fmt.Errorf("ocsp: signer %s: no issuer certificate", cfg.Name)
	}
	hashes, err := computeIssuerHashes(cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("ocsp: signer %s: %w", cfg.Name, err)
	}
	s := &Signer{name: cfg.Name, issuer: cfg.Issuer, hashes: hashes}
	switch {
	case (cfg.Key == nil) == (cfg.Issue == nil):
		return nil, fmt.Errorf("ocsp: signer %s: set exactly one of Key (mode ca) and Issue (delegated)", cfg.Name)
	case cfg.Key != nil:
		if err := checkKeyMatches(cfg.Key, cfg.Issuer); err != nil {
			return nil, fmt.Errorf("ocsp: signer %s: %w", cfg.Name, err)
		}
		if _, err := signatureAlgorithm(cfg.Key.Public()); err != nil {
			return nil, fmt.Errorf("ocsp: signer %s: %w", cfg.Name, err)
		}
		s.caID = identity{key: cfg.Key, cert: cfg.Issuer}
	default:
		if cfg.ResponderValidity == 0 {
			cfg.ResponderValidity = DefaultResponderValidity
		}
		if cfg.ResponderValidity < 0 {
			return nil, fmt.Errorf("ocsp: signer %s: ResponderValidity %s is negative", cfg.Name, cfg.ResponderValidity)
		}
		gen, err := keyGenerator(cfg.ResponderKey)
		if err != nil {
			return nil, fmt.Errorf("ocsp: signer %s: %w", cfg.Name, err)
		}
		s.rotator = &rotator{issuer: cfg.Issuer, issue: cfg.Issue, validity: cfg.ResponderValidity, genKey: gen}
	}
	return s, nil
}

// Name returns the CA name the Signer answers for.
func (s *Signer) Name() string { return s.name }

// ResponderCertificate returns the current delegated responder
// certificate, or nil in mode "ca" and before the first one is issued.
func (s *Signer) ResponderCertificate() *x509.Certificate {
	if s.rotator == nil {
		return nil
	}
	id, _ := s.rotator.snapshot()
	return id.cert
}

// identity returns who signs at now, rotating the delegated responder
// when due. rotated reports a new certificate, for the log.
func (s *Signer) identity(now time.Time) (id identity, rotated bool, err error) {
	if s.rotator == nil {
		return s.caID, false, nil
	}
	return s.rotator.current(now)
}

// notAfter bounds a response's nextUpdate: a response must not outlive the
// certificate that verifies it.
func (s *Signer) notAfter(id identity) time.Time {
	if id.cert.NotAfter.Before(s.issuer.NotAfter) {
		return id.cert.NotAfter
	}
	return s.issuer.NotAfter
}

func checkKeyMatches(key crypto.Signer, cert *x509.Certificate) error {
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return errors.New("the key is not the issuer certificate's")
	}
	return nil
}

// rotationRetry spaces attempts to replace a responder certificate after
// a failure, so a broken CA does not cost a failed issuance per request.
const rotationRetry = time.Minute

// rotator keeps a delegated responder's key and certificate current.
type rotator struct {
	issuer   *x509.Certificate
	issue    IssueFunc
	validity time.Duration
	genKey   func() (crypto.Signer, error)

	mu          sync.RWMutex
	id          identity
	rotateAt    time.Time // half the certificate's life
	nextAttempt time.Time
}

func (r *rotator) snapshot() (identity, time.Time) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.id, r.rotateAt
}

// current returns the identity to sign with at now. A failed rotation
// keeps the old certificate while it is still valid.
func (r *rotator) current(now time.Time) (identity, bool, error) {
	if id, at := r.snapshot(); id.cert != nil && now.Before(at) {
		return id, false, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.id.cert != nil && now.Before(r.rotateAt) {
		return r.id, false, nil // another caller rotated meanwhile
	}
	if now.Before(r.nextAttempt) {
		return r.fallback(now, errors.New("ocsp: responder rotation failed recently"))
	}
	id, err := r.issueNew()
	if err != nil {
		r.nextAttempt = now.Add(rotationRetry)
		return r.fallback(now, err)
	}
	r.id = id
	r.rotateAt = id.cert.NotBefore.Add(id.cert.NotAfter.Sub(id.cert.NotBefore) / 2)
	r.nextAttempt = time.Time{}
	return id, true, nil
}

// fallback serves the old identity while its certificate is valid.
func (r *rotator) fallback(now time.Time, err error) (identity, bool, error) {
	if r.id.cert != nil && now.Before(r.id.cert.NotAfter) {
		return r.id, false, nil
	}
	return identity{}, false, err
}

// issueNew generates a key and has the CA certify it, then checks that the
// certificate is what RFC 6960 §4.2.2.2 needs, so a mis-wired IssueFunc
// fails here and not in every relying party.
func (r *rotator) issueNew() (identity, error) {
	key, err := r.genKey()
	if err != nil {
		return identity{}, fmt.Errorf("ocsp: responder key: %w", err)
	}
	cert, err := r.issue(key, r.validity)
	if err != nil {
		return identity{}, fmt.Errorf("ocsp: issue responder certificate: %w", err)
	}
	if err := checkKeyMatches(key, cert); err != nil {
		return identity{}, fmt.Errorf("ocsp: responder certificate: %w", err)
	}
	if !bytes.Equal(cert.RawIssuer, r.issuer.RawSubject) || cert.CheckSignatureFrom(r.issuer) != nil {
		return identity{}, errors.New("ocsp: responder certificate is not signed by the issuer it answers for")
	}
	if !hasOCSPSigning(cert) {
		return identity{}, errors.New("ocsp: responder certificate lacks extKeyUsage OCSPSigning")
	}
	return identity{key: key, cert: cert, delegated: true}, nil
}

func hasOCSPSigning(cert *x509.Certificate) bool {
	for _, u := range cert.ExtKeyUsage {
		if u == x509.ExtKeyUsageOCSPSigning {
			return true
		}
	}
	return false
}
