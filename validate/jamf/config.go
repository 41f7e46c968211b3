package jamf

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"time"
)

// Defaults and limits of CheckerConfig.
const (
	DefaultTimeout = 30 * time.Second
	// MaxConcurrency is Jamf's guidance for concurrent connections
	// (§7.4), and the most CheckerConfig.MaxConcurrency may ask for.
	MaxConcurrency  = 5
	DefaultPageSize = 100
	// MaxPageSize is the largest page Jamf Pro serves.
	MaxPageSize = 2000
)

// CheckerConfig configures a DeviceChecker. Zero values take the
// documented defaults, so only URL and one credential are required.
type CheckerConfig struct {
	// URL is the Jamf Pro base URL, e.g. https://example.jamfcloud.com.
	// Required; https only, since bearer tokens travel on every call.
	URL string
	// ClientID and ClientSecret are an API client's credentials (Jamf Pro
	// 10.49+), the recommended setup. The API role needs Read Computers
	// and Read Mobile Devices.
	ClientID     string
	ClientSecret string
	// Username and Password are a Jamf Pro user account's, exchanged for
	// a bearer token (the legacy setup). Set either these or the client
	// credentials, not both.
	Username string
	Password string

	// Timeout bounds each lookup, token and paging included; zero means
	// DefaultTimeout.
	Timeout time.Duration
	// MaxConcurrency caps requests in flight to Jamf (and connections);
	// zero means MaxConcurrency, and more than that is refused.
	MaxConcurrency int
	// PageSize is page-size of inventory lookups; zero means
	// DefaultPageSize. A lookup by a unique field fits in one page.
	PageSize int

	// RootCAs, when set, replaces the system roots for TLS to Jamf (an
	// on-premises server with a private CA; tests trust their fake).
	RootCAs *x509.CertPool
	// Metrics, when set, records lookups and token refreshes.
	Metrics *Metrics
	// Now is the clock for token lifetimes; nil means time.Now.
	Now func() time.Time
}

// Validate reports the first configuration error, naming the field.
func (c CheckerConfig) Validate() error {
	oauth := c.ClientID != "" || c.ClientSecret != ""
	user := c.Username != "" || c.Password != ""
	switch {
	case c.URL == "":
		return errors.New("jamf: config: url: required")
	case oauth && user:
		return errors.New("jamf: config: clientID and username: set only one credential")
	case !oauth && !user:
		return errors.New("jamf: config: clientID/clientSecret or username/password: one is required")
	case oauth && (c.ClientID == "" || c.ClientSecret == ""):
		return errors.New("jamf: config: clientID and clientSecret: both are required")
	case user && (c.Username == "" || c.Password == ""):
		return errors.New("jamf: config: username and password: both are required")
	case c.Timeout < 0:
		return errors.New("jamf: config: timeout: must not be negative")
	case c.MaxConcurrency < 0 || c.MaxConcurrency > MaxConcurrency:
		return fmt.Errorf("jamf: config: maxConcurrency: must be between 1 and %d (Jamf's guidance)", MaxConcurrency)
	case c.PageSize < 0 || c.PageSize > MaxPageSize:
		return fmt.Errorf("jamf: config: pageSize: must be between 1 and %d", MaxPageSize)
	}
	u, err := url.Parse(c.URL)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return errors.New("jamf: config: url: must be an https URL without credentials, query or fragment")
	}
	return nil
}

// String describes c without its secrets, so a logged config leaks
// nothing.
func (c CheckerConfig) String() string {
	if c.ClientID != "" {
		return fmt.Sprintf("jamf.CheckerConfig{URL: %q, ClientID: %q, secret: (redacted)}", c.URL, c.ClientID)
	}
	return fmt.Sprintf("jamf.CheckerConfig{URL: %q, Username: %q, password: (redacted)}", c.URL, c.Username)
}

// GoString is String, for %#v.
func (c CheckerConfig) GoString() string { return c.String() }

func (c CheckerConfig) withDefaults() CheckerConfig {
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxConcurrency == 0 {
		c.MaxConcurrency = MaxConcurrency
	}
	if c.PageSize == 0 {
		c.PageSize = DefaultPageSize
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}
