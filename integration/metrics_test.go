//go:build integration

package integration

import (
	"bytes"
	"io"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/smallstep/scep"
)

// scrape returns the server's /metrics body.
func scrape(t *testing.T, s *server) string {
	t.Helper()
	resp, err := httpClient.Get(s.URL + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s %v", resp.Status, err)
	}
	return string(body)
}

// metricValue returns the value of the sample of name whose labels are
// exactly want, and whether it exists. It reads the text exposition format
// line by line; label values in certgate's metrics hold no escaped quotes.
func metricValue(t *testing.T, body, name string, want map[string]string) (float64, bool) {
	t.Helper()
	for _, line := range strings.Split(body, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		series, value, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		metric, labels, _ := strings.Cut(series, "{")
		if metric != name {
			continue
		}
		got := map[string]string{}
		for _, kv := range strings.Split(strings.TrimSuffix(labels, "}"), ",") {
			if k, v, ok := strings.Cut(kv, "="); ok {
				got[k] = strings.Trim(v, `"`)
			}
		}
		if !sameLabels(got, want) {
			continue
		}
		f, err := strconv.ParseFloat(strings.Fields(value)[0], 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		return f, true
	}
	return 0, false
}

func sameLabels(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestMetricsPromtool checks /metrics with Prometheus' own linter after the
// enrollment counters have series for both outcomes, and that those
// counters count.
func TestMetricsPromtool(t *testing.T) {
	promtool := requireTool(t, "promtool")
	srv := startServer(t, newDataDir(t))
	c := newSCEPClient(t, srv.URL+"/scep")
	c.mustEnroll(t, "metrics-ok", srv.Challenge())
	mustFail(t, c.mustTransact(t, pkcsReq(t, "metrics-bad", "wrong-challenge")), scep.BadRequest)

	body := scrape(t, srv)
	for _, tc := range []struct {
		result string
		want   float64
	}{{"issued", 1}, {"rejected", 1}} {
		labels := map[string]string{"protocol": "scep", "profile": "default", "result": tc.result}
		got, ok := metricValue(t, body, "certgate_enrollments_total", labels)
		if !ok || got != tc.want {
			t.Errorf("certgate_enrollments_total%v = %v (present %v), want %v", labels, got, ok, tc.want)
		}
	}

	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s\nmetrics:\n%s", err, out.String(), body)
	}
}
