package main

import (
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// connTracker follows the listeners' connections (http.Server.ConnState)
// so a stopping server can wait until the requests it was sent are
// answered instead of guessing a delay.
type connTracker struct {
	mu   sync.Mutex
	busy map[net.Conn]bool // New or Active: a request is, or may be, on it
	last atomic.Int64      // unix nanos of the last state change
}

func newConnTracker() *connTracker { return &connTracker{busy: map[net.Conn]bool{}} }

// hook is the ConnState function for an http.Server.
func (t *connTracker) hook(c net.Conn, s http.ConnState) {
	t.last.Store(time.Now().UnixNano())
	t.mu.Lock()
	defer t.mu.Unlock()
	switch s {
	case http.StateNew, http.StateActive:
		t.busy[c] = true
	default:
		delete(t.busy, c)
	}
}

// settled reports whether no connection is busy and nothing changed for
// quiet.
func (t *connTracker) settled(quiet time.Duration) bool {
	t.mu.Lock()
	n := len(t.busy)
	t.mu.Unlock()
	return n == 0 && time.Since(time.Unix(0, t.last.Load())) >= quiet
}

// drainDelay is the least a stopping server keeps serving before
// Shutdown; drainQuiet is how long its connections must have been idle.
// http.Server.Shutdown closes connections it considers idle, including
// ones whose request is in the socket but not yet read (golang/go#75591),
// so requests a client already sent would get no answer. During the drain
// /readyz fails (load balancers stop sending), keep-alives are off (each
// connection closes after its current request) and requests already sent
// are read and answered; on a loaded machine that can take longer than any
// fixed delay, so the drain waits for the connections to settle, up to
// half the shutdown timeout.
const (
	drainDelay = time.Second
	drainQuiet = 200 * time.Millisecond
)

func drain(servers []*http.Server, conns *connTracker, draining *atomic.Bool, shutdownTimeout time.Duration) {
	draining.Store(true)
	for _, srv := range servers {
		srv.SetKeepAlivesEnabled(false)
	}
	limit := time.Now().Add(shutdownTimeout / 2)
	time.Sleep(min(drainDelay, shutdownTimeout/2))
	for !conns.settled(drainQuiet) && time.Now().Before(limit) {
		time.Sleep(20 * time.Millisecond)
	}
}
