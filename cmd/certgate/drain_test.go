package main

import (
	"net"
	"net/http"
	"testing"
	"time"
)

func TestConnTracker(t *testing.T) {
	tr := newConnTracker()
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	steps := []struct {
		name    string
		state   http.ConnState
		quiet   time.Duration
		settled bool
	}{
		{name: "fail/new connection is busy", state: http.StateNew, settled: false},
		{name: "fail/active connection is busy", state: http.StateActive, settled: false},
		{name: "fail/idle but just changed", state: http.StateIdle, quiet: time.Hour, settled: false},
		{name: "ok/idle and quiet", state: http.StateIdle, settled: true},
		{name: "ok/closed", state: http.StateClosed, settled: true},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			tr.hook(a, s.state)
			if got := tr.settled(s.quiet); got != s.settled {
				t.Fatalf("settled = %v, want %v", got, s.settled)
			}
		})
	}
}
