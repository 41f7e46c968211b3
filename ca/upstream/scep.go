package upstream

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/subtle"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	smallscep "github.com/smallstep/scep"
	"github.com/smallstep/scep/x509util"
)

// DefaultPollInterval is the wait between CertPolls while the upstream
// answers PENDING.
const DefaultPollInterval = 2 * time.Second

// pollMargin is kept free of the deadline when deciding whether another
// poll fits, for the answer to travel back to the device.
const pollMargin = time.Second

// SCEPConfig configures an RFC 8894 upstream. Zero values take the
// documented defaults; Name, URL, RACert and RAKey are required.
type SCEPConfig struct {
	// Name identifies the upstream (profile "issuer:", records, metrics).
	Name string
	// URL is the SCEP endpoint, e.g. http://ca.example/scep or
	// http://ca.example/cgi-bin/pkiclient.exe, without a query. http is
	// allowed: SCEP protects its messages with CMS, not TLS.
	URL string
	// Roots, when set, are the trust anchors the GetCACert certificates
	// (CA and RA) must chain to; the upstream CA itself may be one. RFC
	// 8894 has the client authenticate the CA certificate out of band
	// (§2.2): without Roots whatever GetCACert returns is trusted, which
	// is acceptable only when URL is https to a host the HTTP client
	// trusts.
	Roots *x509.CertPool
	// CAIdentifier is sent as the message parameter of GetCACaps and
	// GetCACert (RFC 8894 §4.2, "CA-IDENT"): CAs hosting several CAs at one URL
	// (EJBCA) pick the CA by it. Empty sends none.
	CAIdentifier string
	// RACert and RAKey sign the gateway's PKCSReq and CertPoll messages
	// and decrypt the CertRep. RAKey must be RSA and implement
	// crypto.Decrypter as well (an *rsa.PrivateKey does). The upstream
	// encrypts the issued certificate to RACert.
	RACert *x509.Certificate
	RAKey  crypto.Signer
	// Challenge is the upstream's challenge password. SCEP has no place
	// for it outside the CSR's challengePassword attribute, which only the
	// device can sign; when Challenge is set, Forward checks that the
	// device's CSR carries it and refuses otherwise, without contacting
	// the upstream (see the package documentation). Empty: the upstream
	// authorizes the RA by its signing certificate, or not at all.
	Challenge string
	// Timeout bounds one Forward, Poll or Chain call, PENDING polling
	// included; zero means DefaultTimeout. ctx's deadline, if earlier,
	// wins.
	Timeout time.Duration
	// PollInterval is the wait between CertPolls while the upstream
	// answers PENDING; zero means DefaultPollInterval.
	PollInterval time.Duration
	// ChainRefresh is how long GetCACaps and GetCACert answers are used;
	// zero means DefaultChainRefresh. On a failed refresh the old ones are
	// used.
	ChainRefresh time.Duration
	// FailureThreshold consecutive unavailable answers open the circuit
	// for CoolDown; zero means DefaultFailureThreshold and
	// DefaultCoolDown.
	FailureThreshold int
	CoolDown         time.Duration
	// Registerer, when set, receives the certgate_upstream_* metrics;
	// several upstreams may share one. Nil records none.
	Registerer prometheus.Registerer
	// HTTPClient, when set, is used instead of a client of this package
	// (for TLS roots or a proxy); it must not follow redirects of POSTs.
	// Close then leaves its connections alone.
	HTTPClient *http.Client
	// Now is the clock of the cache, the circuit breaker and the polling
	// budget; nil means time.Now.
	Now func() time.Time
}

