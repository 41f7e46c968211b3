package ocsp

import (
	"errors"
	"sync"
)

// errFlightAborted is what waiters get if the run they waited on panicked.
var errFlightAborted = errors.New("ocsp: concurrent signing aborted")

// flight makes concurrent misses for one key share a single lookup and
// signature: after a restart or at RefreshAt, a RADIUS farm asks about
// the same certificate many times at once, and each signature costs.
type flight struct {
	mu    sync.Mutex
	calls map[string]*flightCall
}

type flightCall struct {
	done chan struct{}
	res  filled
	err  error
}

// do runs fn once for all callers that arrive with key while it runs.
func (f *flight) do(key string, fn func() (filled, error)) (filled, error) {
	f.mu.Lock()
	if f.calls == nil {
		f.calls = make(map[string]*flightCall)
	}
	if c, ok := f.calls[key]; ok {
		f.mu.Unlock()
		<-c.done
		return c.res, c.err
	}
	c := &flightCall{done: make(chan struct{}), err: errFlightAborted}
	f.calls[key] = c
	f.mu.Unlock()

	defer func() {
		f.mu.Lock()
		delete(f.calls, key)
		f.mu.Unlock()
		close(c.done)
	}()
	c.res, c.err = fn()
	return c.res, c.err
}
