package intune

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"net/http"
	"time"

	"github.com/certgate/certgate/validate"
)

// Validator checks SCEP requests with Intune and reports issuance
// outcomes and revocations back to it. It is safe for concurrent use;
// create one per tenant and reuse it, as Microsoft asks.
type Validator struct {
	cfg      Config
	client   *http.Client
	tokens   *tokenSource
	services sharedCache[serviceMap]
	metrics  *metrics
}

var _ validate.Validator = (*Validator)(nil)

// New checks cfg and returns a Validator. It makes no network call: a
// tenant that is unreachable at start-up is reported by the first
// enrollment, not by a process that will not start.
func New(cfg Config) (*Validator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: cfg.RootCAs}
	// No http.Client.Timeout: every call carries a context deadline
	// (Config.Timeout), which also covers token and discovery.
	client := &http.Client{Transport: tr, CheckRedirect: noRedirect}
	return &Validator{
		cfg:      cfg,
		client:   client,
		tokens:   &tokenSource{cfg: cfg, client: client, metrics: m, cache: sharedCache[accessToken]{name: "token"}},
		services: sharedCache[serviceMap]{name: "discovery"},
		metrics:  m,
	}, nil
}

// noRedirect refuses redirects: none of these APIs redirects, and
// following one would send the bearer token's request elsewhere.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Validate implements validate.Validator with Intune's validateRequest.
// It allows the request only when Intune answers Success; the Decision
// then carries the device ID found in the CSR (DeviceID). Any other code
// is a *validate.Rejection naming it; every failure to get an answer is
// a plain error. The challenge is not sent separately: Intune reads it
// from the CSR's challengePassword.
func (v *Validator) Validate(ctx context.Context, r *validate.Request) (dec validate.Decision, err error) {
	start := time.Now()
	defer func() { v.metrics.observe(opValidate, validateResult(err), start) }()

	raw, csr, rej := requestCSR(r)
	if rej != nil {
		return validate.Decision{}, rej
	}
	if r.TransactionID == "" {
		return validate.Decision{}, &validate.Rejection{Reason: "intune: request has no SCEP transaction ID"}
	}
	ctx, cancel := context.WithTimeout(ctx, v.cfg.Timeout)
	defer cancel()
	resp, err := v.post(ctx, "validateRequest", scepService, scepAPIVersion, "ScepActions/validateRequest",
		map[string]any{"request": map[string]string{
			"transactionId":      r.TransactionID,
			"certificateRequest": base64.StdEncoding.EncodeToString(raw),
			"callerInfo":         v.cfg.CallerInfo,
		}})
	if err != nil {
		return validate.Decision{}, err
	}
	code, parsed := parseResult(resp.body)
	switch {
	case resp.ok() && !parsed:
		return validate.Decision{}, resp.errorf("validateRequest", "HTTP %d with a body that is not a result", resp.status)
	case resp.ok() && code == CodeSuccess:
		return validate.Decision{DeviceID: DeviceID(csr)}, nil
	case resp.ok():
		return validate.Decision{}, &validate.Rejection{Reason: "intune: " + safeCode(code)}
	case parsed && knownRejection(code) && rejectionStatus(resp.status):
		return validate.Decision{}, &validate.Rejection{Reason: "intune: " + code}
	case parsed:
		return validate.Decision{}, resp.errorf("validateRequest", "HTTP %d, code %s", resp.status, safeCode(code))
	}
	return validate.Decision{}, resp.errorf("validateRequest", "HTTP %d", resp.status)
}

// rejectionStatus reports whether a non-2xx status can carry a verdict
// about the request, as opposed to a problem of ours (401, 403, 407) or
// of the moment (408, 429, 5xx).
func rejectionStatus(status int) bool {
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusProxyAuthRequired,
		http.StatusRequestTimeout, http.StatusTooManyRequests:
		return false
	}
	return status >= 400 && status < 500
}

// requestCSR returns the DER CSR and the parsed one, or a rejection when
// the request has none that parses.
func requestCSR(r *validate.Request) ([]byte, *x509.CertificateRequest, *validate.Rejection) {
	if r == nil {
		return nil, nil, &validate.Rejection{Reason: "intune: no request"}
	}
	raw, csr := r.RawCSR, r.CSR
	if len(raw) == 0 && csr != nil {
		raw = csr.Raw
	}
	if len(raw) == 0 {
		return nil, nil, &validate.Rejection{Reason: "intune: request has no CSR"}
	}
	if csr != nil && len(r.RawCSR) > 0 && !bytes.Equal(csr.Raw, r.RawCSR) {
		csr = nil // the DER is what Intune judges: read the device ID from it
	}
	if csr == nil {
		var err error
		if csr, err = x509.ParseCertificateRequest(raw); err != nil {
			return nil, nil, &validate.Rejection{Reason: "intune: CSR does not parse"}
		}
	}
	return raw, csr, nil
}

func validateResult(err error) string {
	var rej *validate.Rejection
	switch {
	case err == nil:
		return resultAllowed
	case errors.As(err, &rej):
		return resultRejected
	}
	return resultError
}