// Validate reports the first configuration error, naming the field.
func (c *SCEPConfig) Validate() error {
	if c.Name == "" {
		return errors.New("upstream: scep: name: required")
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("upstream: scep %s: url: want http(s)://host/path without query", c.Name)
	}
	if c.RACert == nil || c.RAKey == nil {
		return fmt.Errorf("upstream: scep %s: raCert, raKey: required", c.Name)
	}
	pub, ok := c.RACert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("upstream: scep %s: raCert: key must be RSA (the CertRep is encrypted to it)", c.Name)
	}
	if _, ok := c.RAKey.Public().(*rsa.PublicKey); !ok {
		return fmt.Errorf("upstream: scep %s: raKey: must be RSA", c.Name)
	}
	if _, ok := c.RAKey.(crypto.Decrypter); !ok {
		return fmt.Errorf("upstream: scep %s: raKey: must implement crypto.Decrypter", c.Name)
	}
	if !pub.Equal(c.RAKey.Public()) {
		return fmt.Errorf("upstream: scep %s: raKey: does not match raCert", c.Name)
	}
	if c.Timeout < 0 || c.PollInterval < 0 || c.ChainRefresh < 0 || c.CoolDown < 0 || c.FailureThreshold < 0 {
		return fmt.Errorf("upstream: scep %s: timeout, pollInterval, chainRefresh, coolDown, failureThreshold: must not be negative", c.Name)
	}
	return nil
}

// SCEP forwards CSRs to an RFC 8894 CA as a registration authority: the
// device's CSR, unchanged, in a PKCSReq the gateway signs.
type SCEP struct {
	c            *client
	url          string
	raCert       *x509.Certificate
	raKey        crypto.Signer
	challenge    string
	caIdent      string
	roots        *x509.CertPool
	pollInterval time.Duration
	pollMargin   time.Duration
	ca           *cache[*scepCA]
}

var (
	_ Forwarder = (*SCEP)(nil)
	_ Poller    = (*SCEP)(nil)
	_ Closer    = (*SCEP)(nil)
)

// NewSCEP checks cfg and returns the forwarder. It does not contact the
// upstream.
func NewSCEP(cfg SCEPConfig) (*SCEP, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Registerer, cfg.Name)
	if err != nil {
		return nil, err
	}
	hc, own := cfg.HTTPClient, (*http.Transport)(nil)
	if hc == nil {
		own = http.DefaultTransport.(*http.Transport).Clone()
		own.MaxIdleConnsPerHost = 16
		boundDials(own, cfg.Timeout)
		hc = &http.Client{Transport: own, CheckRedirect: noRedirect}
	}
	s := &SCEP{
		c:            newClient(cfg.Name, cfg.Timeout, hc, own, cfg.FailureThreshold, cfg.CoolDown, m, cfg.Now),
		url:          cfg.URL,
		raCert:       cfg.RACert,
		raKey:        cfg.RAKey,
		challenge:    cfg.Challenge,
		caIdent:      cfg.CAIdentifier,
		roots:        cfg.Roots,
		pollInterval: cfg.PollInterval,
		pollMargin:   pollMargin,
	}
	if s.pollInterval <= 0 {
		s.pollInterval = DefaultPollInterval
	}
	s.ca = newCache(cfg.ChainRefresh, s.c.now, s.fetchCA)
	return s, nil
}

// Name identifies the upstream.
func (s *SCEP) Name() string { return s.c.name }

// Close releases idle connections of the client NewSCEP made.
func (s *SCEP) Close() { s.c.close() }

// Chain returns the CA certificates of GetCACert, issuing CA first (RA
// certificates left out).
func (s *SCEP) Chain(ctx context.Context) ([]*x509.Certificate, error) {
	ctx, cancel := s.c.withTimeout(ctx)
	defer cancel()
	ca, err := s.caInfo(ctx)
	if err != nil {
		return nil, err
	}
	return append([]*x509.Certificate(nil), ca.chain...), nil
}

func (s *SCEP) caInfo(ctx context.Context) (*scepCA, error) {
	ca, err := s.ca.get(ctx)
	if err != nil {
		var u *UnavailableError
		if !errors.As(err, &u) {
			err = s.c.unavailable(OpCACerts, err)
		}
		return nil, err
	}
	return ca, nil
}

