package main

import (
	"math/big"
	"strings"
	"testing"
)

func TestParseSerials(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string // hex
		wantErr string
	}{
		{"ok/one a line", "1f\nABCDEF\n", []string{"1f", "abcdef"}, ""},
		{"ok/blank lines, comments and spaces", "# sample\n\n  0a  \n\r\n#x\n10\r\n", []string{"a", "10"}, ""},
		{"ok/openssl colons and 0x", "0A:1B:2C\n0x0102\n", []string{"a1b2c", "102"}, ""},
		{"ok/no trailing newline", "ff", []string{"ff"}, ""},
		{"fail/not hex names the line", "0a\n\nzz\n", nil, "serials line 3"},
		{"fail/zero is not a serial", "00\n", nil, "serials line 1"},
		{"fail/negative", "-5\n", nil, "serials line 1"},
		{"fail/empty file", "", nil, "no serial in the file"},
		{"fail/only comments", "# nothing\n\n", nil, "no serial in the file"},
		{"fail/line too long", strings.Repeat("a", maxSerialLine+1) + "\n", nil, "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseSerials(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d serials, want %d", len(got), len(tt.want))
			}
			for i, s := range got {
				if s.Text(16) != tt.want[i] {
					t.Errorf("serial %d = %s, want %s", i, s.Text(16), tt.want[i])
				}
			}
		})
	}
}

func bigs(n int) []*big.Int {
	out := make([]*big.Int, n)
	for i := range out {
		out[i] = big.NewInt(int64(i + 1))
	}
	return out
}

func TestSampleSerials(t *testing.T) {
	tests := []struct {
		name  string
		n, k  int
		wantN int
	}{
		{"ok/k of n", 100, 10, 10},
		{"ok/k zero takes all", 50, 0, 50},
		{"ok/k above n takes all", 5, 9, 5},
		{"ok/k equals n", 7, 7, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			all := bigs(tt.n)
			got := sampleSerials(all, tt.k, 42)
			if len(got) != tt.wantN {
				t.Fatalf("len = %d, want %d", len(got), tt.wantN)
			}
			seen := map[int64]bool{}
			for _, s := range got {
				if seen[s.Int64()] || s.Int64() < 1 || s.Int64() > int64(tt.n) {
					t.Fatalf("sample has %v twice or from outside the input", s)
				}
				seen[s.Int64()] = true
			}
			again := sampleSerials(all, tt.k, 42)
			for i := range got {
				if got[i].Cmp(again[i]) != 0 {
					t.Fatalf("same seed gave a different sample at %d: the runs would ask about different serials", i)
				}
			}
			for i, s := range all {
				if s.Int64() != int64(i+1) {
					t.Fatalf("sampleSerials reordered its input")
				}
			}
		})
	}
}

func TestSampleSerialsSeedMatters(t *testing.T) {
	a, b := sampleSerials(bigs(1000), 20, 1), sampleSerials(bigs(1000), 20, 2)
	same := 0
	for i := range a {
		if a[i].Cmp(b[i]) == 0 {
			same++
		}
	}
	if same == len(a) {
		t.Error("seeds 1 and 2 drew the same sample")
	}
}
