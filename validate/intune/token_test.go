package intune_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certgate/certgate/integration/fakes/entra"
	"github.com/certgate/certgate/integration/fakes/fakehttp"
	fakeintune "github.com/certgate/certgate/integration/fakes/intune"
	"github.com/certgate/certgate/validate/intune"
)

// Tokens are reused across calls, and a token reaching its refresh time
// while many enrollments run is fetched again exactly once.
func TestTokenCachedAndRefreshedOnce(t *testing.T) {
	e := newEnv(t, nil)
	e.cloud.Entra.SetTokenLifetime(time.Hour) // refreshed 5 min before expiry
	e.cloud.Intune.AllowChallenge("chal", fakeintune.Challenge{})
	ctx := context.Background()
	for i := range 3 {
		if _, err := e.v.Validate(ctx, request(t, "chal", "tx")); err != nil {
			t.Fatalf("Validate %d: %v", i, err)
		}
	}
	if g, i := e.cloud.Entra.TokensIssued(entra.AudienceGraph), e.cloud.Entra.TokensIssued(entra.AudienceIntune); g != 1 || i != 1 {
		t.Fatalf("tokens issued graph=%d intune=%d after 3 calls, want 1 and 1", g, i)
	}

	// Past the refresh point but before expiry: every caller wants a new
	// token at once. Hold the token endpoint so that callers pile up on
	// the one refresh in flight.
	e.clock.Advance(56 * time.Minute)
	release := make(chan struct{})
	e.cloud.Entra.SetFault(entra.RouteToken, fakehttp.Fault{Times: 1, Wait: release})
	const callers = 20
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		r := request(t, "chal", "tx")
		wg.Go(func() {
			_, err := e.v.Validate(ctx, r)
			errs <- err
		})
	}
	for e.cloud.Entra.Count(entra.RouteToken) < 3 {
		runtime.Gosched() // the refresh has reached the fake and is held
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Validate: %v", err)
		}
	}
	if n := e.cloud.Entra.TokensIssued(entra.AudienceIntune); n != 2 {
		t.Errorf("Intune tokens issued = %d, want 2 (one refresh for %d callers)", n, callers)
	}
	if n := e.cloud.Entra.TokensIssued(entra.AudienceGraph); n != 1 {
		t.Errorf("Graph tokens issued = %d, want 1 (discovery is cached)", n)
	}
	if n := e.cloud.Intune.Count(fakeintune.RouteValidate); n != 3+callers {
		t.Errorf("validateRequest calls = %d, want %d", n, 3+callers)
	}
}

// When Entra fails at refresh time, a token that has not yet expired
// keeps working; once it has expired, calls fail closed.
func TestTokenRefreshFailure(t *testing.T) {
	e := newEnv(t, nil)
	e.cloud.Entra.SetTokenLifetime(time.Hour)
	e.cloud.Intune.AllowChallenge("chal", fakeintune.Challenge{})
	ctx := context.Background()
	if _, err := e.v.Validate(ctx, request(t, "chal", "tx")); err != nil {
		t.Fatal(err)
	}
	e.cloud.Entra.SetFault(entra.RouteToken, fakehttp.HTML(503))
	e.clock.Advance(58 * time.Minute)
	if _, err := e.v.Validate(ctx, request(t, "chal", "tx")); err != nil {
		t.Fatalf("Validate with Entra down and a token still valid: %v", err)
	}
	e.clock.Advance(3 * time.Minute) // past expiry
	_, err := e.v.Validate(ctx, request(t, "chal", "tx"))
	if err == nil || !strings.Contains(err.Error(), "intune: token for intune: HTTP 503") {
		t.Fatalf("Validate with an expired token and Entra down = %v, want the token error", err)
	}
	e.assertNoSecret(t, err)
}

// A token Intune refuses (401) is dropped, so the next call gets a new
// one instead of failing until the old one expires.
func TestTokenDroppedOn401(t *testing.T) {
	e := newEnv(t, nil)
	e.cloud.Intune.AllowChallenge("chal", fakeintune.Challenge{})
	ctx := context.Background()
	if _, err := e.v.Validate(ctx, request(t, "chal", "tx")); err != nil {
		t.Fatal(err)
	}
	e.cloud.Entra.RevokeTokens()
	_, err := e.v.Validate(ctx, request(t, "chal", "tx"))
	if err == nil || !strings.Contains(err.Error(), "HTTP 401") {
		t.Fatalf("Validate with a revoked token = %v, want HTTP 401", err)
	}
	if _, err := e.v.Validate(ctx, request(t, "chal", "tx")); err != nil {
		t.Fatalf("Validate after the 401: %v", err)
	}
	if n := e.cloud.Entra.TokensIssued(entra.AudienceIntune); n != 2 {
		t.Errorf("Intune tokens issued = %d, want 2", n)
	}
}

// selfSigned returns an RSA key and a certificate for it.
func selfSigned(t *testing.T) (*rsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "certgate app"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return key, cert
}

func TestCertificateCredential(t *testing.T) {
	key, cert := selfSigned(t)
	_, otherCert := selfSigned(t)
	tests := []struct {
		name       string
		registered *x509.Certificate
		want       string
	}{
		{"ok/registered certificate", cert, ""},
		{"fail/other certificate registered", otherCert, "intune: token for graph: HTTP 401: invalid_client (AADSTS700027)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const appID = "cert-app"
			e := newEnv(t, func(c *intune.Config) {
				c.ClientID, c.ClientSecret, c.ClientCertificate, c.ClientKey = appID, "", cert, key
			})
			e.cloud.Entra.AddCertClient(appID, tt.registered)
			e.cloud.Intune.AllowChallenge("chal", fakeintune.Challenge{})
			_, err := e.v.Validate(context.Background(), request(t, "chal", "tx"))
			for _, r := range e.cloud.Entra.RequestsFor(entra.RouteToken) {
				if r.Form.Has("client_secret") || r.Form.Get("client_assertion") == "" {
					t.Errorf("token request form %v, want an assertion and no secret", r.Form)
				}
			}
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("Validate = %v, want %q", err, tt.want)
			}
		})
	}
}
