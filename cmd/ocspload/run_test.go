package main

import (
	"context"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	xocsp "golang.org/x/crypto/ocsp"
)

// TestLoaderRun drives a fake responder that answers serial 1 good,
// serial 2 revoked and serial 3 with HTTP 503, through either client, and
// checks that every answer is counted under the right verdict.
func TestLoaderRun(t *testing.T) {
	caKey := testKey(t)
	caCert := testCert(t, "Test CA", caKey, nil, nil, true, nil)
	now := time.Now().UTC().Truncate(time.Second)
	answers := map[int64][]byte{}
	for s, status := range map[int64]int{1: xocsp.Good, 2: xocsp.Revoked} {
		der, err := xocsp.CreateResponse(caCert, caCert, xocsp.Response{
			Status: status, SerialNumber: big.NewInt(s), ThisUpdate: now, NextUpdate: now.Add(time.Hour), RevokedAt: now,
		}, caKey)
		if err != nil {
			t.Fatal(err)
		}
		answers[s] = der
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req, err := xocsp.ParseRequest(body)
		if err != nil || r.Header.Get("Content-Type") != "application/ocsp-request" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		der, ok := answers[req.SerialNumber.Int64()]
		if !ok {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		w.Write(der)
	}))
	defer srv.Close()
	base, _ := url.Parse(srv.URL)
	probes, err := buildProbes(base, caCert, []*big.Int{big.NewInt(1), big.NewInt(2), big.NewInt(3)})
	if err != nil {
		t.Fatal(err)
	}
	for _, client := range []string{"http", "raw"} {
		t.Run("ok/"+client+" client", func(t *testing.T) {
			l := &loader{hc: srv.Client(), url: srv.URL, probes: probes}
			if client == "raw" {
				if l.raw, err = rawRequests(base, probes, false); err != nil {
					t.Fatal(err)
				}
				l.addr, l.timeout = hostPort(base), 5*time.Second
			}
			res := l.run(context.Background(), 4, 30)
			res.check(probes, caCert, time.Now(), xocsp.Good)
			checkCounts(t, res)
		})
	}
}

func checkCounts(t *testing.T, res *result) {
	t.Helper()

	if res.ok != 10 || res.distinct != 1 {
		t.Errorf("ok %d with %d distinct bodies, want 10 of one body", res.ok, res.distinct)
	}
	if len(res.latencies) != 20 {
		t.Errorf("%d latencies, want 20 (one per HTTP 200)", len(res.latencies))
	}
	want := map[string]int{"certStatus revoked": 10, "HTTP 503": 10}
	for frag, n := range want {
		got := 0
		for k, v := range res.failures {
			if strings.Contains(k, frag) {
				got += v
			}
		}
		if got != n {
			t.Errorf("%d failures containing %q, want %d (all: %v)", got, frag, n, res.failures)
		}
	}
}
