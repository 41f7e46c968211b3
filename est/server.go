package est

import (
	"context"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"

	"github.com/smallstep/pkcs7"

	"github.com/certgate/certgate/enroll"
)

// Enroller is the enrollment service as EST uses it.
type Enroller interface {
	Enroll(ctx context.Context, r *enroll.Request) (*enroll.Result, error)
	HasProfile(name string) bool
}

// Profile holds the EST-specific settings of one certificate profile. The
// zero value is a sensible profile: default csrattrs, no server key
// generation, binding optional, re-enrollment by the certificate itself.
type Profile struct {
	// CSRAttrs are the OIDs csrattrs lists; nil means DefaultCSRAttrs.
	CSRAttrs []asn1.ObjectIdentifier
	// ServerKeyGen, when set, enables serverkeygen with this key type.
	ServerKeyGen *KeySpec
	// RequireChannelBinding refuses simpleenroll and serverkeygen requests
	// whose CSR does not carry this TLS session's channel binding.
	RequireChannelBinding bool
	// ReenrollByRegistrar accepts, on simplereenroll, a TLS client
	// certificate from a trusted issuer (a registrar, RFC 9148) instead of
	// the certificate being renewed; the CSR's subject is then not tied to
	// the client certificate's.
	ReenrollByRegistrar bool
	// Chain, set for a profile whose certificates another CA issues (an
	// upstream), returns that CA's chain, issuing CA first: what cacerts
	// serves for the profile instead of Options.CACerts.
	Chain func(ctx context.Context) ([]*x509.Certificate, error)
}

// Options configures a Server.
type Options struct {
	// Enroller decides enrollments. Required.
	Enroller Enroller
	// CACerts is what cacerts serves: the issuing CA, then its issuers up
	// to the root. Required.
	CACerts []*x509.Certificate
	// DefaultProfile serves /.well-known/est/ without a label. Required.
	DefaultProfile string
	// Profiles holds EST settings by profile name; a profile the Enroller
	// knows but this map lacks gets the zero Profile.
	Profiles map[string]Profile
	// TrustedClientCAs are the issuers whose TLS client certificates
	// authenticate simpleenroll and serverkeygen (and registrars on
	// simplereenroll). Nil means client certificates authenticate only
	// simplereenroll, as the certificate being renewed.
	TrustedClientCAs *x509.CertPool
	// MaxBodyBytes caps a request body. Zero means DefaultMaxBodyBytes.
	MaxBodyBytes int64
}

// DefaultMaxBodyBytes caps a request body when none is configured. A
// base64 CSR with an RSA-4096 key and many SANs is well under 16 KiB.
const DefaultMaxBodyBytes = 64 << 10

// Server answers EST operations. Its methods hold the protocol logic and
// are usable without HTTP; Handler adapts it to net/http.
type Server struct {
	enroller       Enroller
	caCerts        []byte // certs-only PKCS#7, DER
	defaultProfile string
	profiles       map[string]Profile
	clientCAs      *x509.CertPool
	maxBody        int64
}

// New checks opts and returns a Server.
func New(opts Options) (*Server, error) {
	if opts.Enroller == nil || len(opts.CACerts) == 0 || opts.DefaultProfile == "" {
		return nil, errors.New("est: enroller, CA certificates and default profile are required")
	}
	if !opts.Enroller.HasProfile(opts.DefaultProfile) {
		return nil, fmt.Errorf("est: default profile %q does not exist", opts.DefaultProfile)
	}
	for name, p := range opts.Profiles {
		if !opts.Enroller.HasProfile(name) {
			return nil, fmt.Errorf("est: settings for unknown profile %q", name)
		}
		if p.ServerKeyGen != nil {
			if err := p.ServerKeyGen.check(); err != nil {
				return nil, fmt.Errorf("est: profile %s: %w", name, err)
			}
		}
		if p.ReenrollByRegistrar && opts.TrustedClientCAs == nil {
			return nil, fmt.Errorf("est: profile %s: re-enrollment by registrar needs trusted client CAs", name)
		}
	}
	caCerts, err := certsOnly(opts.CACerts...)
	if err != nil {
		return nil, err
	}
	maxBody := opts.MaxBodyBytes
	if maxBody <= 0 {
		maxBody = DefaultMaxBodyBytes
	}
	return &Server{
		enroller:       opts.Enroller,
		caCerts:        caCerts,
		defaultProfile: opts.DefaultProfile,
		profiles:       opts.Profiles,
		clientCAs:      opts.TrustedClientCAs,
		maxBody:        maxBody,
	}, nil
}

// CACerts returns the cacerts answer (RFC 7030 §4.1.3) for profile: a
// certs-only PKCS#7, DER (the edge base64-encodes it), of the CA chain
// that issues the profile's certificates: certgate's, or an upstream's
// (Profile.Chain), since that is the chain a client must trust for what
// it enrolls there. An upstream whose chain cannot be had (none cached,
// upstream down) makes it Unavailable, which the edge answers 503.
func (s *Server) CACerts(ctx context.Context, profile string) ([]byte, error) {
	get := s.profiles[profile].Chain
	if get == nil {
		return s.caCerts, nil
	}
	chain, err := get(ctx)
	if err == nil && len(chain) == 0 {
		err = errors.New("the upstream CA sent no certificates")
	}
	if err != nil {
		return nil, &enroll.Failure{Reason: enroll.Unavailable, Detail: "the issuing CA's certificates are not available; try again later", Err: err}
	}
	return certsOnly(chain...)
}

// HasProfile reports whether label names a profile.
func (s *Server) HasProfile(label string) bool { return s.enroller.HasProfile(label) }

func (s *Server) profile(name string) Profile { return s.profiles[name] }

// certsOnly encodes certificates as a degenerate (certs-only) PKCS#7
// SignedData, the container every EST certificate answer uses.
func certsOnly(certs ...*x509.Certificate) ([]byte, error) {
	var raw []byte
	for _, c := range certs {
		raw = append(raw, c.Raw...)
	}
	der, err := pkcs7.DegenerateCertificate(raw)
	if err != nil {
		return nil, fmt.Errorf("est: encode certificates: %w", err)
	}
	return der, nil
}
