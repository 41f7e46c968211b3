package est

import (
	"bytes"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"net/http"

	"github.com/certgate/certgate/ca"
)

// credentials is how a request was authenticated, as enroll needs it.
type credentials struct {
	// challenge goes to the profile's validator.
	challenge string
	// authorizedBy is set when a trusted TLS client certificate
	// authenticated the request; the validator is then skipped.
	authorizedBy string
}

// Channel-binding lengths: tls-unique is the 12-byte TLS 1.2 Finished
// verify_data; tls-exporter (RFC 9266) is 32 bytes.
const (
	tlsUniqueLen   = 12
	tlsExporterLen = 32
)

// bindingState is what the CSR's challengePassword says about channel
// binding.
type bindingState int

const (
	// noBinding: the challengePassword is absent or is not binding-shaped.
	noBinding bindingState = iota
	// bound: it equals one of this session's binding values.
	bound
	// foreignBinding: it has a binding's shape but belongs to another
	// session.
	foreignBinding
)

// channelBinding classifies a challengePassword against the session's
// binding values. Only base64 of exactly 12 or 32 bytes counts as a binding
// shape, so a challenge secret (certgate's are 32 hex characters, which
// decode to 24 bytes) is never mistaken for one.
func channelBinding(cp string, session [][]byte) bindingState {
	if cp == "" {
		return noBinding
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(cp)
	if err != nil || (len(raw) != tlsUniqueLen && len(raw) != tlsExporterLen) {
		return noBinding
	}
	for _, b := range session {
		if len(b) > 0 && subtle.ConstantTimeCompare(raw, b) == 1 {
			return bound
		}
	}
	return foreignBinding
}

// authenticate decides how a simpleenroll or serverkeygen request is
// authenticated (see the package doc for the order).
func (s *Server) authenticate(req *Request, csr *x509.CertificateRequest, p Profile) (credentials, error) {
	cp, err := ca.ChallengePassword(csr)
	if err != nil {
		return credentials{}, errorf(http.StatusBadRequest, "the CSR's attributes are malformed")
	}
	switch channelBinding(cp, req.ChannelBindings) {
	case bound:
		cp = "" // it carried the binding, not a credential
	case foreignBinding:
		return credentials{}, errorf(http.StatusForbidden, "the CSR's challengePassword holds the channel binding of another TLS session")
	default:
		if p.RequireChannelBinding {
			return credentials{}, errorf(http.StatusForbidden, "this profile requires the TLS channel binding (tls-unique or tls-exporter) in the CSR's challengePassword")
		}
	}
	if req.Basic != nil {
		return credentials{challenge: req.Basic.Password}, nil
	}
	if len(req.ClientCerts) > 0 && s.clientCAs != nil {
		if subject, ok := s.trustedClient(req.ClientCerts); ok {
			return credentials{authorizedBy: "tls client certificate " + subject}, nil
		}
	}
	if cp != "" {
		return credentials{challenge: cp}, nil
	}
	return credentials{}, errUnauthenticated
}

// errUnauthenticated asks the client for credentials.
var errUnauthenticated = errorf(http.StatusUnauthorized, "authentication required: HTTP Basic, a TLS client certificate from a trusted issuer, or a challengePassword in the CSR")

// trustedClient verifies the client's certificate chain against the
// trusted client CAs and returns the leaf's subject.
func (s *Server) trustedClient(chain []*x509.Certificate) (string, bool) {
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	_, err := chain[0].Verify(x509.VerifyOptions{
		Roots:         s.clientCAs,
		Intermediates: inter,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return "", false
	}
	return chain[0].Subject.String(), true
}

// sameIdentity reports whether the CSR asks for the subject and
// subjectAltName of the certificate being renewed (RFC 7030 §4.2.2).
// Subjects compare by DER first and by their string form second, since
// clients re-encode strings (PrintableString against UTF8String).
func sameIdentity(csr *x509.CertificateRequest, cert *x509.Certificate) bool {
	if !bytes.Equal(csr.RawSubject, cert.RawSubject) && csr.Subject.String() != cert.Subject.String() {
		return false
	}
	return sameStrings(sanOf(csr.DNSNames, csr.EmailAddresses, csr.IPAddresses, csr.URIs, csr.Extensions),
		sanOf(cert.DNSNames, cert.EmailAddresses, cert.IPAddresses, cert.URIs, cert.Extensions))
}
