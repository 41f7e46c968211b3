package upstream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ESTConfig configures an RFC 7030 upstream. Zero values take the
// documented defaults; Name and BaseURL are required.
type ESTConfig struct {
	// Name identifies the upstream (profile "issuer:", records, metrics).
	Name string
	// BaseURL is the EST base, https://host[:port]/.well-known/est,
	// optionally followed by a label (…/est/<label>). Must be https.
	BaseURL string
	// Roots are the trust anchors for the upstream's TLS certificate; nil
	// means the system roots.
	Roots *x509.CertPool
	// ClientCert authenticates the gateway by mTLS; nil sends none. It is
	// sent whatever CAs the server's CertificateRequest lists, so that a
	// mismatch shows up as the server's refusal, not as silence.
	ClientCert *tls.Certificate
	// Username and Password, when either is set, are sent as HTTP Basic
	// authentication (RFC 7030 §3.2.3).
	Username, Password string
	// Timeout bounds one Forward, Poll or Chain call; zero means
	// DefaultTimeout. ctx's deadline, if earlier, wins.
	Timeout time.Duration
	// ChainRefresh is how long a fetched cacerts answer is used; zero
	// means DefaultChainRefresh. On a failed refresh the old chain is
	// served.
	ChainRefresh time.Duration
	// FailureThreshold consecutive unavailable answers open the circuit
	// for CoolDown; zero means DefaultFailureThreshold and
	// DefaultCoolDown.
	FailureThreshold int
	CoolDown         time.Duration
	// Registerer, when set, receives the certgate_upstream_* metrics;
	// several upstreams may share one. Nil records none.
	Registerer prometheus.Registerer
	// Now is the clock of the cache and the circuit breaker; nil means
	// time.Now.
	Now func() time.Time
}

// Validate reports the first configuration error, naming the field.
func (c *ESTConfig) Validate() error {
	if c.Name == "" {
		return errors.New("upstream: est: name: required")
	}
	if _, err := estBase(c.BaseURL); err != nil {
		return fmt.Errorf("upstream: est %s: baseURL: %w", c.Name, err)
	}
	if c.ClientCert != nil && (len(c.ClientCert.Certificate) == 0 || c.ClientCert.PrivateKey == nil) {
		return fmt.Errorf("upstream: est %s: clientCert: needs a certificate and its key", c.Name)
	}
	if c.Timeout < 0 || c.ChainRefresh < 0 || c.CoolDown < 0 || c.FailureThreshold < 0 {
		return fmt.Errorf("upstream: est %s: timeout, chainRefresh, coolDown, failureThreshold: must not be negative", c.Name)
	}
	return nil
}

