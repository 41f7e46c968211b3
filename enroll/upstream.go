package enroll

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/certgate/certgate/ca/upstream"
	"github.com/certgate/certgate/store"
)

// Forwarder is an upstream CA as enrollment uses it (ca/upstream): it
// picks serial and validity itself, so its certificates are recorded after
// they are issued rather than reserved before.
type Forwarder interface {
	Name() string
	Forward(ctx context.Context, csr *x509.CertificateRequest, rawCSR []byte, transactionID string) (*x509.Certificate, error)
	Chain(ctx context.Context) ([]*x509.Certificate, error)
}

// issueUpstream checks the profile's policy locally (the same Prepare a
// local issuance runs, its draft discarded), forwards the CSR unchanged,
// and records the upstream's certificate durably before it is returned.
// Nothing can be recorded before signing: the upstream chooses the serial.
func (s *Service) issueUpstream(ctx context.Context, req *Request, p *Profile, a authorisation) (*Result, error) {
	if _, err := p.Issuer.Prepare(ctx, req.CSR, p.Policy); err != nil {
		return nil, policyFailure(err)
	}
	cert, err := p.Upstream.Forward(ctx, req.CSR, req.RawCSR, req.TransactionID)
	if err != nil {
		f := upstreamFailure(err)
		if f.Reason == Pending {
			s.holdUpstream(ctx, req, p, a)
		}
		return nil, f
	}
	return s.recordUpstream(ctx, req, p, a, cert)
}

// recordUpstream records a certificate the upstream issued, durably,
// before it is returned.
func (s *Service) recordUpstream(ctx context.Context, req *Request, p *Profile, a authorisation, cert *x509.Certificate) (*Result, error) {
	now := s.now()
	rec := &store.CertRecord{
		Serial: cert.SerialNumber, SerialHex: store.SerialHex(cert.SerialNumber), Issuer: p.Upstream.Name(),
		Profile: req.Profile, Protocol: req.Protocol, TransactionID: req.TransactionID,
		RequesterAddr: req.RemoteAddr, DeviceID: a.deviceID, RenewalOf: a.renewalOf,
		Status: store.StatusReserved, CreatedAt: now,
	}
	fillFromCert(rec, cert)
	if err := s.store.Reserve(ctx, rec); err != nil {
		// A serial of another CA can collide with one on record; the
		// certificate exists but cannot be recorded, so it must not leave.
		return nil, fail(Unavailable, "could not record the upstream certificate", err)
	}
	rec.Status, rec.IssuedAt = store.StatusValid, now
	if err := s.store.Issue(ctx, rec); err != nil {
		return nil, fail(Unavailable, "could not record the upstream certificate", err)
	}
	chain, _ := p.Upstream.Chain(ctx) // best effort: the certificate is what matters
	return &Result{Cert: cert, Chain: chain, Record: rec}, nil
}

// upstreamFailure maps ca/upstream's errors to the edge's reasons.
func upstreamFailure(err error) *Failure {
	var rej *upstream.Rejected
	var pend *upstream.PendingError
	var unav *upstream.UnavailableError
	switch {
	case errors.As(err, &rej):
		reasons := map[upstream.Reason]Reason{
			upstream.ReasonBadRequest: BadRequest, upstream.ReasonBadMessageCheck: BadMessageCheck,
			upstream.ReasonBadAlg: BadAlg, upstream.ReasonBadTime: BadTime,
			upstream.ReasonBadCertID: BadCertID, upstream.ReasonUnauthorized: Unavailable,
		}
		// The upstream refusing certgate's own credentials is certgate's
		// problem, not the device's: it is "try later" for the device.
		return &Failure{Reason: reasons[rej.Reason], Detail: "upstream CA refused: " + rej.Message, Err: err}
	case errors.As(err, &pend):
		return &Failure{Reason: Pending, Detail: "the upstream CA holds the request", RetryAfter: retryOr(pend.RetryAfter), Err: err}
	case errors.As(err, &unav):
		return &Failure{Reason: Unavailable, Detail: "the upstream CA is unavailable", RetryAfter: retryOr(unav.RetryAfter), Err: err}
	}
	return &Failure{Reason: Unavailable, Detail: "the upstream CA is unavailable", Err: err}
}

