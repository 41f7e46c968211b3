package enroll

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"math/big"
	"time"

	"github.com/rs/zerolog"

	"github.com/certgate/certgate/ca"
	"github.com/certgate/certgate/store"
	"github.com/certgate/certgate/validate"
)

// Recorder is the part of the store that enrollment needs.
type Recorder interface {
	Reserve(ctx context.Context, r *store.CertRecord) error
	Issue(ctx context.Context, r *store.CertRecord) error
	Cert(ctx context.Context, serial *big.Int) (*store.CertRecord, error)
	Search(ctx context.Context, q store.Query) ([]*store.CertRecord, error)
}

// Options configures a Service. Zero values are documented per field.
type Options struct {
	// Profiles by name. Required.
	Profiles map[string]*Profile
	// Store records every reservation and certificate. Required.
	Store Recorder
	// Requests holds requests awaiting approval; required when a profile
	// has Approval.
	Requests RequestBook
	// Revoker revokes a certificate whose issuance the MDM did not
	// acknowledge; required when a profile has a Notifier.
	Revoker Revoker
	// PendingRetry is the Retry-After given with Pending; zero means 60s.
	PendingRetry time.Duration
	// Metrics; nil records nothing.
	Metrics *Metrics
	// Now; nil means time.Now.
	Now func() time.Time
}

// Service decides enrollments. It is safe for concurrent use and keeps no
// state between requests.
type Service struct {
	profiles map[string]*Profile
	store    Recorder
	requests RequestBook
	revoker  Revoker
	retry    time.Duration
	metrics  *Metrics
	now      func() time.Time
	// subjects serialises enrollments of one subject in profiles with
	// UniqueSubject, from the duplicate check to the record.
	subjects keyedMutex
}

