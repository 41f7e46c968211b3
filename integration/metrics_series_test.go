//go:build integration

package integration

import (
	"testing"

	"github.com/smallstep/scep"
)

// TestMetricsSeries checks the series dashboards and alerts are built on:
// the enrollment counter by outcome, the SCEP route's latency histogram
// and the Go runtime collector.
func TestMetricsSeries(t *testing.T) {
	srv := startServer(t, newDataDir(t))
	c := newSCEPClient(t, srv.URL+"/scep")
	c.mustEnroll(t, "series-ok", srv.Challenge())
	mustFail(t, c.mustTransact(t, pkcsReq(t, "series-bad", "wrong-challenge")), scep.BadRequest)
	body := scrape(t, srv)

	for _, tc := range []struct {
		name   string
		metric string
		labels map[string]string
		// want is the exact value; -1 asks for any positive value
		// (latency buckets and goroutines vary run to run).
		want float64
	}{
		{"ok/enrollments-issued", "certgate_enrollments_total",
			map[string]string{"protocol": "scep", "profile": "default", "result": "issued"}, 1},
		{"ok/enrollments-rejected", "certgate_enrollments_total",
			map[string]string{"protocol": "scep", "profile": "default", "result": "rejected"}, 1},
		{"ok/scep-latency-bucket", "certgate_http_request_duration_seconds_bucket",
			map[string]string{"route": "scep", "le": "+Inf"}, -1},
		{"ok/go-goroutines", "go_goroutines", map[string]string{}, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := metricValue(t, body, tc.metric, tc.labels)
			if !ok {
				t.Fatalf("%s%v missing from /metrics:\n%s", tc.metric, tc.labels, body)
			}
			if (tc.want >= 0 && got != tc.want) || (tc.want < 0 && got <= 0) {
				t.Errorf("%s%v = %v, want %v (-1: any positive value)", tc.metric, tc.labels, got, tc.want)
			}
		})
	}
}
