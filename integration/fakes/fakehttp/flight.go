package fakehttp

import (
	"context"
	"net/http"
	"sync"
)

// Flight counts a fake's requests in flight, keeps the maximum, and can
// hold requests until several wait together, so a test can show a
// client's concurrency limit without timing: with Hold(n), a client
// limited to n concurrent requests runs in waves of exactly n.
//
// Register Begin with Server.Before (it runs for every request, faulted
// ones included), call End when a routed handler is done (before the
// client can have the whole answer), and Wait where a handler may be held.
// A request a fault answered is uncounted when the server is done with
// it. The zero value is ready to use.
type Flight struct {
	mu   sync.Mutex
	live map[*http.Request]bool
	n    int
	max  int

	hold    sync.Mutex
	holdN   int
	waiting int
	gate    chan struct{}
}

// Begin counts r in; a Server.Before hook.
func (c *Flight) Begin(_ http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	if c.live == nil {
		c.live = make(map[*http.Request]bool)
	}
	c.live[r] = true
	c.n++
	c.max = max(c.max, c.n)
	c.mu.Unlock()
	// Faulted and unrouted requests never reach End; the request's
	// context ends when the server is done with it.
	context.AfterFunc(r.Context(), func() { c.End(r) })
}

// End counts r out; counting out twice is harmless.
func (c *Flight) End(r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.live[r] {
		delete(c.live, r)
		c.n--
	}
}

// InFlight returns how many requests are being handled now.
func (c *Flight) InFlight() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// MaxInFlight returns the most requests handled at once since the start
// or since ResetMaxInFlight.
func (c *Flight) MaxInFlight() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.max
}

// ResetMaxInFlight sets the maximum back to the current count.
func (c *Flight) ResetMaxInFlight() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.max = c.n
}

// Hold makes every request that calls Wait wait until n of them wait
// together, then lets those n go at once. A client allowing fewer than n
// waits until it gives up. n <= 1 turns holding off and releases everyone
// waiting.
func (c *Flight) Hold(n int) {
	c.hold.Lock()
	defer c.hold.Unlock()
	if c.gate != nil {
		close(c.gate)
	}
	c.holdN, c.waiting, c.gate = n, 0, nil
	if n > 1 {
		c.gate = make(chan struct{})
	}
}

// Wait blocks while holding is on; false means ctx ended first.
func (c *Flight) Wait(ctx context.Context) bool {
	c.hold.Lock()
	if c.gate == nil {
		c.hold.Unlock()
		return true
	}
	gate := c.gate
	c.waiting++
	if c.waiting >= c.holdN {
		close(gate)
		c.gate, c.waiting = make(chan struct{}), 0
		c.hold.Unlock()
		return true
	}
	c.hold.Unlock()
	select {
	case <-gate:
		return true
	case <-ctx.Done():
		c.hold.Lock()
		if c.gate == gate {
			c.waiting--
		}
		c.hold.Unlock()
		return false
	}
}
