package main

import (
	"io"
	"strings"
	"testing"
)

func TestParseOptions(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		wantErr   string
		wantN     int
		wantKeys  int
		wantConns int
	}{
		{"ok/defaults", []string{"-url", "http://127.0.0.1/scep"}, "", 200, 64, 8},
		{"ok/small n shrinks the key pool", []string{"-url", "http://127.0.0.1/scep", "-n", "10"}, "", 10, 10, 8},
		{"ok/duration alone lifts the count limit", []string{"-url", "http://127.0.0.1/scep", "-duration", "5s"}, "", 0, 64, 8},
		{"ok/duration with explicit n keeps it", []string{"-url", "http://127.0.0.1/scep", "-duration", "5s", "-n", "30"}, "", 30, 30, 8},
		{"fail/no url", nil, "-url is required", 0, 0, 0},
		{"fail/zero concurrency", []string{"-url", "u", "-c", "0"}, "-c must be at least 1", 0, 0, 0},
		{"fail/zero n without duration", []string{"-url", "u", "-n", "0"}, "-n must be at least 1", 0, 0, 0},
		{"fail/unknown cipher", []string{"-url", "u", "-cipher", "des"}, "want aes128 or aes256", 0, 0, 0},
		{"fail/tiny keys", []string{"-url", "u", "-key-bits", "512"}, "-key-bits must be between", 0, 0, 0},
		{"fail/stray argument", []string{"-url", "u", "extra"}, "unexpected argument", 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseOptions(tt.args, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseOptions error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseOptions: %v", err)
			}
			if o.plan.n != tt.wantN || o.plan.keys != tt.wantKeys || o.plan.concurrency != tt.wantConns {
				t.Errorf("n %d keys %d c %d, want %d %d %d", o.plan.n, o.plan.keys, o.plan.concurrency, tt.wantN, tt.wantKeys, tt.wantConns)
			}
		})
	}
}
