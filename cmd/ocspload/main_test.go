package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestCheckURL(t *testing.T) {
	tests := []struct {
		name    string
		url     string
		wantErr string
	}{
		{"ok/127.0.0.1", "http://127.0.0.1:8080/ocsp", ""},
		{"ok/elsewhere in 127/8", "http://127.1.2.3:80/", ""},
		{"ok/localhost", "http://localhost:9/", ""},
		{"ok/IPv6 loopback", "http://[::1]:8080/ocsp", ""},
		{"fail/private address", "http://10.0.0.1/ocsp", "not a loopback address"},
		{"fail/public name", "http://ocsp.example.com/", "not a loopback address"},
		{"fail/https", "https://127.0.0.1/", "want an http URL"},
		{"fail/no host", "http:///ocsp", "not a loopback address"},
		{"fail/unparsable", "http://[::1/", "-url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := checkURL(tt.url)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

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
