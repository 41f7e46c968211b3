package workspaceone

import (
	"context"
	"net/http"
	"sync"
)

// inFlight counts requests between their arrival and the end of their
// handling. A request is counted in the fakehttp Before hook, which runs
// for every request, faulted ones included; the handler uncounts it
// before it returns (so before the client can have the whole answer),
// and a request a fault answered is uncounted once the server is done
// with it.
type inFlight struct {
	mu   sync.Mutex
	live map[*http.Request]bool
	n    int
	max  int
}

func (c *inFlight) init() { c.live = make(map[*http.Request]bool) }

func (c *inFlight) begin(_ http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.live[r] = true
	c.n++
	c.max = max(c.max, c.n)
	c.mu.Unlock()
	context.AfterFunc(r.Context(), func() { c.end(r) })
}

func (c *inFlight) end(r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.live[r] {
		delete(c.live, r)
		c.n--
	}
}

// InFlight returns how many requests the fake is handling now.
func (f *Fake) InFlight() int {
	f.flight.mu.Lock()
	defer f.flight.mu.Unlock()
	return f.flight.n
}

// MaxInFlight returns the most requests the fake has handled at once
// since it started or since ResetMaxInFlight.
func (f *Fake) MaxInFlight() int {
	f.flight.mu.Lock()
	defer f.flight.mu.Unlock()
	return f.flight.max
}

// ResetMaxInFlight sets the maximum back to the current count.
func (f *Fake) ResetMaxInFlight() {
	f.flight.mu.Lock()
	defer f.flight.mu.Unlock()
	f.flight.max = f.flight.n
}

// holdBarrier holds lookups until n of them wait together.
type holdBarrier struct {
	mu      sync.Mutex
	n       int
	waiting int
	gate    chan struct{}
}

// Hold makes every authorised, well-formed lookup wait until n of them
// are waiting together, and then lets those n go at once: a client
// limited to n concurrent requests runs in waves of exactly n, and
// MaxInFlight shows the limit without any timing. A client allowing
// fewer than n waits until it gives up. n <= 1 turns holding off and
// releases everyone waiting.
func (f *Fake) Hold(n int) {
	b := &f.barrier
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.gate != nil {
		close(b.gate)
	}
	b.n, b.waiting, b.gate = n, 0, nil
	if n > 1 {
		b.gate = make(chan struct{})
	}
}

// wait blocks while holding is on; false means the request's context
// ended first.
func (b *holdBarrier) wait(ctx context.Context) bool {
	b.mu.Lock()
	if b.gate == nil {
		b.mu.Unlock()
		return true
	}
	gate := b.gate
	b.waiting++
	if b.waiting >= b.n {
		close(gate)
		b.gate, b.waiting = make(chan struct{}), 0
		b.mu.Unlock()
		return true
	}
	b.mu.Unlock()
	select {
	case <-gate:
		return true
	case <-ctx.Done():
		b.mu.Lock()
		if b.gate == gate {
			b.waiting--
		}
		b.mu.Unlock()
		return false
	}
}