func estBase(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	if u.Scheme != "https" {
		return "", errors.New("must be an https URL (RFC 7030 §3.3)")
	}
	if u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", errors.New("want https://host[:port]/.well-known/est[/label], without query, fragment or user")
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// EST forwards CSRs to an RFC 7030 server with simpleenroll.
type EST struct {
	c        *client
	base     string
	user     string
	password string
	basic    bool
	chain    *cache[[]*x509.Certificate]
}

var (
	_ Forwarder = (*EST)(nil)
	_ Poller    = (*EST)(nil)
	_ Closer    = (*EST)(nil)
)

// NewEST checks cfg and returns the forwarder. It does not contact the
// upstream.
func NewEST(cfg ESTConfig) (*EST, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	base, _ := estBase(cfg.BaseURL)
	m, err := newMetrics(cfg.Registerer, cfg.Name)
	if err != nil {
		return nil, err
	}
	tlsCfg := &tls.Config{RootCAs: cfg.Roots, MinVersion: tls.VersionTLS12}
	if cfg.ClientCert != nil {
		cert := cfg.ClientCert
		tlsCfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsCfg
	// Enrollments arrive in bursts; keep enough connections to spare
	// each a TLS handshake.
	tr.MaxIdleConnsPerHost = 16
	boundDials(tr, cfg.Timeout)
	e := &EST{
		c:        newClient(cfg.Name, cfg.Timeout, &http.Client{Transport: tr, CheckRedirect: noRedirect}, tr, cfg.FailureThreshold, cfg.CoolDown, m, cfg.Now),
		base:     base,
		user:     cfg.Username,
		password: cfg.Password,
		basic:    cfg.Username != "" || cfg.Password != "",
	}
	e.chain = newCache(cfg.ChainRefresh, e.c.now, e.fetchChain)
	return e, nil
}

// noRedirect refuses redirects: an EST POST must not be replayed to
// another URL, and credentials must not follow one.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Name identifies the upstream.
func (e *EST) Name() string { return e.c.name }

// Close releases idle connections.
func (e *EST) Close() { e.c.close() }

// Forward posts the CSR, unchanged, to simpleenroll (RFC 7030 §4.2.1). A
// 202 is ErrPending carrying the Retry-After; the device's next attempt
// should come through Poll (which repeats the POST, as §4.2.3 says).
func (e *EST) Forward(ctx context.Context, csr *x509.CertificateRequest, rawCSR []byte, transactionID string) (*x509.Certificate, error) {
	return e.enroll(ctx, OpEnroll, csr, rawCSR)
}

// Poll repeats simpleenroll with the same CSR: RFC 7030 §4.2.3 has the
// client resend the request after a 202.
func (e *EST) Poll(ctx context.Context, csr *x509.CertificateRequest, rawCSR []byte, transactionID string) (*x509.Certificate, error) {
	return e.enroll(ctx, OpPoll, csr, rawCSR)
}

func (e *EST) enroll(ctx context.Context, op string, csr *x509.CertificateRequest, rawCSR []byte) (*x509.Certificate, error) {
	if csr == nil || len(rawCSR) == 0 {
		return nil, errors.New("upstream: " + e.c.name + ": no CSR")
	}
	ctx, cancel := e.c.withTimeout(ctx)
	defer cancel()
	body := base64.StdEncoding.EncodeToString(rawCSR)
	req, err := http.NewRequest(http.MethodPost, e.base+"/simpleenroll", strings.NewReader(body))
	if err != nil {
		return nil, e.c.unavailable(op, err)
	}
	req.Header.Set("Content-Type", "application/pkcs10")
	// RFC 8951 deprecates the header, but RFC 7030 servers still require
	// it (globalsign's estserver refuses a request without).
	req.Header.Set("Content-Transfer-Encoding", "base64")
	e.auth(req)
	var cert *x509.Certificate
	err = e.c.do(ctx, op, req, func(r *response) error {
		switch {
		case r.status == http.StatusOK:
			certs, err := decodeCertsOnly(r.body)
			if err != nil {
				return e.c.unavailable(op, fmt.Errorf("garbage answer: %w", err))
			}
			if cert, err = certForKey(certs, csr); err != nil {
				return e.c.unavailable(OpVerify, err)
			}
			return nil
		case r.status == http.StatusAccepted:
			return &PendingError{Upstream: e.c.name, RetryAfter: retryAfter(r.header, e.c.now())}
		default:
			return e.statusErr(op, r)
		}
	})
	if err != nil {
		return nil, err
	}
	return cert, nil
}

// statusErr maps a non-success status. 4xx are refusals of this request
// (RFC 7030 §4.2.3), except 404 (a wrong base URL or label), 408 and 429,
// which retrying may cure; everything else says the upstream is unwell.
func (e *EST) statusErr(op string, r *response) error {
	switch s := r.status; {
	case s == http.StatusBadRequest:
		return &Rejected{Upstream: e.c.name, Reason: ReasonBadRequest, HTTPStatus: s,
			Message: "the upstream CA refused the request as malformed", Detail: sanitize(string(r.body))}
	case s == http.StatusUnauthorized || s == http.StatusForbidden:
		return &Rejected{Upstream: e.c.name, Reason: ReasonUnauthorized, HTTPStatus: s,
			Message: "the upstream CA refused to issue", Detail: sanitize(string(r.body))}
	case s >= 400 && s < 500 && s != http.StatusNotFound && s != http.StatusRequestTimeout && s != http.StatusTooManyRequests:
		return &Rejected{Upstream: e.c.name, Reason: ReasonBadRequest, HTTPStatus: s,
			Message: "the upstream CA refused the request", Detail: sanitize(string(r.body))}
	}
	return e.c.statusUnavailable(op, r)
}

func (e *EST) auth(req *http.Request) {
	if e.basic {
		req.SetBasicAuth(e.user, e.password)
	}
}

// Chain returns the CA certificates from cacerts (RFC 7030 §4.1), issuing
// CA first. It is fetched at most once per ChainRefresh and served stale
// while the upstream fails.
func (e *EST) Chain(ctx context.Context) ([]*x509.Certificate, error) {
	ctx, cancel := e.c.withTimeout(ctx)
	defer cancel()
	chain, err := e.chain.get(ctx)
	if err != nil {
		var u *UnavailableError
		if !errors.As(err, &u) {
			err = e.c.unavailable(OpCACerts, err)
		}
		return nil, err
	}
	return append([]*x509.Certificate(nil), chain...), nil
}

func (e *EST) fetchChain(ctx context.Context) ([]*x509.Certificate, error) {
	var chain []*x509.Certificate
	newReq := func() (*http.Request, error) {
		req, err := http.NewRequest(http.MethodGet, e.base+"/cacerts", nil)
		if err != nil {
			return nil, err
		}
		// cacerts needs no authentication (§4.1.1), but some servers ask
		// for it on every path.
		e.auth(req)
		return req, nil
	}
	err := e.c.doIdempotent(ctx, OpCACerts, newReq, func(r *response) error {
		if r.status != http.StatusOK {
			return e.c.statusUnavailable(OpCACerts, r)
		}
		certs, err := decodeCertsOnly(r.body)
		if err != nil {
			return e.c.unavailable(OpCACerts, fmt.Errorf("garbage answer: %w", err))
		}
		chain = orderChain(certs)
		return nil
	})
	return chain, err
}