// Forward sends the device's CSR in a PKCSReq. While the upstream answers
// PENDING it polls with CertPoll (GetCertInitial) every PollInterval as
// long as another poll and the answer fit before ctx's deadline; then it
// returns a *PendingError and the device should be answered PENDING, its
// later polls going to Poll.
func (s *SCEP) Forward(ctx context.Context, csr *x509.CertificateRequest, rawCSR []byte, transactionID string) (*x509.Certificate, error) {
	if err := s.checkCSR(csr, rawCSR); err != nil {
		return nil, err
	}
	ctx, cancel := s.c.withTimeout(ctx)
	defer cancel()
	budget := s.budget(ctx)
	ca, err := s.caInfo(ctx)
	if err != nil {
		return nil, err
	}
	tid := scepTransactionID(transactionID, csr)
	msg, err := s.buildMessage(ca, smallscep.PKCSReq, tid, rawCSR)
	if err != nil {
		return nil, s.c.unavailable(OpEnroll, err)
	}
	cert, err := s.exchange(ctx, OpEnroll, ca, msg, csr)
	if !errors.Is(err, ErrPending) {
		return cert, err
	}
	return s.pollLoop(ctx, budget, ca, csr, tid)
}

// Poll asks the upstream about a request Forward left pending, with
// CertPoll (RFC 8894 §3.3.3), polling on within ctx's deadline like
// Forward. An upstream that cannot be reached leaves the request pending
// (*PendingError with Cause set), not failed: it still holds it.
func (s *SCEP) Poll(ctx context.Context, csr *x509.CertificateRequest, rawCSR []byte, transactionID string) (*x509.Certificate, error) {
	if err := s.checkCSR(csr, rawCSR); err != nil {
		return nil, err
	}
	ctx, cancel := s.c.withTimeout(ctx)
	defer cancel()
	budget := s.budget(ctx)
	tid := scepTransactionID(transactionID, csr)
	ca, err := s.caInfo(ctx)
	if err != nil {
		return nil, &PendingError{Upstream: s.c.name, TransactionID: tid, Cause: err}
	}
	cert, err := s.certPoll(ctx, ca, csr, tid)
	switch {
	case errors.Is(err, ErrUnavailable):
		return nil, &PendingError{Upstream: s.c.name, TransactionID: tid, Cause: err}
	case !errors.Is(err, ErrPending):
		return cert, err
	}
	return s.pollLoop(ctx, budget, ca, csr, tid)
}

// budget is the time ctx leaves, measured on s's clock from now, so that
// a test clock can run the polling loop without waiting.
type budget struct {
	start time.Time
	left  time.Duration
}

func (s *SCEP) budget(ctx context.Context) budget {
	b := budget{start: s.c.now(), left: s.c.timeout}
	if dl, ok := ctx.Deadline(); ok {
		b.left = time.Until(dl)
	}
	return b
}

// pollLoop polls while the upstream answers PENDING and time is left. A
// poll that fails for want of the upstream also ends in *PendingError:
// the request is still held there, and the device polling later is better
// than the device starting over with a second request.
func (s *SCEP) pollLoop(ctx context.Context, b budget, ca *scepCA, csr *x509.CertificateRequest, tid string) (*x509.Certificate, error) {
	pending := &PendingError{Upstream: s.c.name, TransactionID: tid}
	for {
		elapsed := s.c.now().Sub(b.start)
		if b.left-elapsed < s.pollInterval+s.pollMargin {
			return nil, pending
		}
		if s.c.sleep(ctx, s.pollInterval) != nil {
			return nil, pending
		}
		cert, err := s.certPoll(ctx, ca, csr, tid)
		switch {
		case err == nil:
			return cert, nil
		case errors.Is(err, ErrPending):
			continue
		case errors.Is(err, ErrUnavailable):
			pending.Cause = err
			return nil, pending
		}
		return nil, err
	}
}

