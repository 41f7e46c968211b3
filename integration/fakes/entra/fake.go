package entra

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"strings"
	"sync"
	"time"

	"github.com/certgate/certgate/integration/fakes/fakehttp"
)

// Audiences of the tokens the fake issues.
const (
	AudienceGraph  = "https://graph.microsoft.com"
	AudienceIntune = "https://api.manage.microsoft.com"
)

// RouteToken names the token endpoint for SetFault and RequestsFor.
const RouteToken = "token"

// DefaultLifetime is expires_in of issued tokens unless SetTokenLifetime
// changes it; it is what Entra usually answers.
const DefaultLifetime = 3599 * time.Second

// Fake is a running fake Entra token endpoint.
type Fake struct {
	*fakehttp.Server

	mu       sync.Mutex
	tenants  map[string]bool
	secrets  map[string]string
	certs    map[string]*x509.Certificate
	lifetime time.Duration
	now      func() time.Time
	tokens   map[string]issued
	counts   map[string]int
}

type issued struct {
	audience string
	expires  time.Time
}

// New starts a fake that knows no tenant and no client; add them with
// AddTenant, AddClient and AddCertClient. Close it when done.
func New() *Fake {
	f := &Fake{
		Server:   fakehttp.New(),
		tenants:  make(map[string]bool),
		secrets:  make(map[string]string),
		certs:    make(map[string]*x509.Certificate),
		lifetime: DefaultLifetime,
		now:      time.Now,
		tokens:   make(map[string]issued),
		counts:   make(map[string]int),
	}
	f.Handle("POST /{tenant}/oauth2/v2.0/token", RouteToken, f.token)
	f.Start()
	return f
}

// AddTenant makes tenant names (GUIDs or domains such as
// contoso.onmicrosoft.com) known. Matching is case-insensitive.
func (f *Fake) AddTenant(names ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, n := range names {
		f.tenants[strings.ToLower(n)] = true
	}
}

// AddClient registers an application that authenticates with secret.
func (f *Fake) AddClient(clientID, secret string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.secrets[clientID] = secret
}

// AddCertClient registers an application that authenticates with a
// client assertion signed by cert's (RSA) key.
func (f *Fake) AddCertClient(clientID string, cert *x509.Certificate) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.certs[clientID] = cert
}

// SetTokenLifetime sets expires_in of the tokens issued from now on.
func (f *Fake) SetTokenLifetime(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lifetime = d
}

// SetClock replaces the fake's clock, which decides when issued tokens
// and client assertions expire; nil restores time.Now.
func (f *Fake) SetClock(now func() time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if now == nil {
		now = time.Now
	}
	f.now = now
}

// TokenURL is the v2.0 token endpoint for tenant.
func (f *Fake) TokenURL(tenant string) string {
	return f.URL() + "/" + tenant + "/oauth2/v2.0/token"
}

// Audience returns the audience of token, and false when the fake did
// not issue it or it has expired (by the fake's clock) or been revoked.
func (f *Fake) Audience(token string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.tokens[token]
	if !ok || !f.now().Before(t.expires) {
		return "", false
	}
	return t.audience, true
}

// TokensIssued returns how many tokens the fake has issued for audience.
func (f *Fake) TokensIssued(audience string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.counts[audience]
}

// RevokeTokens makes every token issued so far invalid, as if the
// application's credentials were rotated.
func (f *Fake) RevokeTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens = make(map[string]issued)
}

// issue mints a token for audience.
func (f *Fake) issue(audience string) (string, time.Duration) {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	tag := "graph"
	if audience == AudienceIntune {
		tag = "intune"
	}
	tok := "fake-" + tag + "-" + hex.EncodeToString(b)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens[tok] = issued{audience: audience, expires: f.now().Add(f.lifetime)}
	f.counts[audience]++
	return tok, f.lifetime
}

// audienceOf maps a requested scope to the audience of the token.
func audienceOf(scope string) (string, bool) {
	switch scope {
	case "https://graph.microsoft.com/.default":
		return AudienceGraph, true
	case "https://api.manage.microsoft.com//.default", "https://api.manage.microsoft.com/.default":
		return AudienceIntune, true
	}
	return "", false
}
