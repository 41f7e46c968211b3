package main

import (
	"context"
	"math/big"
	"time"

	"github.com/rs/zerolog"

	"github.com/certgate/certgate/store"
	"github.com/certgate/certgate/store/postgres"
)

// revocationFeed is what a shared store offers replicas: a push of every
// revocation and published CRL as it commits, and a query to catch up on
// revocations a dropped connection missed.
type revocationFeed interface {
	Listen(ctx context.Context, f postgres.Feed) error
	RevokedSince(ctx context.Context, since time.Time) ([]*store.CertRecord, error)
}

// reconcileEvery is the safety net behind the push: every replica also
// looks for revocations it may have missed this often.
const reconcileEvery = 30 * time.Second

// followRevocations keeps this replica's OCSP cache and CRL in step with
// revocations made and CRLs published on any replica, until ctx ends:
// pushed within milliseconds, and a periodic catch-up for any the push
// lost (a listener reconnecting, a notification dropped).
func followRevocations(ctx context.Context, feed revocationFeed, rv *revocation, log zerolog.Logger) {
	apply := func(issuer string, serial *big.Int) {
		if err := rv.revokedElsewhere(ctx, issuer, serial); err != nil {
			log.Error().Err(err).Str("serial", store.SerialHex(serial)).Msg("could not drop a cached OCSP answer after a revocation on another replica")
		}
	}
	syncCRL := func(ca string) {
		if err := rv.syncCRL(ctx, ca); err != nil {
			log.Warn().Err(err).Str("ca", ca).Msg("could not take the CRL the leading replica published")
		}
	}
	go func() {
		for ctx.Err() == nil {
			err := feed.Listen(ctx, postgres.Feed{Revoked: apply, CRL: syncCRL})
			if ctx.Err() != nil {
				return
			}
			log.Warn().Err(err).Msg("revocation feed lost; reconnecting")
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
	}()
	go func() {
		since := time.Now().Add(-reconcileEvery)
		t := time.NewTicker(reconcileEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			// Overlap the windows: a revocation committed with an earlier
			// timestamp than it became visible must not fall between two.
			next := time.Now()
			recs, err := feed.RevokedSince(ctx, since.Add(-reconcileEvery))
			if err != nil {
				log.Warn().Err(err).Msg("revocation catch-up failed")
				continue
			}
			for _, rec := range recs {
				apply(rec.Issuer, rec.Serial)
			}
			since = next
			for ca := range rv.byCA {
				syncCRL(ca)
			}
		}
	}()
}
