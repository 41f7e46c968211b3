package ocsp

import (
	"context"
	"errors"
	"runtime"
	"time"
)

// errBusy: every signing slot stayed taken while a request waited; the
// client gets tryLater (RFC 6960 §2.3).
var errBusy = errors.New("ocsp: every signing slot is busy")

// DefaultSigningWait is how long a request that needs a signature waits
// for a slot before it is answered tryLater.
const DefaultSigningWait = time.Second

// DefaultMaxSigning is the number of signatures made at once for waiting
// clients when Options.MaxSigning is zero: half the CPUs the Go runtime
// uses, at least one, so that a flood of requests that must be signed
// leaves the other half to the cached answers most relying parties get.
// Measured on 2 vCPUs during a flood of unknown serials from 64 clients
// (integration/bench/ocsp-flood.sh): cached answers kept 10.8-14.7k/s
// with one slot, 1.1k/s with two and 0.45-0.5k/s unbounded (21-26k/s
// without the flood).
func DefaultMaxSigning() int { return max(1, runtime.GOMAXPROCS(0)/2) }

// signSlots bounds the signatures made while a client waits: answers for
// serials never asked before (unknown ones included, which are never
// cached) and nonce requests. Anyone can send those at line rate, each
// costing a private-key operation; without a bound they would pile up
// goroutines and latency until every answer timed out. With it, the
// excess is refused at once and cached answers, which take no slot, keep
// flowing. The background refresher does not take slots: nobody waits
// for it, and it re-signs in bounded batches.
type signSlots struct {
	ch   chan struct{}
	wait time.Duration
}

func newSignSlots(n int, wait time.Duration) *signSlots {
	return &signSlots{ch: make(chan struct{}, n), wait: wait}
}

// acquire takes a slot, waiting at most s.wait or until ctx ends; the
// caller must call release after signing.
func (s *signSlots) acquire(ctx context.Context) error {
	select {
	case s.ch <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(s.wait)
	defer t.Stop()
	select {
	case s.ch <- struct{}{}:
		return nil
	case <-t.C:
		return errBusy
	case <-ctx.Done():
		return errBusy
	}
}

func (s *signSlots) release() { <-s.ch }
