package intune

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/certgate/certgate/store"
)

// Revoker revokes a certificate certgate issued and keeps OCSP and CRLs
// in step.
type Revoker interface {
	Revoke(ctx context.Context, serial *big.Int, reason int, at time.Time) (*store.CertRecord, error)
}

// Poller carries out the revocations Intune asks for (a device wiped or
// unenrolled): it downloads pending requests, revokes each certificate
// (reason cessationOfOperation) and uploads one result per request.
type Poller struct {
	Validator *Validator
	Revoker   Revoker
	// Interval between polls; zero means 5 minutes.
	Interval time.Duration
	// Batch is how many requests one download asks for; zero means 100,
	// as Microsoft's sample does.
	Batch int
	Log   zerolog.Logger
}

// Run polls until ctx ends.
func (p *Poller) Run(ctx context.Context) {
	interval := p.Interval
	if interval <= 0 {
		interval = 5 * time.Minute
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := p.Once(ctx); err != nil {
			p.Log.Warn().Err(err).Msg("intune: revocation poll failed")
		} else if n > 0 {
			p.Log.Info().Int("requests", n).Msg("intune: revocation requests handled")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Once handles one batch and returns how many requests it answered.
func (p *Poller) Once(ctx context.Context) (int, error) {
	batch := p.Batch
	if batch <= 0 || batch > MaxRevocationRequests {
		batch = 100
	}
	reqs, err := p.Validator.DownloadRevocationRequests(ctx, batch)
	if err != nil || len(reqs) == 0 {
		return 0, err
	}
	results := make([]RevocationResult, 0, len(reqs))
	for _, r := range reqs {
		results = append(results, p.revoke(ctx, r))
	}
	if err := p.Validator.UploadRevocationResults(ctx, results); err != nil {
		// Intune keeps the requests; the next poll revokes again, which is
		// idempotent.
		return 0, err
	}
	return len(results), nil
}

// revoke carries out one request. Revoking twice is not an error for
// certgate, so an already revoked certificate is reported as done.
func (p *Poller) revoke(ctx context.Context, r RevocationRequest) RevocationResult {
	res := RevocationResult{RequestContext: r.RequestContext}
	var lastErr error
	for _, serial := range serialCandidates(r.SerialNumber) {
		rec, err := p.Revoker.Revoke(ctx, serial, store.ReasonCessationOfOperation, time.Now())
		if err == nil {
			p.Log.Info().Str("serial", rec.SerialHex).Str("request_context", r.RequestContext).Msg("intune: certificate revoked at Intune's request")
			res.Succeeded, res.ErrorCode = true, None
			return res
		}
		lastErr = err
		if !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrInvalid) {
			break
		}
	}
	switch {
	case lastErr == nil || errors.Is(lastErr, store.ErrNotFound) || errors.Is(lastErr, store.ErrConflict) || errors.Is(lastErr, store.ErrInvalid):
		res.ErrorCode, res.ErrorMessage = CertificateNotFoundError, "no certificate with serial "+r.SerialNumber
	default:
		p.Log.Warn().Err(lastErr).Str("request_context", r.RequestContext).Msg("intune: revocation failed; Intune will ask again")
		res.ErrorCode, res.ErrorMessage = ServiceUnavailableException, "revocation failed; retry later"
	}
	return res
}

// serialCandidates reads a serial the way Intune may echo it: hex as
// certgate sent it (any case, colons or spaces allowed), and, for an
// all-digit string, decimal as well, since the format is unconfirmed.
func serialCandidates(s string) []*big.Int {
	clean := strings.NewReplacer(":", "", " ", "", "-", "").Replace(strings.TrimSpace(s))
	var out []*big.Int
	if n, ok := new(big.Int).SetString(strings.TrimPrefix(strings.ToLower(clean), "0x"), 16); ok && n.Sign() > 0 {
		out = append(out, n)
	}
	if strings.Trim(clean, "0123456789") == "" {
		if n, ok := new(big.Int).SetString(clean, 10); ok && n.Sign() > 0 && (len(out) == 0 || n.Cmp(out[0]) != 0) {
			out = append(out, n)
		}
	}
	return out
}
