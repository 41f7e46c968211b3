package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// loader sends the prebuilt requests, through hc or, when raw is set,
// through one rawClient per worker.
type loader struct {
	hc     *http.Client
	url    string
	get    bool
	probes []probe

	raw     [][]byte // serialized requests by probe; nil for hc
	addr    string
	timeout time.Duration
}

// sendFunc sends probe pi and returns the body of an HTTP 200 answer,
// valid until the next call.
type sendFunc func(ctx context.Context, pi int) ([]byte, error)

// sender returns one worker's sendFunc and what releases it.
func (l *loader) sender() (sendFunc, func()) {
	if l.raw != nil {
		c := &rawClient{addr: l.addr, timeout: l.timeout, reqs: l.raw}
		return c.do, c.close
	}
	return func(ctx context.Context, pi int) ([]byte, error) { return l.do(ctx, &l.probes[pi]) }, func() {}
}

// do sends one request and returns the body of an HTTP 200 answer.
func (l *loader) do(ctx context.Context, p *probe) ([]byte, error) {
	var req *http.Request
	var err error
	if l.get {
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, p.getURL, nil)
	} else {
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, l.url, bytes.NewReader(p.der))
		if err == nil {
			req.Header.Set("Content-Type", "application/ocsp-request")
		}
	}
	if err != nil {
		return nil, err
	}
	resp, err := l.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return body, nil
}

// answer is one distinct body received for one probe, and how often.
type answer struct {
	body  []byte
	count int
}

// result is what a run saw. Bodies are kept once per probe and distinct
// content and checked after the clock stops, so that on a small machine
// the client's parsing and signature checks do not compete with the
// responder for CPU while it is measured.
type result struct {
	wall      time.Duration
	latencies []time.Duration   // of HTTP 200 answers
	answers   map[int][]*answer // by probe
	failures  map[string]int    // transport errors, non-200, bad responses
	ok        int
	distinct  int           // valid distinct bodies
	clientCPU time.Duration // user+system CPU this process spent sending
}

// run sends n requests from c workers, cycling through the probes.
func (l *loader) run(ctx context.Context, c, n int) *result {
	var next atomic.Int64
	var mu sync.Mutex
	res := &result{failures: map[string]int{}, answers: map[int][]*answer{}}
	var wg sync.WaitGroup
	start := time.Now()
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			send, done := l.sender()
			defer done()
			lat := make([]time.Duration, 0, n/c+1)
			seen := map[int][]*answer{}
			fails := map[string]int{}
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					break
				}
				pi := i % len(l.probes)
				t0 := time.Now()
				body, err := send(ctx, pi)
				d := time.Since(t0)
				if err != nil {
					fails[err.Error()]++
					continue
				}
				lat = append(lat, d)
				remember(seen, pi, body)
			}
			mu.Lock()
			defer mu.Unlock()
			res.latencies = append(res.latencies, lat...)
			for pi, as := range seen {
				for _, a := range as {
					res.merge(pi, a)
				}
			}
			for k, v := range fails {
				res.failures[k] += v
			}
		}()
	}
	wg.Wait()
	res.wall = time.Since(start)
	if err := ctx.Err(); err != nil {
		res.failures["interrupted: "+err.Error()]++
	}
	return res
}

// merge adds a worker's answer to the run's, so that a body that
// several workers received is checked once.
func (r *result) merge(pi int, a *answer) {
	for _, b := range r.answers[pi] {
		if bytes.Equal(b.body, a.body) {
			b.count += a.count
			return
		}
	}
	r.answers[pi] = append(r.answers[pi], a)
}

// remember counts body under probe pi, storing it only when it differs
// from every body already seen for pi (a pre-signed cache answers the
// same bytes every time; a live signer, new bytes each second).
func remember(seen map[int][]*answer, pi int, body []byte) {
	for _, a := range seen[pi] {
		if bytes.Equal(a.body, body) {
			a.count++
			return
		}
	}
	seen[pi] = append(seen[pi], &answer{body: bytes.Clone(body), count: 1})
}

// check validates every distinct answer; an invalid one counts as many
// failures as times it was received.
func (r *result) check(probes []probe, issuer *x509.Certificate, now time.Time, want int) {
	for pi, as := range r.answers {
		for _, a := range as {
			if err := checkResponse(a.body, probes[pi].serial, issuer, now, want); err != nil {
				r.failures[err.Error()] += a.count
				continue
			}
			r.ok += a.count
			r.distinct++
		}
	}
}
