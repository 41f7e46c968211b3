package adminapi

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"math/big"
	"net/http"
	"slices"
	"strings"

	"github.com/certgate/certgate/store"
)

// Role is what a principal may do; each role includes the ones before it.
type Role int

// Roles, weakest first.
const (
	// Viewer reads, searches and exports.
	Viewer Role = iota + 1
	// Operator also revokes, approves and rejects, and makes challenges.
	Operator
	// Admin also manages tokens and issues test certificates.
	Admin
)

var roleNames = map[Role]string{Viewer: "viewer", Operator: "operator", Admin: "admin"}

func (r Role) String() string { return roleNames[r] }

// ParseRole accepts viewer, operator and admin.
func ParseRole(s string) (Role, error) {
	for r, n := range roleNames {
		if n == s {
			return r, nil
		}
	}
	return 0, errors.New("adminapi: unknown role " + s + " (want viewer, operator or admin)")
}

// AdminCertOrg is the subject O of admin client certificates; their OU is
// the role.
const AdminCertOrg = "certgate admin"

// AdminProfile is the profile name recorded for admin certificates. It
// cannot collide with a configured profile, whose names start with a
// letter or digit.
const AdminProfile = "_admin"

// Principal is who makes a request.
type Principal struct {
	// Name is "token:<name>", "cert:<CN>" or "socket".
	Name string
	Role Role
}

type principalKey struct{}

// withPrincipal and principalFrom carry the caller through the context.
func withPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

func principalFrom(ctx context.Context) Principal {
	p, _ := ctx.Value(principalKey{}).(Principal)
	return p
}

// Authenticator finds the principal of a request.
type Authenticator interface {
	Authenticate(r *http.Request) (Principal, error)
}

// SocketAuth authenticates every caller of the admin unix socket as admin:
// the socket's file mode (0600) is the access control.
type SocketAuth struct{}

// Authenticate implements Authenticator.
func (SocketAuth) Authenticate(*http.Request) (Principal, error) {
	return Principal{Name: "socket", Role: Admin}, nil
}

// TokenStore finds tokens by hash.
type TokenStore interface {
	TokenByHash(ctx context.Context, hash string) (*store.APIToken, error)
}

// TokenHash is how tokens are stored: the hex SHA-256 of the secret.
func TokenHash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// TLSAuth authenticates the TLS listener's callers: a verified admin
// client certificate (chained to the CA by the TLS layer, O "certgate
// admin", not revoked in the store) or a bearer token.
type TLSAuth struct {
	Tokens TokenStore
	Certs  CertRecords
}

// CertRecords is the store lookup TLSAuth uses for admin certificates.
type CertRecords interface {
	Cert(ctx context.Context, serial *big.Int) (*store.CertRecord, error)
}

// Authenticate implements Authenticator.
func (a TLSAuth) Authenticate(r *http.Request) (Principal, error) {
	if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
		return a.fromCert(r.Context(), r.TLS.VerifiedChains[0][0])
	}
	h := r.Header.Get("Authorization")
	if h == "" {
		return Principal{}, errorf(http.StatusUnauthorized, "authentication required: an admin client certificate or Authorization: Bearer <token>")
	}
	scheme, secret, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || secret == "" {
		return Principal{}, errorf(http.StatusUnauthorized, "Authorization must be Bearer <token>")
	}
	t, err := a.Tokens.TokenByHash(r.Context(), TokenHash(strings.TrimSpace(secret)))
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, errorf(http.StatusUnauthorized, "unknown or deleted token")
	}
	if err != nil {
		return Principal{}, &apiError{status: http.StatusServiceUnavailable, msg: "cannot check the token now", err: err}
	}
	role, err := ParseRole(t.Role)
	if err != nil {
		return Principal{}, &apiError{status: http.StatusForbidden, msg: "token has no valid role"}
	}
	return Principal{Name: "token:" + t.Name, Role: role}, nil
}

func (a TLSAuth) fromCert(ctx context.Context, c *x509.Certificate) (Principal, error) {
	if !slices.Contains(c.Subject.Organization, AdminCertOrg) || len(c.Subject.OrganizationalUnit) != 1 {
		return Principal{}, errorf(http.StatusForbidden, "client certificate is not an admin certificate")
	}
	role, err := ParseRole(c.Subject.OrganizationalUnit[0])
	if err != nil {
		return Principal{}, errorf(http.StatusForbidden, "admin certificate names no valid role")
	}
	// The record must say certgate issued it as an admin certificate: a
	// device can put O=certgate admin into its own CSR, but its record
	// names its enrollment profile.
	rec, err := a.Certs.Cert(ctx, c.SerialNumber)
	if err != nil || rec.Status != store.StatusValid || rec.Profile != AdminProfile {
		return Principal{}, errorf(http.StatusForbidden, "admin certificate is revoked or unknown")
	}
	return Principal{Name: "cert:" + c.Subject.CommonName, Role: role}, nil
}

// require wraps h so that it runs only for principals with at least role.
func (s *Server) require(role Role, h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.auth.Authenticate(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		if p.Role < role {
			writeError(w, r, errorf(http.StatusForbidden, "role "+p.Role.String()+" may not do this (needs "+role.String()+")"))
			return
		}
		if err := h(w, r.WithContext(withPrincipal(r.Context(), p))); err != nil {
			writeError(w, r, err)
		}
	})
}
