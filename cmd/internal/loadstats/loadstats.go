// Package loadstats summarises the latencies the load generators
// (cmd/scepload, cmd/estload, cmd/ocspload) measure, the same way for both, so their
// figures can be set side by side.
package loadstats

import (
	"math"
	"slices"
	"time"
)

// Summary is the latency distribution reported for a run.
type Summary struct {
	P50, P90, P99, Max time.Duration
}

// Summarize leaves lat untouched; an empty sample gives all zeros.
func Summarize(lat []time.Duration) Summary {
	if len(lat) == 0 {
		return Summary{}
	}
	sorted := slices.Clone(lat)
	slices.Sort(sorted)
	return Summary{
		P50: Percentile(sorted, 50),
		P90: Percentile(sorted, 90),
		P99: Percentile(sorted, 99),
		Max: sorted[len(sorted)-1],
	}
}

// Percentile uses the nearest-rank method on an ascending sample: the
// smallest value with at least p% of the sample at or below it. Unlike
// interpolation it only ever reports a latency that was observed.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	// Multiplying first keeps the rank exact whenever p*n is a multiple of
	// 100: 99.9/100*1000 comes out just above 999, and its ceiling would
	// skip a rank.
	rank := int(math.Ceil(p * float64(len(sorted)) / 100))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// Rate is successful operations per second of wall time.
func Rate(ok int, wall time.Duration) float64 {
	if wall <= 0 {
		return 0
	}
	return float64(ok) / wall.Seconds()
}

// Ms is d in milliseconds, for reports.
func Ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }
