package main

import (
	"encoding/json"
	"fmt"
	"github.com/certgate/certgate/cmd/internal/loadstats"
	"io"
	"runtime"
	"slices"
	"time"
)

// maxReportedFailures bounds the failure messages in a report; failures
// name their serial, so a broken responder would otherwise list them all.
const maxReportedFailures = 5

// report is the result of a run; its JSON field names are a stable
// interface for scripts (integration/bench/ocsp-compare.sh).
type report struct {
	Name         string   `json:"name,omitempty"`
	URL          string   `json:"url"`
	Method       string   `json:"method"`
	Client       string   `json:"client"`
	Concurrency  int      `json:"concurrency"`
	Serials      int      `json:"serials"`
	Total        int      `json:"total"`
	OK           int      `json:"ok"`
	Errors       int      `json:"errors"`
	Distinct     int      `json:"distinct_valid_responses"`
	WallSeconds  float64  `json:"wall_seconds"`
	PerSecond    float64  `json:"responses_per_second"`
	P50ms        float64  `json:"p50_ms"`
	P90ms        float64  `json:"p90_ms"`
	P99ms        float64  `json:"p99_ms"`
	MaxMs        float64  `json:"max_ms"`
	ClientProcs  int      `json:"client_gomaxprocs"`
	ClientCPUus  float64  `json:"client_cpu_us_per_request"`
	FailureKinds []string `json:"failures,omitempty"`
}

func newReport(o *runOptions, res *result, serials int) *report {
	s := loadstats.Summarize(res.latencies)
	errs := 0
	kinds := make([]string, 0, len(res.failures))
	for k, v := range res.failures {
		errs += v
		kinds = append(kinds, fmt.Sprintf("%d× %s", v, k))
	}
	slices.Sort(kinds)
	if len(kinds) > maxReportedFailures {
		kinds = append(kinds[:maxReportedFailures], fmt.Sprintf("and %d more kinds", len(kinds)-maxReportedFailures))
	}
	method := "POST"
	if o.useGET {
		method = "GET"
	}
	return &report{
		Name: o.name, URL: o.url, Method: method, Client: o.client, Concurrency: o.concurrency,
		Serials: serials, Total: res.ok + errs, OK: res.ok, Errors: errs,
		Distinct: res.distinct, WallSeconds: res.wall.Seconds(),
		PerSecond: loadstats.Rate(res.ok, res.wall),
		P50ms:     loadstats.Ms(s.P50), P90ms: loadstats.Ms(s.P90), P99ms: loadstats.Ms(s.P99), MaxMs: loadstats.Ms(s.Max),
		ClientProcs: runtime.GOMAXPROCS(0), FailureKinds: kinds,
		ClientCPUus: perRequestMicros(res.clientCPU, res.ok+errs),
	}
}

func perRequestMicros(d time.Duration, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(d.Microseconds()) / float64(n)
}

func (r *report) writeJSON(w io.Writer) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("ocspload: report: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

func (r *report) writeText(w io.Writer) error {
	_, err := fmt.Fprintf(w, "%s %s (%s client), %d workers, %d serials: %d/%d ok in %.2fs (%d distinct valid responses)\n"+
		"  %.0f responses/s  p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  max %.3f ms  (client CPU %.0f µs/request)\n",
		r.Method, r.URL, r.Client, r.Concurrency, r.Serials, r.OK, r.Total, r.WallSeconds, r.Distinct,
		r.PerSecond, r.P50ms, r.P90ms, r.P99ms, r.MaxMs, r.ClientCPUus)
	for _, k := range r.FailureKinds {
		if err == nil {
			_, err = fmt.Fprintf(w, "  failed: %s\n", k)
		}
	}
	return err
}
