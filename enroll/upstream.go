package enroll

import (
	"context"
	"crypto/x509"
	"errors"
	"time"

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
		return nil, upstreamFailure(err)
	}
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
