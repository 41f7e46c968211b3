package workspaceone_test

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/certgate/certgate/integration/fakes/fakehttp"
	fakews1 "github.com/certgate/certgate/integration/fakes/workspaceone"
	"github.com/certgate/certgate/validate/workspaceone"
)

// Lookups are counted by result and timed; two checkers on one registry
// (two profiles) share the series.
func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := newEnv(t, func(c *workspaceone.Config) { c.Registerer = reg })
	other, err := workspaceone.NewChecker(e.cfg)
	if err != nil {
		t.Fatalf("second NewChecker on one registry: %v", err)
	}
	e.fake.AddDevice(fakews1.Device{SerialNumber: "OK", ComplianceStatus: "Compliant"})
	e.fake.AddDevice(fakews1.Device{SerialNumber: "PEND", ComplianceStatus: "Pending Compliance Check"})
	e.fake.AddDevice(fakews1.Device{SerialNumber: "BAD", ComplianceStatus: "Non-Compliant"})
	ctx := context.Background()
	for _, key := range []string{"OK", "PEND", "BAD", "NONE"} {
		_, _ = e.c.Check(ctx, key)
	}
	_, _ = other.Check(ctx, "OK")
	e.fake.SetFault(fakews1.RouteDevices, fakehttp.HTML(500))
	_, _ = other.Check(ctx, "OK")
	_, _ = e.c.Check(ctx, "bad key")

	counts, observations := gather(t, reg)
	tests := []struct {
		name   string
		result string
		want   float64
	}{
		{"ok/compliant", "compliant", 2},
		{"ok/not assessed", "not_assessed", 1},
		{"ok/non-compliant", "non_compliant", 1},
		{"ok/not found", "not_found", 1},
		{"ok/not enrolled", "not_enrolled", 0},
		{"ok/error", "error", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := counts[tt.result]; got != tt.want {
				t.Errorf("requests{result=%q} = %v, want %v", tt.result, got, tt.want)
			}
		})
	}
	if observations != 7 {
		t.Errorf("latency observations = %d, want 7", observations)
	}
}

// gather reads certgate_workspaceone_requests_total by result and the
// latency histogram's sample count.
func gather(t *testing.T, reg *prometheus.Registry) (map[string]float64, uint64) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts := make(map[string]float64)
	var observations uint64
	for _, mf := range mfs {
		switch mf.GetName() {
		case "certgate_workspaceone_requests_total":
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "result" {
						counts[l.GetValue()] = m.GetCounter().GetValue()
					}
				}
			}
		case "certgate_workspaceone_request_duration_seconds":
			for _, m := range mf.GetMetric() {
				observations += m.GetHistogram().GetSampleCount()
			}
		}
	}
	return counts, observations
}

// A registry holding another collector under one of the names refuses
// the checker, and no registry records nothing without failing.
func TestMetricsRegistration(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewGauge(prometheus.GaugeOpts{Name: "certgate_workspaceone_requests_total", Help: "clash"}))
	cfg := workspaceone.Config{APIURL: "https://h", Username: "u", Password: "p", TenantCode: "t", Registerer: reg}
	if _, err := workspaceone.NewChecker(cfg); err == nil || !strings.HasPrefix(err.Error(), "workspaceone: metrics: ") {
		t.Errorf("NewChecker with a clashing registry = %v, want a metrics error", err)
	}
	cfg.Registerer = nil
	if _, err := workspaceone.NewChecker(cfg); err != nil {
		t.Errorf("NewChecker without a registry = %v", err)
	}
}