func (s *SCEP) certPoll(ctx context.Context, ca *scepCA, csr *x509.CertificateRequest, tid string) (*x509.Certificate, error) {
	if len(ca.chain) == 0 {
		return nil, s.c.unavailable(OpPoll, errors.New("no CA certificate to name in CertPoll"))
	}
	content, err := asn1.Marshal(issuerAndSubject{
		Issuer:  asn1.RawValue{FullBytes: ca.chain[0].RawSubject},
		Subject: asn1.RawValue{FullBytes: csr.RawSubject},
	})
	if err != nil {
		return nil, s.c.unavailable(OpPoll, err)
	}
	msg, err := s.buildMessage(ca, smallscep.CertPoll, tid, content)
	if err != nil {
		return nil, s.c.unavailable(OpPoll, err)
	}
	return s.exchange(ctx, OpPoll, ca, msg, csr)
}

// exchange sends one PKIOperation and interprets the CertRep. Neither a
// PKCSReq nor a CertPoll is retried here: a PKCSReq is not safe to repeat,
// and a CertPoll repeats on the poll schedule.
func (s *SCEP) exchange(ctx context.Context, op string, ca *scepCA, msg *pkiMessage, csr *x509.CertificateRequest) (*x509.Certificate, error) {
	req, err := s.pkiOperation(ca, msg.der)
	if err != nil {
		return nil, s.c.unavailable(op, err)
	}
	var cert *x509.Certificate
	err = s.c.do(ctx, op, req, func(r *response) error {
		if r.status != http.StatusOK {
			return s.c.statusUnavailable(op, r)
		}
		rep, err := parseCertRep(r.body, msg, ca)
		if err != nil {
			// Perhaps the CA's certificates changed: fetch them anew
			// next time.
			s.ca.invalidate()
			return s.c.unavailable(OpVerify, err)
		}
		switch rep.status {
		case smallscep.PENDING:
			return &PendingError{Upstream: s.c.name, TransactionID: msg.transactionID}
		case smallscep.FAILURE:
			return &Rejected{Upstream: s.c.name, Reason: failInfoReason(rep.failInfo),
				Message: "the upstream CA refused the request",
				Detail:  "failInfo " + sanitize(string(rep.failInfo))}
		}
		if cert, err = s.issuedCert(rep, csr, ca); err != nil {
			return s.c.unavailable(OpVerify, err)
		}
		return nil
	})
	return cert, err
}

// pkiOperation makes the HTTP request: POST if the CA offers it, else GET
// with the base64 message in the query (RFC 8894 §4.1).
func (s *SCEP) pkiOperation(ca *scepCA, der []byte) (*http.Request, error) {
	if ca.post {
		req, err := http.NewRequest(http.MethodPost, s.url+"?operation=PKIOperation", bytes.NewReader(der))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-pki-message")
		return req, nil
	}
	q := url.Values{"operation": {"PKIOperation"}, "message": {base64.StdEncoding.EncodeToString(der)}}
	return http.NewRequest(http.MethodGet, s.url+"?"+q.Encode(), nil)
}

// getRequest makes GetCACaps and GetCACert requests, fresh per try.
func (s *SCEP) getRequest(operation, message string) func() (*http.Request, error) {
	return func() (*http.Request, error) {
		q := url.Values{"operation": {operation}}
		if message != "" {
			q.Set("message", message)
		}
		return http.NewRequest(http.MethodGet, s.url+"?"+q.Encode(), nil)
	}
}

// checkCSR refuses what cannot be forwarded: no CSR, or (with Challenge
// set) a CSR without the upstream's challenge, which the upstream would
// refuse with nothing but badRequest.
func (s *SCEP) checkCSR(csr *x509.CertificateRequest, rawCSR []byte) error {
	if csr == nil || len(rawCSR) == 0 {
		return errors.New("upstream: " + s.c.name + ": no CSR")
	}
	if s.challenge == "" {
		return nil
	}
	got, err := x509util.ParseChallengePassword(rawCSR)
	if err != nil || subtle.ConstantTimeCompare([]byte(got), []byte(s.challenge)) != 1 {
		return &Rejected{Upstream: s.c.name, Reason: ReasonUnauthorized,
			Message: "the request cannot be forwarded to the upstream CA",
			Detail:  "the CSR does not carry the upstream's challenge password, and SCEP carries it only inside the CSR, which only the device can sign"}
	}
	return nil
}
