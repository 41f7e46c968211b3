package workspaceone

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Checker looks devices up in Workspace ONE UEM. It is safe for
// concurrent use; create one per tenant and share it, so that the
// concurrency cap is shared too.
type Checker struct {
	cfg          Config
	lookupURL    string // https://host/api/mdm/devices
	searchBy     string // Serialnumber or Udid
	auth         string // the Basic header value; never printed
	nonCompliant map[string]bool
	client       *http.Client
	sem          chan struct{}
	metrics      *metrics
	// transport is kept for tests of the connection cap.
	transport *http.Transport
}

// NewChecker checks cfg and returns a Checker. It makes no network
// call: an API that is unreachable at start-up is reported by the first
// lookup, not by a process that will not start.
func NewChecker(cfg Config) (*Checker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	base, _ := apiBase(cfg.APIURL) // checked by Validate
	by, _ := searchBy(cfg.Lookup)
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: cfg.RootCAs}
	// The semaphore already caps requests; capping connections as well
	// keeps the promise even if a request were to leak a slot.
	tr.MaxConnsPerHost = cfg.MaxConcurrency
	tr.MaxIdleConnsPerHost = cfg.MaxConcurrency
	nc := make(map[string]bool, len(cfg.NonCompliant))
	for _, v := range cfg.NonCompliant {
		nc[normalize(v)] = true
	}
	return &Checker{
		cfg:          cfg,
		lookupURL:    base + "/api/mdm/devices",
		searchBy:     by,
		auth:         "Basic " + base64.StdEncoding.EncodeToString([]byte(cfg.Username+":"+cfg.Password)),
		nonCompliant: nc,
		// No http.Client.Timeout: every call carries a context deadline.
		client:    &http.Client{Transport: tr, CheckRedirect: noRedirect},
		sem:       make(chan struct{}, cfg.MaxConcurrency),
		metrics:   m,
		transport: tr,
	}, nil
}

// String describes c without its credentials, so that printing a
// Checker (or a struct holding one) leaks nothing.
func (c *Checker) String() string {
	if c == nil {
		return "workspaceone.Checker(nil)"
	}
	return "workspaceone.Checker{" + c.cfg.String() + "}"
}

// GoString is String, for %#v.
func (c *Checker) GoString() string { return c.String() }

// Lookup is the identifier the checker looks devices up by, LookupSerial
// or LookupUdid.
func (c *Checker) Lookup() string { return c.cfg.Lookup }

// Check looks up the device whose serial number (or UDID, per
// Config.Lookup) is key, and returns its state. A device Workspace ONE
// does not know is State{Status: StatusNotFound} with a nil error; an
// error means no usable answer came (an invalid key, 401/403, 5xx, an
// answer that is not a device record, a timeout, a reset), and the
// State is then empty. The call is bounded by Config.Timeout and never
// retried.
func (c *Checker) Check(ctx context.Context, key string) (st State, err error) {
	start := time.Now()
	defer func() { c.metrics.observe(st, err, start) }()
	if !validKey(key) {
		return State{}, errors.New("workspaceone: lookup: device key is empty, too long or has characters not allowed")
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	a, err := c.get(ctx, key)
	if err != nil {
		return State{}, fmt.Errorf("workspaceone: %s lookup: %w", c.cfg.Lookup, err)
	}
	st, err = c.interpret(a, key)
	if err != nil {
		return State{}, fmt.Errorf("workspaceone: %s lookup: %w", c.cfg.Lookup, err)
	}
	return st, nil
}

// noRedirect refuses redirects: the API does not redirect, and following
// one would send the Basic credentials elsewhere.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// userAgent identifies certgate to Workspace ONE.
const userAgent = "certgate"

// hint names the likely cause of an authorisation failure. Whether a
// bad tenant code is 401 or 403 is unconfirmed, so 401 names it too.
func hint(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return " (username, password or tenant code refused)"
	case http.StatusForbidden:
		return ` (tenant code refused, or the admin's role lacks "REST - Devices")`
	}
	return ""
}
