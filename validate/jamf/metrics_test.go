package jamf_test

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/certgate/certgate/integration/fakes/fakehttp"
	fakejamf "github.com/certgate/certgate/integration/fakes/jamf"
	"github.com/certgate/certgate/validate/jamf"
)

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := jamf.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jamf.NewMetrics(reg); err == nil || err.Error() != "jamf: metrics: already registered (create one Metrics per registry and share it)" {
		t.Errorf("second NewMetrics = %v", err)
	}
	e := newEnv(t, func(c *jamf.CheckerConfig) { c.Metrics = m })
	id := e.fake.AddComputer(fakejamf.Computer{UDID: "X"})
	ctx := context.Background()
	_ = e.c.CheckDevice(ctx, jamf.DeviceRef{Kind: jamf.KindComputer, JSSID: id})
	_ = e.c.CheckDevice(ctx, jamf.DeviceRef{Kind: jamf.KindComputer, JSSID: "999"})
	e.fake.SetFault(fakejamf.RouteComputers, fakehttp.HTML(500))
	_ = e.c.CheckDevice(ctx, jamf.DeviceRef{Kind: jamf.KindComputer, JSSID: id})

	h := newHookEnv(t, func(c *jamf.WebhookConfig) { c.Metrics = m })
	_, _ = h.driver.SCEPChallenge(ctx, fakejamf.SCEPChallengeEvent{PayloadIdentifier: payloadID})
	d := h.driver
	d.Password = "wrong"
	_, _ = d.SCEPChallenge(ctx, fakejamf.SCEPChallengeEvent{PayloadIdentifier: payloadID})
	_, _ = h.driver.Post(ctx, "application/json", []byte("{"))

	tests := []struct {
		name   string
		metric prometheus.Collector
		want   float64
	}{
		{"ok/lookup found", m.RequestsFor("device_lookup", "found"), 1},
		{"ok/lookup not found", m.RequestsFor("device_lookup", "not_found"), 1},
		{"ok/lookup error", m.RequestsFor("device_lookup", "error"), 1},
		{"ok/webhook issued", m.RequestsFor("webhook", "issued"), 1},
		{"ok/webhook unauthorized", m.RequestsFor("webhook", "unauthorized"), 1},
		{"ok/webhook bad request", m.RequestsFor("webhook", "bad_request"), 1},
		{"ok/token refreshes", m.TokenRefreshesFor("ok"), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := testutil.ToFloat64(tt.metric); got != tt.want {
				t.Errorf("= %v, want %v", got, tt.want)
			}
		})
	}
	if n := testutil.CollectAndCount(reg, "certgate_jamf_request_duration_seconds"); n != 2 {
		t.Errorf("latency series = %d, want 2 (one per operation)", n)
	}
	// A nil *Metrics records nothing and does not fail.
	var none *jamf.Metrics
	if m, err := jamf.NewMetrics(nil); m != none || err != nil {
		t.Errorf("NewMetrics(nil) = %v, %v", m, err)
	}
}
