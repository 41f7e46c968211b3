package adminapi

import (
	"context"
	"errors"
	"math/big"
	"net/http"
	"time"

	"github.com/certgate/certgate/store"
)

// Store is what the API reads and writes.
type Store interface {
	Search(ctx context.Context, q store.Query) ([]*store.CertRecord, error)
	Cert(ctx context.Context, serial *big.Int) (*store.CertRecord, error)
	SearchRequests(ctx context.Context, q store.RequestQuery) ([]*store.PendingRequest, error)
	Request(ctx context.Context, id string) (*store.PendingRequest, error)
	DecideRequest(ctx context.Context, id string, approve bool, by, reason string, at time.Time) (*store.PendingRequest, error)
	PutChallenge(ctx context.Context, c *store.Challenge) error
	RotateStaticSecret(ctx context.Context, profile, hash string, retire []string, graceUntil, now time.Time) error
	PutToken(ctx context.Context, t *store.APIToken) error
	ListTokens(ctx context.Context) ([]*store.APIToken, error)
	DeleteToken(ctx context.Context, id string) error
}

// Revoker revokes and keeps OCSP and CRLs in step (never the bare store).
type Revoker interface {
	Revoke(ctx context.Context, serial *big.Int, reason int, at time.Time) (*store.CertRecord, error)
	// ReleaseHold makes a certificate on certificateHold valid again;
	// store.ErrConflict when it is not on hold.
	ReleaseHold(ctx context.Context, serial *big.Int) (*store.CertRecord, error)
}

// TestIssuer issues a short-lived test certificate through a profile's
// whole enrollment path, validator bypassed, flagged as a test; it returns
// the certificate's record and the PEM private key.
type TestIssuer interface {
	IssueTest(ctx context.Context, profile, by string) (*store.CertRecord, []byte, error)
}

// ProfileInfo is what the API needs to know of a profile.
type ProfileInfo struct {
	// OneTime: the profile accepts one-time challenges.
	OneTime bool
	// OneTimeTTL is the default challenge lifetime.
	OneTimeTTL time.Duration
	// Static: the profile takes static challenges, which can be rotated;
	// StaticHashes are the config's (hex SHA-256), retired by a rotation.
	Static       bool
	StaticHashes []string
}

// Options configures a Server.
type Options struct {
	Store    Store
	Revoker  Revoker
	Auth     Authenticator
	Profiles map[string]ProfileInfo
	// TestIssuer; nil answers test-certificate with 501.
	TestIssuer TestIssuer
	// AdminCerts; nil answers admin-certificates with 501.
	AdminCerts AdminCertIssuer
	// Keys opens escrowed keys; nil answers recover-key with 501.
	Keys KeyRecoverer
	// Now; nil means time.Now.
	Now func() time.Time
}

// Server serves /api/v1/.
type Server struct {
	st       Store
	revoker  Revoker
	auth     Authenticator
	profiles map[string]ProfileInfo
	tester   TestIssuer
	admins   AdminCertIssuer
	keys     KeyRecoverer
	now      func() time.Time
}

// New checks opts and returns a Server.
func New(opts Options) (*Server, error) {
	if opts.Store == nil || opts.Revoker == nil || opts.Auth == nil {
		return nil, errors.New("adminapi: store, revoker and authenticator are required")
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Server{st: opts.Store, revoker: opts.Revoker, auth: opts.Auth, profiles: opts.Profiles, tester: opts.TestIssuer, admins: opts.AdminCerts, keys: opts.Keys, now: now}, nil
}

// Route is one API route.
type Route struct {
	Method, Path string
	Role         Role
	handle       func(*Server, http.ResponseWriter, *http.Request) error
}

// Routes lists every route; openapi.yaml must document exactly these.
func Routes() []Route {
	return []Route{
		{"GET", "/api/v1/certificates", Viewer, (*Server).listCerts},
		{"GET", "/api/v1/certificates.csv", Viewer, (*Server).exportCSV},
		{"GET", "/api/v1/certificates/{serial}", Viewer, (*Server).getCert},
		{"POST", "/api/v1/certificates/{serial}/revoke", Operator, (*Server).revokeOne},
		{"POST", "/api/v1/certificates/{serial}/release-hold", Operator, (*Server).releaseHold},
		{"POST", "/api/v1/certificates/revoke", Operator, (*Server).revokeBulk},
		{"POST", "/api/v1/certificates/{serial}/recover-key", Admin, (*Server).recoverKey},
		{"GET", "/api/v1/requests", Viewer, (*Server).listRequests},
		{"GET", "/api/v1/requests/{id}", Viewer, (*Server).getRequest},
		{"POST", "/api/v1/requests/{id}/approve", Operator, (*Server).approve},
		{"POST", "/api/v1/requests/{id}/reject", Operator, (*Server).reject},
		{"POST", "/api/v1/profiles/{name}/challenges", Operator, (*Server).newChallenge},
		{"PUT", "/api/v1/profiles/{name}/static-challenge", Operator, (*Server).rotateStatic},
		{"POST", "/api/v1/profiles/{name}/test-certificate", Admin, (*Server).testCertificate},
		{"GET", "/api/v1/stats", Viewer, (*Server).stats},
		{"GET", "/api/v1/tokens", Admin, (*Server).listTokens},
		{"POST", "/api/v1/tokens", Admin, (*Server).newToken},
		{"DELETE", "/api/v1/tokens/{id}", Admin, (*Server).deleteToken},
		{"POST", "/api/v1/admin-certificates", Admin, (*Server).newAdminCert},
	}
}

// Handler returns the API's handler; mount it at /api/v1/.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range Routes() {
		handle := rt.handle
		mux.Handle(rt.Method+" "+rt.Path, s.require(rt.Role, func(w http.ResponseWriter, r *http.Request) error {
			return handle(s, w, r)
		}))
	}
	mux.HandleFunc("GET /api/v1/openapi.yaml", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		_, _ = w.Write(OpenAPI)
	})
	mux.HandleFunc("/api/v1/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, errorf(http.StatusNotFound, "no such route: "+r.Method+" "+r.URL.Path))
	})
	return mux
}
