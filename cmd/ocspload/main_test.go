package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestMainErrRefuses(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"fail/no command", nil, 2, "usage:"},
		{"fail/unknown command", []string{"bench"}, 2, `unknown command "bench"`},
		{"fail/run without url", []string{"run", "-issuer", "x", "-serials", "y"}, 2, "-url, -issuer and -serials are required"},
		{"fail/run with zero workers", []string{"run", "-url", "http://127.0.0.1/", "-issuer", "x", "-serials", "y", "-c", "0"}, 2, "-c must be"},
		{"fail/run remote", []string{"run", "-url", "http://192.168.1.1/", "-issuer", "x", "-serials", "y"}, 2, "not a loopback address"},
		{"fail/run missing issuer file", []string{"run", "-url", "http://127.0.0.1/", "-issuer", "/nonexistent/ca.pem", "-serials", "y"}, 2, "-issuer"},
		{"fail/seed without out", []string{"seed", "-data-dir", "d"}, 2, "-data-dir and -out are required"},
		{"fail/seed responder outlived by responses", []string{"seed", "-data-dir", "d", "-out", "o", "-validity", "100h"}, 2, "-responder-validity"},
		{"fail/seed without a CA", []string{"seed", "-data-dir", "/nonexistent", "-out", "o"}, 2, "ca: local"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := mainErr(tt.args, &out, &errb); code != tt.wantCode {
				t.Fatalf("exit %d, want %d (stderr %q)", code, tt.wantCode, errb.String())
			}
			if !strings.Contains(errb.String(), tt.wantErr) {
				t.Errorf("stderr %q, want it to contain %q", errb.String(), tt.wantErr)
			}
		})
	}
}
