package main

import (
	"math"
	"slices"
	"time"
)

// summary is the latency distribution reported for a run.
type summary struct {
	p50, p90, p99, max time.Duration
}

// summarize leaves lat untouched; an empty sample gives all zeros.
func summarize(lat []time.Duration) summary {
	if len(lat) == 0 {
		return summary{}
	}
	sorted := slices.Clone(lat)
	slices.Sort(sorted)
	return summary{
		p50: percentile(sorted, 50),
		p90: percentile(sorted, 90),
		p99: percentile(sorted, 99),
		max: sorted[len(sorted)-1],
	}
}

// percentile uses the nearest-rank method on an ascending sample: the
// smallest value with at least p% of the sample at or below it. Unlike
// interpolation it only ever reports a latency that was observed.
func percentile(sorted []time.Duration, p float64) time.Duration {
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

// rate is successful enrollments per second of wall time.
func rate(ok int, wall time.Duration) float64 {
	if wall <= 0 {
		return 0
	}
	return float64(ok) / wall.Seconds()
}
