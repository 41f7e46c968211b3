package main

import (
	"io"
	"strings"
	"testing"
)

func TestCheckURL(t *testing.T) {
	tests := []struct {
		name        string
		url         string
		allowRemote bool
		wantErr     string // substring; empty means success
	}{
		{"ok/IPv4 loopback", "http://127.0.0.1:8080/scep", false, ""},
		{"ok/other 127/8 address", "http://127.0.0.2/scep", false, ""},
		{"ok/IPv6 loopback", "http://[::1]:8080/scep", false, ""},
		{"ok/localhost", "https://localhost/scep", false, ""},
		{"ok/remote when allowed", "http://scep.example.com/scep", true, ""},
		{"fail/private address", "http://10.0.0.1/scep", false, "not a loopback address"},
		{"fail/host name", "http://scep.example.com/scep", false, "not a loopback address"},
		{"fail/not http", "ftp://127.0.0.1/scep", false, "want an http or https URL"},
		{"fail/no host", "http:///scep", false, "has no host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := checkURL(tt.url, tt.allowRemote)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("checkURL: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("checkURL error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

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
