package intune_test

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/certgate/certgate/integration/fakes/fakehttp"
	fakeintune "github.com/certgate/certgate/integration/fakes/intune"
	"github.com/certgate/certgate/validate/intune"
)

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := newEnv(t, func(c *intune.Config) { c.Registerer = reg })
	e.cloud.Intune.AllowChallenge("good", fakeintune.Challenge{})
	ctx := context.Background()
	_, _ = e.v.Validate(ctx, request(t, "good", "tx"))
	_, _ = e.v.Validate(ctx, request(t, "bad", "tx"))
	e.cloud.Intune.SetFault(fakeintune.RouteValidate, fakehttp.Fault{Status: 500, Body: "{}", Times: 1})
	_, _ = e.v.Validate(ctx, request(t, "good", "tx"))
	_ = e.v.NotifySuccess(ctx, request(t, "good", "tx"), nil) // refused before any call
	_, _ = e.v.Validate(ctx, request(t, "good", "tx"))        // rediscovers after the 500

	tests := []struct {
		name     string
		want     float64
		metric   string
		labelVal []string
	}{
		{"ok/allowed", 2, "certgate_intune_requests_total", []string{"validate", "allowed"}},
		{"ok/rejected", 1, "certgate_intune_requests_total", []string{"validate", "rejected"}},
		{"ok/error", 1, "certgate_intune_requests_total", []string{"validate", "error"}},
		{"ok/notification error", 1, "certgate_intune_requests_total", []string{"success_notification", "error"}},
		{"ok/discovery twice (500 dropped the map)", 2, "certgate_intune_requests_total", []string{"discovery", "ok"}},
		{"ok/intune token", 1, "certgate_intune_token_refreshes_total", []string{"intune", "ok"}},
		{"ok/graph token", 1, "certgate_intune_token_refreshes_total", []string{"graph", "ok"}},
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got float64
			found := false
			for _, mf := range mfs {
				if mf.GetName() != tt.metric {
					continue
				}
				for _, m := range mf.GetMetric() {
					lp := m.GetLabel()
					if len(lp) != len(tt.labelVal) {
						continue
					}
					match := true
					// Labels come sorted by name: audience/result or operation/result.
					for i, l := range lp {
						if l.GetValue() != tt.labelVal[i] {
							match = false
						}
					}
					if match {
						got, found = m.GetCounter().GetValue(), true
					}
				}
			}
			if !found || got != tt.want {
				t.Errorf("%s%v = %v (found %v), want %v", tt.metric, tt.labelVal, got, found, tt.want)
			}
		})
	}
	if n := testutil.CollectAndCount(reg, "certgate_intune_request_duration_seconds"); n == 0 {
		t.Error("no latency histogram series")
	}
}
