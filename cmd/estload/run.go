package main

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/certgate/certgate/cmd/internal/loadgen"
)

// plan bounds one load run.
type plan struct {
	n           int // timed enrollments
	warmup      int // untimed enrollments before them
	concurrency int
	keyType     string // a keyGenerators name
	keys        int    // distinct client keys, reused round-robin
}

// sample is one round trip, kept for checking after the clock stops.
type sample struct {
	req     *request
	body    []byte
	latency time.Duration
	err     error // transport or HTTP status error; body is nil then
}

// result is what a run measured. Latencies are of successful timed
// enrollments only; the warm-up counts only its failures.
type result struct {
	total            int
	ok               int
	failures         map[string]int
	wall             time.Duration
	latencies        []time.Duration
	warmupFailed     int
	issuers          []string // distinct issuer names and signature algorithms seen
	duplicateSerials int      // certificates repeating an earlier issuer+serial (RFC 5280 §4.1.2.2)
}

// run drives the load. Client-side crypto stays off the clock: every key
// and CSR is made before the warm-up, and every answer is checked after
// the timed phase, so on a small machine the client competes as little as
// possible with the server for CPU.
func run(ctx context.Context, c *client, p plan) (*result, error) {
	gen := keyGenerators[p.keyType]
	if gen == nil {
		return nil, fmt.Errorf("estload: unknown key type %q", p.keyType)
	}
	pool := make([]crypto.Signer, max(p.keys, 1))
	if err := loadgen.Parallel(len(pool), func(i int) error {
		k, err := gen()
		if err != nil {
			return fmt.Errorf("estload: generate %s key: %w", p.keyType, err)
		}
		pool[i] = k
		return nil
	}); err != nil {
		return nil, err
	}
	// A run id keeps subjects distinct across runs too, so a server that
	// treats a repeated subject or CSR specially never sees one.
	runID := make([]byte, 4)
	if _, err := rand.Read(runID); err != nil {
		return nil, fmt.Errorf("estload: run id: %w", err)
	}
	prefix := "estload-" + hex.EncodeToString(runID) + "-"
	reqs := make([]*request, p.warmup+p.n)
	if err := loadgen.Parallel(len(reqs), func(i int) error {
		r, err := build(pool[i%len(pool)], fmt.Sprintf("%s%d", prefix, i))
		reqs[i] = r
		return err
	}); err != nil {
		return nil, err
	}

	// The warm-up opens the keep-alive connections (and their TLS
	// handshakes) and lets the server reach steady state before timing.
	warm, _ := drive(ctx, c, reqs[:p.warmup], p.concurrency)
	timed, wall := drive(ctx, c, reqs[p.warmup:], p.concurrency)

	res := tally(timed, wall)
	for _, s := range warm {
		if s.err != nil {
			res.warmupFailed++
		} else if _, err := check(s.req, s.body); err != nil {
			res.warmupFailed++
		}
	}
	return res, nil
}

// drive sends reqs with up to concurrency workers and returns the samples
// (in no particular order) and the wall time. It stops starting requests
// when ctx ends, so an interrupted run reports what it did.
func drive(ctx context.Context, c *client, reqs []*request, concurrency int) ([]sample, time.Duration) {
	var next atomic.Int64
	perWorker := make([][]sample, min(concurrency, max(len(reqs), 1)))
	var wg sync.WaitGroup
	start := time.Now()
	for w := range perWorker {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= len(reqs) {
					return
				}
				s := sample{req: reqs[i]}
				t0 := time.Now()
				s.body, s.err = c.send(ctx, s.req)
				s.latency = time.Since(t0)
				perWorker[w] = append(perWorker[w], s)
			}
		})
	}
	wg.Wait()
	return slices.Concat(perWorker...), time.Since(start)
}

// tally checks every answer (in parallel, off the clock) and counts outcomes.
func tally(samples []sample, wall time.Duration) *result {
	reasons := make([]string, len(samples))
	certs := make([]*x509.Certificate, len(samples))
	_ = loadgen.Parallel(len(samples), func(i int) error {
		s := samples[i]
		if s.err != nil {
			reasons[i] = sendReason(s.err)
			return nil
		}
		var err error
		if certs[i], err = check(s.req, s.body); err != nil {
			reasons[i] = "check"
			var ce *checkError
			if errors.As(err, &ce) {
				reasons[i] = ce.reason
			}
		}
		return nil
	})
	res := &result{total: len(samples), failures: map[string]int{}, wall: wall}
	seen := map[string]bool{}
	issuers := map[string]bool{}
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
		issuers[issuerName(certs[i])+" ("+certs[i].SignatureAlgorithm.String()+")"] = true
	}
	for name := range issuers {
		res.issuers = append(res.issuers, name)
	}
	slices.Sort(res.issuers)
	return res
}

func issuerName(cert *x509.Certificate) string {
	if cert.Issuer.CommonName != "" {
		return cert.Issuer.CommonName
	}
	return cert.Issuer.String()
}

// sendReason names a failure that happened before any answer was parsed.
func sendReason(err error) string {
	var status errHTTPStatus
	var ne net.Error
	switch {
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