func retryOr(d time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return defaultPendingRetry
}

// upstreamHeld marks requests the upstream holds (DecidedBy), so that the
// device's later poll asks the upstream instead of an operator.
const upstreamHeld = "upstream "

// holdUpstream remembers a request the upstream CA holds, as an approved
// request decided by the upstream, so that the device's poll (SCEP
// GetCertInitial, a re-sent PKCSReq, an EST retry) reaches the upstream's
// poll on any replica. Failing to remember is logged, not fatal: the
// device then simply enrolls again.
func (s *Service) holdUpstream(ctx context.Context, req *Request, p *Profile, a authorisation) {
	if s.requests == nil {
		return
	}
	decider, ok := s.requests.(interface {
		DecideRequest(ctx context.Context, id string, approve bool, by, reason string, at time.Time) (*store.PendingRequest, error)
	})
	if !ok {
		return
	}
	key, err := requestKey(req)
	if err != nil {
		return
	}
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return
	}
	pr := &store.PendingRequest{
		ID: hex.EncodeToString(id), Profile: req.Profile, Key: key, Protocol: req.Protocol,
		TransactionID: req.TransactionID, Subject: req.CSR.Subject.String(), CSR: req.RawCSR,
		DeviceID: a.deviceID, RequesterAddr: req.RemoteAddr, Status: store.RequestPending, CreatedAt: s.now(),
	}
	log := zerolog.Ctx(ctx)
	if err := s.requests.CreateRequest(ctx, pr); err != nil {
		if !errors.Is(err, store.ErrConflict) { // a retry already held it
			log.Warn().Err(err).Msg("enroll: could not remember the request the upstream holds")
		}
		return
	}
	if _, err := decider.DecideRequest(ctx, pr.ID, true, upstreamHeld+p.Upstream.Name(), "held by the upstream CA", s.now()); err != nil {
		log.Warn().Err(err).Msg("enroll: could not remember the request the upstream holds")
	}
}

// resumeUpstream answers a device coming back for a request the upstream
// held: it polls the upstream (or forwards again when the upstream
// cannot be polled) and records the certificate once issued. handled is
// false when no such request exists.
func (s *Service) resumeUpstream(ctx context.Context, req *Request, p *Profile) (res *Result, err error, handled bool) {
	if s.requests == nil {
		return nil, nil, false
	}
	key, err := requestKey(req)
	if err != nil {
		return nil, nil, false
	}
	pr, err := s.requests.RequestByKey(ctx, req.Profile, key)
	if err != nil || !strings.HasPrefix(pr.DecidedBy, upstreamHeld) {
		return nil, nil, false
	}
	if err := sameRequester(req, pr); err != nil {
		return nil, err, true
	}
	if pr.Status == store.RequestIssued {
		res, err := s.reissued(ctx, pr)
		return res, err, true
	}
	csr, err := x509.ParseCertificateRequest(pr.CSR)
	if err != nil {
		return nil, fail(Unavailable, "held request is unreadable", err), true
	}
	var cert *x509.Certificate
	if poller, ok := p.Upstream.(upstream.Poller); ok {
		cert, err = poller.Poll(ctx, csr, pr.CSR, pr.TransactionID)
	} else {
		cert, err = p.Upstream.Forward(ctx, csr, pr.CSR, pr.TransactionID)
	}
	if err != nil {
		return nil, upstreamFailure(err), true
	}
	held := *req
	held.CSR, held.RawCSR, held.TransactionID = csr, pr.CSR, pr.TransactionID
	res, err = s.recordUpstream(ctx, &held, p, authorisation{deviceID: pr.DeviceID}, cert)
	if err != nil {
		return nil, err, true
	}
	if err := s.requests.CompleteRequest(ctx, pr.ID, res.Record.SerialHex); err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Str("request_id", pr.ID).Msg("issued, but could not mark the upstream request issued")
	}
	return res, nil, true
}
