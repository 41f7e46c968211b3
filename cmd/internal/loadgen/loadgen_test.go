package loadgen

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"
)

func TestCheckURL(t *testing.T) {
	tests := []struct {
		name, raw   string
		schemes     []string
		allowRemote bool
		wantErr     string
	}{
		{name: "ok/loopback v4", raw: "https://127.0.0.1:8443/.well-known/est", schemes: []string{"https"}},
		{name: "ok/loopback v6", raw: "http://[::1]:8080/scep", schemes: []string{"http", "https"}},
		{name: "ok/localhost", raw: "http://localhost:8080/ocsp", schemes: []string{"http"}},
		{name: "ok/remote allowed", raw: "https://est.example.com/", schemes: []string{"https"}, allowRemote: true},
		{name: "fail/remote", raw: "https://est.example.com/", schemes: []string{"https"}, wantErr: "not a loopback address (use -allow-remote)"},
		{name: "fail/scheme", raw: "http://127.0.0.1/", schemes: []string{"https"}, wantErr: "want an https URL"},
		{name: "fail/no host", raw: "https:///x", schemes: []string{"https"}, wantErr: "has no host"},
		{name: "fail/query", raw: "http://127.0.0.1/scep?x=1", schemes: []string{"http"}, wantErr: "want no query"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, err := CheckURL("tool", tc.raw, tc.schemes, tc.allowRemote)
			if tc.wantErr == "" {
				if err != nil || u == nil {
					t.Fatalf("CheckURL = %v, %v", u, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.HasPrefix(err.Error(), "tool: ") {
				t.Fatalf("err = %v, want one starting with the tool and containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestParallel(t *testing.T) {
	var calls atomic.Int64
	seen := make([]atomic.Bool, 100)
	if err := Parallel(100, func(i int) error {
		calls.Add(1)
		if seen[i].Swap(true) {
			t.Errorf("index %d run twice", i)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 100 {
		t.Fatalf("%d calls, want 100", calls.Load())
	}
	boom := errors.New("boom")
	if err := Parallel(10, func(i int) error {
		if i == 3 {
			return boom
		}
		return nil
	}); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
}
