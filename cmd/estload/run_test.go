package main

import (
	"context"
	"maps"
	"net/http/httptest"
	"net/url"
	"testing"
)

func TestRun(t *testing.T) {
	tests := []struct {
		name     string
		answer   string
		label    string // optional EST label in the URL
		pass     string // what estload sends; the server wants "secret"
		keyType  string
		warmup   int
		wantOK   int
		wantFail map[string]int
		wantDups int
	}{
		{"ok/issued certificates count", "ok", "", "secret", "ecdsa", 0, 4, map[string]int{}, 0},
		{"ok/rsa2048 client keys", "ok", "", "secret", "rsa2048", 0, 4, map[string]int{}, 0},
		{"ok/label is part of the path", "ok", "/router7", "secret", "ecdsa", 0, 4, map[string]int{}, 0},
		{"ok/warm-up is sent but not counted", "ok", "", "secret", "ecdsa", 3, 4, map[string]int{}, 0},
		{"ok/repeated serials are counted but still OK", "same-serial", "", "secret", "ecdsa", 0, 4, map[string]int{}, 3},
		{"fail/certificate for another key", "wrong-key", "", "secret", "ecdsa", 0, 0, map[string]int{"key-mismatch": 4}, 0},
		{"fail/wrong password gets 401", "ok", "", "guess", "ecdsa", 0, 0, map[string]int{"http-401": 4}, 0},
		{"fail/no password gets 401", "ok", "", "", "ecdsa", 0, 0, map[string]int{"http-401": 4}, 0},
		{"fail/answer is not PKCS#7", "garbage", "", "secret", "ecdsa", 0, 0, map[string]int{"parse": 4}, 0},
		{"fail/signed PKCS#7 is not certs-only", "signed", "", "secret", "ecdsa", 0, 0, map[string]int{"not-certs-only": 4}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeEST(t, "/.well-known/est"+tt.label+"/simpleenroll", "secret", tt.answer)
			srv := httptest.NewTLSServer(f)
			defer srv.Close()
			base, err := url.Parse(srv.URL + "/.well-known/est" + tt.label)
			if err != nil {
				t.Fatal(err)
			}
			c := newClient(srv.Client(), base, "device", tt.pass)
			res, err := run(context.Background(), c, plan{n: 4, warmup: tt.warmup, concurrency: 2, keyType: tt.keyType, keys: 2})
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			if res.total != 4 || res.ok != tt.wantOK {
				t.Errorf("total %d ok %d, want 4 and %d (failures %v)", res.total, res.ok, tt.wantOK, res.failures)
			}
			if !maps.Equal(res.failures, tt.wantFail) {
				t.Errorf("failures = %v, want %v", res.failures, tt.wantFail)
			}
			if res.duplicateSerials != tt.wantDups {
				t.Errorf("duplicate serials = %d, want %d", res.duplicateSerials, tt.wantDups)
			}
			if len(res.latencies) != tt.wantOK {
				t.Errorf("%d latencies recorded, want one per OK enrollment (%d)", len(res.latencies), tt.wantOK)
			}
			if got, want := f.hits.Load(), int64(4+tt.warmup); got != want {
				t.Errorf("server saw %d requests, want %d", got, want)
			}
			if res.warmupFailed != 0 {
				t.Errorf("warm-up failures = %d, want 0", res.warmupFailed)
			}
		})
	}
}
