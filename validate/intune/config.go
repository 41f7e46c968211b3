package intune

import (
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of Config, for the global (commercial) Microsoft cloud.
const (
	DefaultAuthorityURL = "https://login.microsoftonline.com/"
	DefaultGraphURL     = "https://graph.microsoft.com/"
	DefaultGraphScope   = "https://graph.microsoft.com/.default"
	// DefaultIntuneScope keeps the reference library's double slash
	// (resource "https://api.manage.microsoft.com/" + "/.default").
	DefaultIntuneScope = "https://api.manage.microsoft.com//.default"
	DefaultTimeout     = 30 * time.Second
	DefaultCallerInfo  = "certgate"
)

// Config configures a Validator. Zero values take the documented
// defaults, so only TenantID, ClientID and one credential are required.
type Config struct {
	// TenantID is the Entra tenant, a GUID or a domain such as
	// contoso.onmicrosoft.com. Required.
	TenantID string
	// ClientID is the application (client) ID of the app registration
	// holding the scep_challenge_provider and Application.Read.All
	// permissions. Required.
	ClientID string
	// ClientSecret authenticates the app. Exactly one of ClientSecret and
	// ClientCertificate/ClientKey must be set.
	ClientSecret string
	// ClientCertificate and ClientKey authenticate the app with a signed
	// client assertion instead of a secret; the key must be RSA, as Entra
	// requires.
	ClientCertificate *x509.Certificate
	ClientKey         crypto.Signer

	// AuthorityURL is the Entra login base, with the tenant appended;
	// zero means DefaultAuthorityURL. National clouds and fakes set it.
	AuthorityURL string
	// GraphURL is the Microsoft Graph base; zero means DefaultGraphURL.
	GraphURL string
	// GraphScope and IntuneScope are the scopes requested for the two
	// token audiences; zero means DefaultGraphScope / DefaultIntuneScope.
	// They differ from the URLs in national clouds and stay the global
	// values against the fakes.
	GraphScope  string
	IntuneScope string

	// Timeout bounds each call (validation, notification, revocation
	// download or upload), token and discovery included; zero means
	// DefaultTimeout.
	Timeout time.Duration
	// CallerInfo is sent as callerInfo and in the UserAgent header
	// ("PROVIDER_NAME_AND_VERSION"); zero means DefaultCallerInfo.
	CallerInfo string
	// RevocationIssuerName, when set, asks downloadRevocationRequests only
	// for requests about certificates of that issuer; zero asks for all.
	RevocationIssuerName string

	// RootCAs, when set, replaces the system roots for TLS to Entra,
	// Graph and Intune (tests trust their fakes with it).
	RootCAs *x509.CertPool
	// Registerer, when set, receives the package's metrics; nil records
	// none.
	Registerer prometheus.Registerer
	// Now is the clock for token lifetimes and assertions; nil means
	// time.Now. Tests inject a fake clock.
	Now func() time.Time
}

// Validate reports the first configuration error, naming the field.
func (c Config) Validate() error {
	switch {
	case c.TenantID == "":
		return errors.New("intune: config: tenantID: required")
	case c.ClientID == "":
		return errors.New("intune: config: clientID: required")
	case c.ClientSecret == "" && c.ClientCertificate == nil && c.ClientKey == nil:
		return errors.New("intune: config: clientSecret or clientCertificate: one is required")
	case c.ClientSecret != "" && (c.ClientCertificate != nil || c.ClientKey != nil):
		return errors.New("intune: config: clientSecret and clientCertificate: set only one")
	case c.ClientSecret == "" && (c.ClientCertificate == nil || c.ClientKey == nil):
		return errors.New("intune: config: clientCertificate: needs both the certificate and its key")
	case c.Timeout < 0:
		return errors.New("intune: config: timeout: must not be negative")
	}
	if c.ClientKey != nil {
		if _, ok := c.ClientKey.Public().(*rsa.PublicKey); !ok {
			return errors.New("intune: config: clientKey: must be RSA (Entra accepts only RS256/PS256 assertions)")
		}
		if !publicKeysEqual(c.ClientKey.Public(), c.ClientCertificate.PublicKey) {
			return errors.New("intune: config: clientKey: does not match clientCertificate")
		}
	}
	for _, u := range []struct{ name, v string }{
		{"authorityURL", c.AuthorityURL}, {"graphURL", c.GraphURL},
	} {
		if u.v == "" {
			continue
		}
		p, err := url.Parse(u.v)
		if err != nil || p.Scheme != "https" || p.Host == "" {
			return fmt.Errorf("intune: config: %s: must be an https URL", u.name)
		}
	}
	return nil
}

// String describes c without its secret, so a logged Config leaks nothing.
func (c Config) String() string {
	cred := "secret"
	if c.ClientSecret == "" {
		cred = "certificate"
	}
	return fmt.Sprintf("intune.Config{TenantID: %q, ClientID: %q, credential: %s (redacted)}", c.TenantID, c.ClientID, cred)
}

// GoString is String, for %#v.
func (c Config) GoString() string { return c.String() }

// withDefaults returns c with zero fields filled in.
func (c Config) withDefaults() Config {
	if c.AuthorityURL == "" {
		c.AuthorityURL = DefaultAuthorityURL
	}
	if c.GraphURL == "" {
		c.GraphURL = DefaultGraphURL
	}
	if c.GraphScope == "" {
		c.GraphScope = DefaultGraphScope
	}
	if c.IntuneScope == "" {
		c.IntuneScope = DefaultIntuneScope
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.CallerInfo == "" {
		c.CallerInfo = DefaultCallerInfo
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	ka, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && ka.Equal(b)
}
