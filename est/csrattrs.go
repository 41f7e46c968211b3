package est

import (
	"encoding/asn1"
	"fmt"
)

// Object identifiers csrattrs lists by default.
var (
	// OIDChallengePassword (PKCS#9) tells a client to put this session's
	// channel binding in the CSR (RFC 7030 §3.5, §4.5.2).
	OIDChallengePassword = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 7}
	// OIDSHA256WithRSA asks for a SHA-256 RSA signature on the CSR.
	OIDSHA256WithRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
)

// DefaultCSRAttrs is what csrattrs lists for a profile without its own
// list.
var DefaultCSRAttrs = []asn1.ObjectIdentifier{OIDChallengePassword, OIDSHA256WithRSA}

// CSRAttrs returns the csrattrs answer for profile (RFC 7030 §4.5.2): a
// DER CsrAttrs, a SEQUENCE of AttrOrOID where every entry is an OID. A
// profile with an empty (non-nil) list yields an empty body, which the edge
// answers with 204 No Content.
func (s *Server) CSRAttrs(profile string) ([]byte, error) {
	oids := s.profile(profile).CSRAttrs
	if oids == nil {
		oids = DefaultCSRAttrs
	}
	if len(oids) == 0 {
		return nil, nil
	}
	der, err := asn1.Marshal(oids)
	if err != nil {
		return nil, fmt.Errorf("est: encode csrattrs: %w", err)
	}
	return der, nil
}
