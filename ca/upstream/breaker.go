package upstream

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Breaker defaults.
const (
	DefaultFailureThreshold = 5
	DefaultCoolDown         = 30 * time.Second
)

type breakerState int

const (
	closed breakerState = iota
	open
	halfOpen
)

// breaker is a per-upstream circuit breaker. After threshold consecutive
// unavailable failures it opens for coolDown: calls fail at once instead of
// each waiting out its timeout against a dead upstream. Then one trial call
// is let through (half-open); its success closes the circuit, its failure
// opens it for another coolDown. Refusals and pending answers prove the
// upstream alive and count as successes.
type breaker struct {
	threshold int
	coolDown  time.Duration
	now       func() time.Time
	// onChange reports open (true) or closed (false) for the gauge.
	onChange func(open bool)

	mu       sync.Mutex
	state    breakerState
	failures int
	until    time.Time // end of the cool-down while open
	trial    bool      // a half-open trial call is in flight
}

func newBreaker(threshold int, coolDown time.Duration, now func() time.Time, onChange func(bool)) *breaker {
	if threshold <= 0 {
		threshold = DefaultFailureThreshold
	}
	if coolDown <= 0 {
		coolDown = DefaultCoolDown
	}
	return &breaker{threshold: threshold, coolDown: coolDown, now: now, onChange: onChange}
}

// allow reports whether a call may go ahead; if not, retryAfter is when
// the circuit will let a trial through. Every allowed call must be followed
// by exactly one done.
func (b *breaker) allow() (retryAfter time.Duration, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case open:
		if wait := b.until.Sub(b.now()); wait > 0 {
			return wait, false
		}
		b.state = halfOpen
		b.trial = true
		return 0, true
	case halfOpen:
		if b.trial {
			// One trial at a time; its answer decides for everyone.
			return time.Second, false
		}
		b.trial = true
		return 0, true
	}
	return 0, true
}

// outcome is what a call tells the breaker.
type outcome int

const (
	healthy   outcome = iota // any answer, refusals and pending included
	unhealthy                // unavailable: transport, timeout, 5xx, garbage
	neutral                  // the caller gave up (ctx canceled): says nothing
)

// classify maps a call's error to its outcome.
func classify(err error) outcome {
	switch {
	case err == nil:
		return healthy
	case errors.Is(err, context.Canceled):
		return neutral
	case errors.Is(err, ErrUnavailable):
		return unhealthy
	}
	return healthy
}

func (b *breaker) done(o outcome) {
	b.mu.Lock()
	defer b.mu.Unlock()
	wasHalfOpen := b.state == halfOpen
	if wasHalfOpen {
		b.trial = false
	}
	switch o {
	case healthy:
		b.failures = 0
		if b.state != closed {
			b.state = closed
			b.notify(false)
		}
	case unhealthy:
		b.failures++
		if wasHalfOpen || (b.state == closed && b.failures >= b.threshold) {
			if b.state == closed {
				b.notify(true)
			}
			b.state = open
			b.until = b.now().Add(b.coolDown)
		}
	}
}

// notify runs with b.mu held; onChange must not call back into b.
func (b *breaker) notify(open bool) {
	if b.onChange != nil {
		b.onChange(open)
	}
}
