package enroll

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"time"

	"github.com/rs/zerolog"

	"github.com/certgate/certgate/store"
)

// RequestBook is the part of the request store enrollment needs.
type RequestBook interface {
	CreateRequest(ctx context.Context, r *store.PendingRequest) error
	RequestByKey(ctx context.Context, profile, key string) (*store.PendingRequest, error)
	CompleteRequest(ctx context.Context, id, serialHex string) error
}

// defaultPendingRetry is how long a held requester is told to wait.
const defaultPendingRetry = 60 * time.Second

// requestKey finds a held request again: SCEP by transaction ID (a poll
// or a re-sent PKCSReq carries it), EST by the CSR itself (RFC 7030
// §4.2.3: the client retries with the same request), so a new CSR after a
// rejection is a new request.
func requestKey(req *Request) (string, error) {
	if req.TransactionID != "" {
		return "scep:" + req.TransactionID, nil
	}
	if req.CSR == nil {
		return "", fail(BadRequest, "no certificate request", nil)
	}
	sum := sha256.Sum256(req.RawCSR)
	return "est:" + hex.EncodeToString(sum[:]), nil
}

// enrollApproved runs a request through a profile with approval: the
// first submission is validated and held; later ones (polls, re-sent
// requests) are answered from the held request, and the approved one is
// issued from the CSR as it was submitted.
func (s *Service) enrollApproved(ctx context.Context, req *Request, p *Profile) (*Result, error) {
	key, err := requestKey(req)
	if err != nil {
		return nil, err
	}
	pr, err := s.requests.RequestByKey(ctx, req.Profile, key)
	if errors.Is(err, store.ErrNotFound) {
		if req.Poll {
			return nil, fail(BadCertID, "no request with transaction ID "+req.TransactionID+" is held", nil)
		}
		return s.hold(ctx, req, p, key)
	}
	if err != nil {
		return nil, fail(Unavailable, "could not look up the held request", err)
	}
	if err := sameRequester(req, pr); err != nil {
		return nil, err
	}
	switch pr.Status {
	case store.RequestPending:
		return nil, s.pending(pr)
	case store.RequestRejected:
		return nil, fail(Unauthorized, "request rejected by an operator"+suffix(pr.Reason), nil)
	case store.RequestIssued:
		return s.reissued(ctx, pr)
	case store.RequestApproved:
		return s.issueApproved(ctx, req, p, pr)
	}
	return nil, fail(Unavailable, "held request in unknown state "+string(pr.Status), nil)
}

func suffix(reason string) string {
	if reason == "" {
		return ""
	}
	return ": " + reason
}

// sameRequester refuses a poll or resubmission that does not belong to
// the held request: a different CSR under the same transaction ID, or a
// poll signed by another key than the CSR's.
func sameRequester(req *Request, pr *store.PendingRequest) error {
	if req.CSR != nil && !bytes.Equal(req.RawCSR, pr.CSR) {
		return fail(BadRequest, "a different request is held under this transaction ID", nil)
	}
	if req.Poll && req.PollKey != nil {
		csr, err := x509.ParseCertificateRequest(pr.CSR)
		if err != nil {
			return fail(Unavailable, "held request is unreadable", err)
		}
		k, ok := req.PollKey.(interface{ Equal(crypto.PublicKey) bool })
		if !ok || !k.Equal(csr.PublicKey) {
			return fail(BadMessageCheck, "poll signed by a key other than the held request's", nil)
		}
	}
	return nil
}

// hold validates a first submission and parks it for approval.
func (s *Service) hold(ctx context.Context, req *Request, p *Profile, key string) (*Result, error) {
	if req.CSR == nil {
		return nil, fail(BadRequest, "no certificate request", nil)
	}
	// The policy is checked now, so an operator only sees requests that
	// could be issued; signing waits for approval.
	if _, err := p.Issuer.Prepare(ctx, req.CSR, p.Policy); err != nil {
		return nil, policyFailure(err)
	}
	a, err := s.authorise(ctx, req, p)
	if err != nil {
		return nil, err
	}
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return nil, fail(Unavailable, "could not hold the request", err)
	}
	pr := &store.PendingRequest{
		ID: hex.EncodeToString(id), Profile: req.Profile, Key: key, Protocol: req.Protocol,
		TransactionID: req.TransactionID, Subject: req.CSR.Subject.String(), CSR: req.RawCSR,
		DeviceID: a.deviceID, RequesterAddr: req.RemoteAddr, Status: store.RequestPending, CreatedAt: s.now(),
	}
	if err := s.requests.CreateRequest(ctx, pr); err != nil {
		if errors.Is(err, store.ErrConflict) {
			// A concurrent resubmission held it first; answer as it would.
			return nil, fail(Pending, "request held for approval", nil)
		}
		return nil, fail(Unavailable, "could not hold the request", err)
	}
	zerolog.Ctx(ctx).Info().Str("request_id", pr.ID).Str("profile", pr.Profile).Str("subject", pr.Subject).Msg("enrollment held for approval")
	return nil, s.pending(pr)
}

func (s *Service) pending(pr *store.PendingRequest) *Failure {
	return &Failure{Reason: Pending, Detail: "request " + pr.ID + " is held for approval", RetryAfter: s.retry, RequestID: pr.ID}
}

// issueApproved issues the held CSR and marks the request issued.
func (s *Service) issueApproved(ctx context.Context, req *Request, p *Profile, pr *store.PendingRequest) (*Result, error) {
	csr, err := x509.ParseCertificateRequest(pr.CSR)
	if err != nil {
		return nil, fail(Unavailable, "held request is unreadable", err)
	}
	held := *req
	held.CSR, held.RawCSR, held.TransactionID = csr, pr.CSR, pr.TransactionID
	res, err := s.issue(ctx, &held, p, authorisation{deviceID: pr.DeviceID})
	if err != nil {
		return nil, err
	}
	// A crash here leaves the request approved: the next poll issues again.
	// Both certificates are recorded, so nothing is lost, only doubled.
	if err := s.requests.CompleteRequest(ctx, pr.ID, res.Record.SerialHex); err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Str("request_id", pr.ID).Msg("issued, but could not mark the request issued")
	}
	return res, nil
}

// reissued answers a requester that asks again after its certificate was
// issued (the answer was lost): the same certificate, from the store.
func (s *Service) reissued(ctx context.Context, pr *store.PendingRequest) (*Result, error) {
	serial, err := store.ParseSerial(pr.Serial)
	if err != nil {
		return nil, fail(Unavailable, "issued request names no certificate", err)
	}
	rec, err := s.store.Cert(ctx, serial)
	if err != nil {
		return nil, fail(Unavailable, "could not load the issued certificate", err)
	}
	if rec.Status == store.StatusRevoked {
		return nil, fail(BadRequest, "the certificate issued for this request has been revoked", nil)
	}
	cert, err := x509.ParseCertificate(rec.DER)
	if err != nil {
		return nil, fail(Unavailable, "stored certificate is unreadable", err)
	}
	p := s.profiles[rec.Profile]
	return &Result{Cert: cert, Chain: p.Issuer.Chain(), Record: rec}, nil
}
