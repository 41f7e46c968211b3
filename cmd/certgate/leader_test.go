package main

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"
)

// TestLeaderWithoutDatabase: with bbolt the process always leads, and
// certgate_leader{role="crl_ocsp"} is 1 exactly while the work runs.
func TestLeaderWithoutDatabase(t *testing.T) {
	reg := prometheus.NewRegistry()
	l, err := newLeader(nil, reg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	gauge := func() float64 {
		t.Helper()
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == "certgate_leader" && mf.Metric[0].Label[0].GetValue() == leaderRole {
				return mf.Metric[0].GetGauge().GetValue()
			}
		}
		t.Fatal("no certgate_leader{role=\"crl_ocsp\"}")
		return 0
	}
	if gauge() != 0 {
		t.Fatal("leading before Lead")
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := false
	l.Lead(ctx, func(ctx context.Context) {
		ran = true
		if gauge() != 1 {
			t.Error("certgate_leader is not 1 while leading")
		}
		cancel()
		<-ctx.Done()
	})
	if !ran || gauge() != 0 {
		t.Fatalf("ran %v, gauge after %v; want true, 0", ran, gauge())
	}
	if n := testutil.CollectAndCount(reg, "certgate_leader"); n != 1 {
		t.Fatalf("%d certgate_leader series, want 1", n)
	}
}
