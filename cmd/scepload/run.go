package main

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/certgate/certgate/cmd/internal/loadgen"
)

// plan bounds one load run. At least one of n and duration is positive.
type plan struct {
	n           int           // enrollments to attempt; 0 means no count limit
	duration    time.Duration // stop starting new enrollments after this; 0 means none
	concurrency int
	keyBits     int
	keys        int
}

// sample is one timed round trip, kept for checking after the clock stops.
type sample struct {
	req     *request
	body    []byte
	latency time.Duration
	err     error // build or transport error; body is nil then
}

// result is what a run measured. Latencies are of successful enrollments only.
type result struct {
	total     int
	ok        int
	failures  map[string]int
	wall      time.Duration
	latencies []time.Duration
	// duplicateSerials counts issued certificates whose issuer and serial
	// an earlier one in this run already had (RFC 5280 §4.1.2.2 forbids
	// it). They still count as OK: the protocol exchange succeeded, but a
	// CA that does this under load is broken, and a comparison must say so.
	duplicateSerials int
}

// run drives the load. Client-side crypto is kept off the clock where it
// can be: keys, and with a count limit every PKCSReq, are built before the
// timed phase, and all CertReps are checked after it, so that on a small
// machine the client competes as little as possible with the server for CPU.
func run(ctx context.Context, c *client, p plan) (*result, error) {
	pool, err := makePool(p.keys, p.keyBits)
	if err != nil {
		return nil, err
	}
	runID := make([]byte, 4)
	if _, err := rand.Read(runID); err != nil {
		return nil, fmt.Errorf("scepload: run id: %w", err)
	}
	prefix := "scepload-" + hex.EncodeToString(runID) + "-"
	buildOne := func(i int) (*request, error) {
		return c.build(pool[i%len(pool)], fmt.Sprintf("%s%d", prefix, i))
	}

	var prebuilt []*request
	if p.n > 0 {
		if prebuilt, err = prebuild(p.n, buildOne); err != nil {
			return nil, err
		}
	}

	var next atomic.Int64
	perWorker := make([][]sample, p.concurrency)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range p.concurrency {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if (p.n > 0 && i >= p.n) || (p.duration > 0 && time.Since(start) >= p.duration) {
					return
				}
				var s sample
				if prebuilt != nil {
					s.req = prebuilt[i]
				} else if s.req, s.err = buildOne(i); s.err != nil {
					perWorker[w] = append(perWorker[w], s)
					continue
				}
				t0 := time.Now()
				s.body, s.err = c.send(ctx, s.req.raw)
				s.latency = time.Since(t0)
				perWorker[w] = append(perWorker[w], s)
			}
		})
	}
	wg.Wait()
	wall := time.Since(start)

	var samples []sample
	for _, ws := range perWorker {
		samples = append(samples, ws...)
	}
	return tally(c, samples, wall), nil
}

// makePool generates the reusable client identities in parallel.
func makePool(count, bits int) ([]*identity, error) {
	pool := make([]*identity, count)
	err := loadgen.Parallel(count, func(i int) error {
		id, err := newIdentity(bits, int64(i)+1)
		pool[i] = id
		return err
	})
	return pool, err
}

func prebuild(n int, buildOne func(int) (*request, error)) ([]*request, error) {
	reqs := make([]*request, n)
	err := loadgen.Parallel(n, func(i int) error {
		r, err := buildOne(i)
		reqs[i] = r
		return err
	})
	return reqs, err
}

// tally checks every answer (in parallel, off the clock) and counts outcomes.
func tally(c *client, samples []sample, wall time.Duration) *result {
	reasons := make([]string, len(samples))
	certs := make([]*x509.Certificate, len(samples))
	_ = loadgen.Parallel(len(samples), func(i int) error {
		s := samples[i]
		switch {
		case s.err != nil:
			reasons[i] = sendReason(s.err, s.req == nil)
		default:
			var err error
			if certs[i], err = c.check(s.req, s.body); err != nil {
				var ce *checkError
				if errors.As(err, &ce) {
					reasons[i] = ce.reason
				} else {
					reasons[i] = "check"
				}
			}
		}
		return nil
	})
	res := &result{total: len(samples), failures: map[string]int{}, wall: wall}
	seen := map[string]bool{}
	for i, r := range reasons {
		if r != "" {
			res.failures[r]++
			continue
		}
		res.ok++
		res.latencies = append(res.latencies, samples[i].latency)
		id := string(certs[i].RawIssuer) + "/" + certs[i].SerialNumber.String()
		if seen[id] {
			res.duplicateSerials++
		}
		seen[id] = true
	}
	return res
}

// sendReason names a failure that happened before any CertRep was parsed.
func sendReason(err error, unbuilt bool) string {
	var status errHTTPStatus
	var ne net.Error
	switch {
	case unbuilt:
		return "build"
	case errors.As(err, &status):
		return fmt.Sprintf("http-%d", int(status))
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	default:
		return "transport"
	}
}
