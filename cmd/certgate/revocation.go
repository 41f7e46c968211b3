package main

import (
	"context"
	"crypto/x509"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/certgate/certgate/ca/crl"
	"github.com/certgate/certgate/ca/local"
	"github.com/certgate/certgate/ca/ocsp"
	"github.com/certgate/certgate/configs"
	"github.com/certgate/certgate/store"
)

// revocation serves OCSP and CRLs and keeps them in step with revocations.
type revocation struct {
	st    store.Store
	holds store.Holds
	ocsp  *ocsp.Responder
	crls  []*crl.Scheduler
	crlH  *crl.Handler
	byCA  map[string]*crl.Scheduler
}

// newRevocation serves OCSP and CRLs from the records in st, keeping
// pre-signed answers in cache and CRL numbers in st. shared, nil for
// bbolt, is the cache the replicas share: the leader publishes its CRLs
// and refreshed OCSP responses there, and the others serve them.
func newRevocation(cfg *configs.Config, c *local.CA, st recordStore, cache, shared store.Cache, reg prometheus.Registerer, log zerolog.Logger) (*revocation, error) {
	sc := ocsp.SignerConfig{Name: c.Name(), Issuer: c.Certificate(), ResponderValidity: cfg.OCSP.ResponderValidity.Std()}
	if cfg.OCSP.Signer == "ca" {
		sc.Key = c.Signer()
	} else {
		sc.Issue = c.IssueOCSPResponder
		// RSA: every RADIUS/NAC server verifies RSA; some older ones lack ECDSA.
		sc.ResponderKey = x509.RSA
	}
	signer, err := ocsp.NewSigner(sc)
	if err != nil {
		return nil, err
	}
	resp, err := ocsp.New(ocsp.Options{
		CAs:             []*ocsp.Signer{signer},
		Source:          st,
		Cache:           cache,
		Shared:          shared,
		Validity:        cfg.OCSP.Validity.Std(),
		ValidityFor:     ocspValidityFor(cfg),
		MemEntries:      cfg.OCSP.MemoryEntries,
		MaxSigning:      cfg.OCSP.MaxSigning,
		SigningWait:     cfg.OCSP.SigningWait.Std(),
		RefreshInterval: cfg.OCSP.RefreshInterval.Std(),
		Metrics:         ocsp.NewMetrics(reg),
		Log:             log,
	})
	if err != nil {
		return nil, err
	}
	sched, err := crl.NewScheduler(crl.Options{
		CA:        c,
		PublicURL: cfg.PublicURL,
		Source:    st,
		Cache:     cache,
		Shared:    shared,
		Numbers:   st,
		Validity:  cfg.CRL.Validity.Std(),
		Debounce:  cfg.CRL.Debounce.Std(),
		Log:       log,
		Metrics:   crl.NewMetrics(reg),
	})
	if err != nil {
		return nil, err
	}
	h, err := crl.NewHandler(sched)
	if err != nil {
		return nil, err
	}
	return &revocation{
		st: st, holds: st, ocsp: resp, crls: []*crl.Scheduler{sched}, crlH: h,
		byCA: map[string]*crl.Scheduler{c.Name(): sched},
	}, nil
}

// lead runs the OCSP refresher and the CRL schedulers until ctx ends:
// the work of the leading replica.
func (r *revocation) lead(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { r.ocsp.Run(ctx) })
	for _, s := range r.crls {
		wg.Go(func() { s.Run(ctx) })
	}
	wg.Wait()
}

// syncCRL serves the CRL the leading replica published for the CA named
// ca; the leader itself has nothing to take.
func (r *revocation) syncCRL(ctx context.Context, ca string) error {
	if s, ok := r.byCA[ca]; ok {
		return s.Sync(ctx)
	}
	return nil
}

// Revoke records a revocation and makes OCSP answer it at once: the
// cached response is dropped before Revoke returns, and the CRL rebuild
// is scheduled (debounced).
func (r *revocation) Revoke(ctx context.Context, serial *big.Int, reason int, at time.Time) (*store.CertRecord, error) {
	rec, err := r.st.Revoke(ctx, serial, reason, at)
	if err != nil {
		return nil, err
	}
	if err := r.changed(ctx, rec.Issuer, serial); err != nil {
		// The record is revoked; the stale cached "good" must not be
		// served. Say so loudly: the caller retries, which is idempotent.
		return nil, fmt.Errorf("revoked, but the cached OCSP response could not be dropped: %w", err)
	}
	return rec, nil
}

// ReleaseHold lifts a certificateHold the way Revoke revokes: OCSP
// answers "good" on the next request, and the next CRL leaves it out.
func (r *revocation) ReleaseHold(ctx context.Context, serial *big.Int) (*store.CertRecord, error) {
	rec, err := r.holds.ReleaseHold(ctx, serial)
	if err != nil {
		return nil, err
	}
	if err := r.changed(ctx, rec.Issuer, serial); err != nil {
		return nil, fmt.Errorf("hold lifted, but the cached OCSP response could not be dropped: %w", err)
	}
	return rec, nil
}

// revokedElsewhere makes this replica's OCSP and CRL reflect a
// revocation (or a lifted hold) another replica recorded in the shared
// store: the pre-signed answer for the serial is dropped, so the next
// request is signed from the record.
func (r *revocation) revokedElsewhere(ctx context.Context, issuer string, serial *big.Int) error {
	return r.changed(ctx, issuer, serial)
}

// changed drops the serial's cached OCSP answers and schedules a CRL
// rebuild of its CA.
func (r *revocation) changed(ctx context.Context, issuer string, serial *big.Int) error {
	if err := r.ocsp.Invalidate(ctx, issuer, serial); err != nil {
		return err
	}
	if s, ok := r.byCA[issuer]; ok {
		s.Trigger()
	}
	return nil
}
