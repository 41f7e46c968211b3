package main

import (
	"context"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/certgate/certgate/store/postgres"
)

// leader runs the work one replica at a time may do: building CRLs,
// pre-signing OCSP responses, and polling the MDMs (Intune revocation
// requests, device state), all under one role, crl_ocsp (the name the
// lease and the metric already carry).
type leader interface {
	// Lead runs fn while this process leads, with a context that ends as
	// soon as it stops leading, until ctx ends.
	Lead(ctx context.Context, fn func(ctx context.Context))
}

// leaderRole names the leadership in the lease and in the metric.
const leaderRole = "crl_ocsp"

// alwaysLeader is bbolt's: one process has the file, so it always leads.
type alwaysLeader struct{}

func (alwaysLeader) Lead(ctx context.Context, fn func(ctx context.Context)) { fn(ctx) }

// newLeader is a lease on the shared database, or alwaysLeader without
// one; a gauge (certgate_leader) says whether this replica leads, and
// PostgreSQL leadership changes are logged.
func newLeader(shared *postgres.Store, reg prometheus.Registerer, log zerolog.Logger) (leader, error) {
	gauge := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "certgate_leader",
		Help: "1 while this replica leads the role (crl_ocsp: builds CRLs, pre-signs OCSP responses and polls the MDMs), else 0.",
	}, []string{"role"}).WithLabelValues(leaderRole)
	reg.MustRegister(gauge)
	var l leader = alwaysLeader{}
	if shared != nil {
		lease, err := shared.Lease(leaderRole, postgres.LeaseOptions{OnChange: func(leading bool, why error) {
			if leading {
				log.Info().Str("role", leaderRole).Msg("leading: this replica builds the CRLs, pre-signs OCSP responses and polls the MDMs")
				return
			}
			ev := log.Info()
			if why != nil {
				ev = log.Warn().Err(why)
			}
			ev.Str("role", leaderRole).Msg("no longer leading: another replica takes over")
		}})
		if err != nil {
			return nil, err
		}
		l = lease
	}
	return gaugedLeader{l, gauge}, nil
}

// gaugedLeader keeps the gauge at 1 exactly while fn runs.
type gaugedLeader struct {
	leader
	gauge prometheus.Gauge
}

func (g gaugedLeader) Lead(ctx context.Context, fn func(ctx context.Context)) {
	g.leader.Lead(ctx, func(ctx context.Context) {
		g.gauge.Set(1)
		defer g.gauge.Set(0)
		fn(ctx)
	})
}

// lead is the leading replica's work; it returns once ctx ends and all of
// it has stopped, so a lease is released only after.
//
// The MDM pollers lead too: Intune hands each revocation request to
// whoever downloads it, so two replicas would revoke and report it twice,
// and device-state checks on every replica would multiply the lookups
// against the MDM's rate limits (their actions are idempotent, so a short
// overlap during a takeover is harmless).
func (g *gateway) lead(ctx context.Context, log zerolog.Logger) {
	var wg sync.WaitGroup
	wg.Go(func() { g.revocation.lead(ctx) })
	wg.Go(func() { g.mdm.run(ctx, g.revocation, log) })
	for _, p := range g.devicePollers {
		wg.Go(func() { p.Run(ctx) })
	}
	wg.Wait()
}