// NewService checks opts and returns a Service.
func NewService(opts Options) (*Service, error) {
	if len(opts.Profiles) == 0 {
		return nil, errors.New("enroll: no profiles")
	}
	if opts.Store == nil {
		return nil, errors.New("enroll: no store")
	}
	for name, p := range opts.Profiles {
		if p == nil || p.Policy == nil || p.Issuer == nil || p.Validator == nil {
			return nil, errors.New("enroll: profile " + name + " lacks policy, issuer or validator")
		}
		if p.Escrow != nil && !p.UniqueSubject {
			return nil, errors.New("enroll: profile " + name + " escrows keys but allows duplicate subjects")
		}
		if p.Notifier != nil && opts.Revoker == nil {
			return nil, errors.New("enroll: profile " + name + " notifies its MDM but there is no revoker")
		}
		if p.Approval && opts.Requests == nil {
			return nil, errors.New("enroll: profile " + name + " needs approval but there is no request store")
		}
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	retry := opts.PendingRetry
	if retry <= 0 {
		retry = defaultPendingRetry
	}
	return &Service{profiles: opts.Profiles, store: opts.Store, requests: opts.Requests, revoker: opts.Revoker, retry: retry, metrics: opts.Metrics, now: now}, nil
}

// HasProfile reports whether a profile with that name exists.
func (s *Service) HasProfile(name string) bool {
	_, ok := s.profiles[name]
	return ok
}

// maxSerialCollisions bounds retries when a freshly drawn serial already
// exists; with 159 random bits a single collision is already astronomically
// unlikely, so more than a few means something is broken.
const maxSerialCollisions = 3

// Enroll runs the enrollment sequence (see the package doc). On success the
// certificate is durably recorded; on failure the error is a *Failure and
// nothing beyond a possible reservation was written.
func (s *Service) Enroll(ctx context.Context, req *Request) (*Result, error) {
	start := time.Now() // latency is wall time, whatever clock decisions use
	res, err := s.enroll(ctx, req)
	result := outcome(req, err)
	s.metrics.observe(req.Protocol, req.Profile, result, time.Since(start).Seconds())

	log := zerolog.Ctx(ctx)
	ev := log.Info()
	if err != nil {
		switch result {
		case "error":
			ev = log.Error()
		case "pending":
			ev = log.Info()
		default:
			ev = log.Warn()
		}
		ev = ev.Err(err)
	}
	ev = ev.Str("protocol", req.Protocol).Str("profile", req.Profile).
		Str("outcome", result).Dur("duration", time.Since(start))
	if res != nil {
		ev = ev.Str("serial", res.Record.SerialHex).Str("subject", res.Record.Subject)
	}
	ev.Msg("enrollment")
	return res, err
}

func outcome(req *Request, err error) string {
	if err == nil {
		if req.RenewalOf != nil {
			return "renewed"
		}
		return "issued"
	}
	switch AsFailure(err).Reason {
	case Unauthorized:
		return "rejected"
	case Unavailable:
		return "error"
	case Pending:
		return "pending"
	default:
		return "invalid"
	}
}

func (s *Service) enroll(ctx context.Context, req *Request) (*Result, error) {
	p, ok := s.profiles[req.Profile]
	if !ok {
		return nil, fail(BadRequest, "unknown profile "+req.Profile, nil)
	}
	if p.Approval && req.RenewalOf == nil && !req.Test {
		return s.enrollApproved(ctx, req, p)
	}
	if p.Upstream != nil && req.RenewalOf == nil {
		if res, err, handled := s.resumeUpstream(ctx, req, p); handled {
			return res, err
		}
	}
	if req.Poll {
		return nil, fail(BadCertID, "no request with transaction ID "+req.TransactionID+" is held in profile "+req.Profile, nil)
	}
	if req.CSR == nil {
		return nil, fail(BadRequest, "no certificate request", nil)
	}
	a, err := s.authorise(ctx, req, p)
	if err != nil {
		return nil, err
	}
	res, err := s.issue(ctx, req, p, a)
	if a.validated != nil && p.Notifier != nil {
		return s.notify(ctx, p, a.validated, res, err)
	}
	return res, err
}

// authorisation is what authorise learned about the requester.
type authorisation struct {
	deviceID, renewalOf string
	// validated is what the profile's validator allowed, when it decided.
	validated *validate.Request
}

// authorise decides whether req may be issued: a renewal by a certificate
// we issued, an edge that authenticated the requester, or the profile's
// validator.
func (s *Service) authorise(ctx context.Context, req *Request, p *Profile) (authorisation, error) {
	if req.RenewalOf != nil {
		rec, err := s.authoriseRenewal(ctx, req.RenewalOf)
		if err != nil {
			return authorisation{}, err
		}
		return authorisation{renewalOf: rec.SerialHex, deviceID: rec.DeviceID}, nil
	}
	if req.AuthorizedBy != "" {
		zerolog.Ctx(ctx).Debug().Str("authorized_by", req.AuthorizedBy).Msg("enrollment authorised by the edge")
		return authorisation{}, nil
	}
	vr := &validate.Request{
		Profile:       req.Profile,
		Protocol:      req.Protocol,
		Challenge:     req.Challenge,
		TransactionID: req.TransactionID,
		CSR:           req.CSR,
		RawCSR:        req.RawCSR,
		RemoteAddr:    req.RemoteAddr,
	}
	dec, err := p.Validator.Validate(ctx, vr)
	if err != nil {
		var rej *validate.Rejection
		if errors.As(err, &rej) {
			return authorisation{}, fail(Unauthorized, rej.Reason, nil)
		}
		return authorisation{}, fail(Unavailable, "challenge could not be validated", err)
	}
	return authorisation{deviceID: dec.DeviceID, validated: vr}, nil
}

// issue reserves, signs and records the certificate for an authorised
// request.
func (s *Service) issue(ctx context.Context, req *Request, p *Profile, a authorisation) (*Result, error) {
	if p.Upstream != nil {
		return s.issueUpstream(ctx, req, p, a)
	}
	deviceID, renewalOf := a.deviceID, a.renewalOf
	draft, rec, err := s.reserve(ctx, req, p)
	if err != nil {
		return nil, err
	}
	rec.DeviceID, rec.RenewalOf = deviceID, renewalOf
	if p.UniqueSubject && req.RenewalOf == nil {
		unlock := s.subjects.lock(req.Profile + "\x00" + rec.Subject)
		defer unlock()
		if err := s.checkUnique(ctx, rec); err != nil {
			return nil, err
		}
	}
	if p.Escrow != nil && req.GeneratedKey != nil {
		if rec.EscrowedKey, err = p.Escrow.Seal(rec.SerialHex, req.GeneratedKey); err != nil {
			return nil, fail(Unavailable, "could not escrow the generated key", err)
		}
	}

	cert, err := p.Issuer.Sign(ctx, draft)
	if err != nil {
		return nil, fail(Unavailable, "signing failed", err)
	}
	fillFromCert(rec, cert)
	rec.Status = store.StatusValid
	rec.IssuedAt = s.now()
	if err := s.store.Issue(ctx, rec); err != nil {
		// The certificate exists but is not recorded: it must not leave.
		return nil, fail(Unavailable, "could not record certificate", err)
	}
	return &Result{Cert: cert, Chain: p.Issuer.Chain(), Record: rec}, nil
}

// reserve prepares the certificate and reserves its serial durably.
func (s *Service) reserve(ctx context.Context, req *Request, p *Profile) (*ca.Draft, *store.CertRecord, error) {
	for attempt := 0; ; attempt++ {
		draft, err := p.Issuer.Prepare(ctx, req.CSR, p.Policy)
		if err != nil {
			return nil, nil, policyFailure(err)
		}
		if req.MaxValidity > 0 {
			if end := draft.Template.NotBefore.Add(req.MaxValidity); end.Before(draft.Template.NotAfter) {
				draft.Template.NotAfter = end
			}
		}
		rec := &store.CertRecord{
			Serial:        draft.Serial,
			SerialHex:     store.SerialHex(draft.Serial),
			Issuer:        p.Issuer.Name(),
			Subject:       draft.Template.Subject.String(),
			CommonName:    draft.Template.Subject.CommonName,
			NotBefore:     draft.Template.NotBefore,
			NotAfter:      draft.Template.NotAfter,
			Profile:       req.Profile,
			Protocol:      req.Protocol,
			TransactionID: req.TransactionID,
			RequesterAddr: req.RemoteAddr,
			Test:          req.Test,
			Status:        store.StatusReserved,
			CreatedAt:     s.now(),
		}
		err = s.store.Reserve(ctx, rec)
		if err == nil {
			return draft, rec, nil
		}
		if !errors.Is(err, store.ErrConflict) || attempt+1 >= maxSerialCollisions {
			return nil, nil, fail(Unavailable, "could not reserve serial", err)
		}
	}
}

func policyFailure(err error) error {
	var pe *ca.PolicyError
	if !errors.As(err, &pe) {
		return fail(Unavailable, "could not prepare certificate", err)
	}
	switch pe.Code {
	case ca.PolicyBadAlg:
		return fail(BadAlg, pe.Detail, nil)
	case ca.PolicyBadMessageCheck:
		return fail(BadMessageCheck, pe.Detail, nil)
	default:
		return fail(BadRequest, pe.Detail, nil)
	}
}

// checkUnique refuses rec when a valid, unexpired certificate of its
// profile has exactly its subject. The candidates are found by common
// name, which the stores index; only a subject without one needs the
// substring search, which reads every record of the profile.
func (s *Service) checkUnique(ctx context.Context, rec *store.CertRecord) error {
	q := store.Query{Status: store.StatusValid, Profile: rec.Profile, ExpiresAfter: s.now(), Limit: -1}
	if rec.CommonName != "" {
		q.CommonName = rec.CommonName
	} else {
		q.Subject = rec.Subject
	}
	found, err := s.store.Search(ctx, q)
	if err != nil {
		return fail(Unavailable, "could not check for duplicate subjects", err)
	}
	for _, other := range found {
		if other.Subject == rec.Subject && other.SerialHex != rec.SerialHex {
			return fail(BadRequest, "a valid certificate for "+rec.Subject+" already exists (serial "+other.SerialHex+"); renew or revoke it", nil)
		}
	}
	return nil
}

// authoriseRenewal accepts a certificate as authorisation when certgate
// issued exactly these bytes, has not revoked it, and it is within its
// validity period.
func (s *Service) authoriseRenewal(ctx context.Context, cert *x509.Certificate) (*store.CertRecord, error) {
	rec, err := s.store.Cert(ctx, cert.SerialNumber)
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrInvalid) {
		return nil, fail(BadCertID, "renewal signed by a certificate certgate did not issue", nil)
	}
	if err != nil {
		return nil, fail(Unavailable, "could not look up certificate", err)
	}
	if !bytes.Equal(rec.DER, cert.Raw) {
		return nil, fail(BadCertID, "renewal signed by a certificate certgate did not issue", nil)
	}
	if rec.Status == store.StatusRevoked {
		return nil, fail(Unauthorized, "renewal signed by a revoked certificate", nil)
	}
	if rec.Status != store.StatusValid {
		return nil, fail(BadCertID, "renewal signed by a certificate that was never issued", nil)
	}
	now := s.now()
	if now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
		return nil, fail(BadTime, "renewal signed by a certificate outside its validity period", nil)
	}
	return rec, nil
}

// fillFromCert copies what the signed certificate says into the record, so
// the record describes the certificate and not the request.
func fillFromCert(rec *store.CertRecord, cert *x509.Certificate) {
	rec.Subject = cert.Subject.String()
	rec.CommonName = cert.Subject.CommonName
	rec.NotBefore, rec.NotAfter = cert.NotBefore, cert.NotAfter
	rec.DNSNames = cert.DNSNames
	rec.EmailAddrs = cert.EmailAddresses
	rec.URIs = nil
	for _, u := range cert.URIs {
		rec.URIs = append(rec.URIs, u.String())
	}
	if upns, err := ca.UPNsFromExtensions(cert.Extensions); err == nil {
		rec.UPNs = upns
	}
	rec.DER = cert.Raw
}
