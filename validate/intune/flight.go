package intune

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// errFlightAborted is what callers get if a shared fetch panicked.
var errFlightAborted = errors.New("intune: concurrent fetch aborted")

// sharedCache holds one value per key and fetches a missing or stale one
// at most once at a time, however many callers need it: when a token
// expires under load, one request goes to Entra, not one per enrollment.
//
// The check of the cache and the joining of a running fetch happen under
// one lock, and a fetch stores its result before it stops being the
// running one, so a caller never starts a second fetch just after the
// first one finished.
type sharedCache[T any] struct {
	// name labels errors of callers that gave up waiting.
	name    string
	mu      sync.Mutex
	vals    map[string]T
	running map[string]*fetchCall[T]
}

type fetchCall[T any] struct {
	done chan struct{}
	val  T
	err  error
}

// get returns the cached value for key when usable says it may be used,
// and otherwise waits for a fetch. fetch gets the previous value, if
// any, and runs detached from ctx (bounded by timeout), so one caller
// giving up does not fail the others waiting on the same fetch.
func (c *sharedCache[T]) get(ctx context.Context, key string, timeout time.Duration,
	usable func(T) bool, fetch func(ctx context.Context, prev T, had bool) (T, error)) (T, error) {
	c.mu.Lock()
	if c.vals == nil {
		c.vals = make(map[string]T)
		c.running = make(map[string]*fetchCall[T])
	}
	if v, ok := c.vals[key]; ok && usable(v) {
		c.mu.Unlock()
		return v, nil
	}
	call := c.running[key]
	if call == nil {
		prev, had := c.vals[key]
		call = &fetchCall[T]{done: make(chan struct{}), err: errFlightAborted}
		c.running[key] = call
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
		go c.run(key, call, cancel, func() (T, error) { return fetch(fctx, prev, had) })
	}
	c.mu.Unlock()
	select {
	case <-call.done:
		return call.val, call.err
	case <-ctx.Done():
		var zero T
		return zero, fmt.Errorf("intune: %s: %w", c.name, ctx.Err())
	}
}

func (c *sharedCache[T]) run(key string, call *fetchCall[T], cancel context.CancelFunc, fn func() (T, error)) {
	defer func() {
		_ = recover() // call.err stays errFlightAborted
		cancel()
		c.mu.Lock()
		if call.err == nil {
			c.vals[key] = call.val
		}
		delete(c.running, key)
		c.mu.Unlock()
		close(call.done)
	}()
	call.val, call.err = fn()
}

// drop forgets key's value if match says it is the one that failed, so
// a value refreshed meanwhile by another caller is kept.
func (c *sharedCache[T]) drop(key string, match func(T) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.vals[key]; ok && match(v) {
		delete(c.vals, key)
	}
}
