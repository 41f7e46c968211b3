package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/certgate/certgate/cmd/internal/loadstats"
)

// report is the -json line. Field names are a stable interface for scripts
// (integration/bench/est-compare.sh reads them).
type report struct {
	URL                  string         `json:"url"`
	Key                  string         `json:"key"`
	Keys                 int            `json:"keys"`
	Concurrency          int            `json:"concurrency"`
	Warmup               int            `json:"warmup"`
	WarmupFailed         int            `json:"warmup_failed"`
	Issuers              []string       `json:"issuers"`
	Total                int            `json:"total"`
	OK                   int            `json:"ok"`
	Failed               int            `json:"failed"`
	Failures             map[string]int `json:"failures"`
	DuplicateSerials     int            `json:"duplicate_serials"`
	WallSeconds          float64        `json:"wall_seconds"`
	EnrollmentsPerSecond float64        `json:"enrollments_per_second"`
	P50ms                float64        `json:"p50_ms"`
	P90ms                float64        `json:"p90_ms"`
	P99ms                float64        `json:"p99_ms"`
	MaxMs                float64        `json:"max_ms"`
}

func printJSON(w io.Writer, o *options, res *result) error {
	s := loadstats.Summarize(res.latencies)
	issuers := res.issuers
	if issuers == nil {
		issuers = []string{} // [] rather than null keeps scripts' parsing simple
	}
	b, err := json.Marshal(report{
		URL: o.url, Key: o.plan.keyType, Keys: o.plan.keys, Concurrency: o.plan.concurrency,
		Warmup: o.plan.warmup, WarmupFailed: res.warmupFailed, Issuers: issuers,
		Total: res.total, OK: res.ok, Failed: res.total - res.ok, Failures: res.failures,
		DuplicateSerials: res.duplicateSerials,
		WallSeconds:      res.wall.Seconds(), EnrollmentsPerSecond: loadstats.Rate(res.ok, res.wall),
		P50ms: loadstats.Ms(s.P50), P90ms: loadstats.Ms(s.P90), P99ms: loadstats.Ms(s.P99), MaxMs: loadstats.Ms(s.Max),
	})
	if err != nil {
		return fmt.Errorf("estload: encode report: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

func printText(w io.Writer, o *options, res *result) error {
	s := loadstats.Summarize(res.latencies)
	var b strings.Builder
	fmt.Fprintf(&b, "target      %s (%s client keys x%d, concurrency %d)\n",
		o.url, o.plan.keyType, o.plan.keys, o.plan.concurrency)
	for _, is := range res.issuers {
		fmt.Fprintf(&b, "issued by   %s\n", is)
	}
	if o.plan.warmup > 0 {
		fmt.Fprintf(&b, "warm-up     %d (%d failed, not counted below)\n", o.plan.warmup, res.warmupFailed)
	}
	fmt.Fprintf(&b, "total       %d\nok          %d\nfailed      %d\n", res.total, res.ok, res.total-res.ok)
	reasons := make([]string, 0, len(res.failures))
	for r := range res.failures {
		reasons = append(reasons, r)
	}
	slices.Sort(reasons)
	for _, r := range reasons {
		fmt.Fprintf(&b, "  %-22s %d\n", r, res.failures[r])
	}
	if res.duplicateSerials > 0 {
		fmt.Fprintf(&b, "WARNING     %d issued certificates repeat an earlier serial number\n", res.duplicateSerials)
	}
	fmt.Fprintf(&b, "wall        %.3fs\nrate        %.1f enrollments/s\n", res.wall.Seconds(), loadstats.Rate(res.ok, res.wall))
	fmt.Fprintf(&b, "latency     p50 %.2fms  p90 %.2fms  p99 %.2fms  max %.2fms\n",
		loadstats.Ms(s.P50), loadstats.Ms(s.P90), loadstats.Ms(s.P99), loadstats.Ms(s.Max))
	_, err := io.WriteString(w, b.String())
	return err
}
