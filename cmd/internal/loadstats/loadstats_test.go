package loadstats

import (
	"testing"
	"time"
)

// millis turns 1, 2, 3 into 1ms, 2ms, 3ms to keep the tables short.
func millis(vs ...int) []time.Duration {
	out := make([]time.Duration, len(vs))
	for i, v := range vs {
		out[i] = time.Duration(v) * time.Millisecond
	}
	return out
}

func oneToN(n int) []time.Duration {
	vs := make([]int, n)
	for i := range vs {
		vs[i] = i + 1
	}
	return millis(vs...)
}

func TestPercentile(t *testing.T) {
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"ok/empty is zero", nil, 50, 0},
		{"ok/single value for any p", millis(7), 99, 7 * time.Millisecond},
		{"ok/p50 of 1..100", oneToN(100), 50, 50 * time.Millisecond},
		{"ok/p90 of 1..100", oneToN(100), 90, 90 * time.Millisecond},
		{"ok/p99 of 1..100 is exact", oneToN(100), 99, 99 * time.Millisecond},
		{"ok/p99 of 1..1000 is exact", oneToN(1000), 99, 990 * time.Millisecond},
		{"ok/p99.9 of 1..1000 is exact", oneToN(1000), 99.9, 999 * time.Millisecond},
		{"ok/p50 of even count takes lower middle", millis(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"ok/p50 rounds rank up", millis(1, 2, 3), 50, 2 * time.Millisecond},
		{"ok/p99 of small sample is max", oneToN(10), 99, 10 * time.Millisecond},
		{"ok/p100 is max", oneToN(10), 100, 10 * time.Millisecond},
		{"ok/p0 clamps to min", oneToN(10), 0, 1 * time.Millisecond},
		{"ok/p above 100 clamps to max", oneToN(10), 150, 10 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("Percentile(%v) = %v, want %v", tt.p, got, tt.want)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	tests := []struct {
		name string
		in   []time.Duration
		want Summary
	}{
		{"ok/empty", nil, Summary{}},
		{"ok/unsorted input", millis(9, 1, 5, 3, 7, 2, 8, 4, 10, 6), Summary{
			P50: 5 * time.Millisecond, P90: 9 * time.Millisecond,
			P99: 10 * time.Millisecond, Max: 10 * time.Millisecond,
		}},
		{"ok/one slow outlier shows only in p99 and max", append(millis(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1), 500*time.Millisecond), Summary{
			P50: time.Millisecond, P90: time.Millisecond,
			P99: 500 * time.Millisecond, Max: 500 * time.Millisecond,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := append([]time.Duration(nil), tt.in...)
			if got := Summarize(tt.in); got != tt.want {
				t.Errorf("summarize = %+v, want %+v", got, tt.want)
			}
			for i := range in {
				if in[i] != tt.in[i] {
					t.Fatalf("summarize reordered its input at %d", i)
				}
			}
		})
	}
}

func TestRate(t *testing.T) {
	tests := []struct {
		name string
		ok   int
		wall time.Duration
		want float64
	}{
		{"ok/100 in 2s", 100, 2 * time.Second, 50},
		{"ok/none succeeded", 0, time.Second, 0},
		{"ok/zero wall is zero, not Inf", 5, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Rate(tt.ok, tt.wall); got != tt.want {
				t.Errorf("Rate(%d, %v) = %v, want %v", tt.ok, tt.wall, got, tt.want)
			}
		})
	}
}
