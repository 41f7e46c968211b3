package fakehttp

import (
	"net"
	"net/http"
	"strconv"
	"time"
)

// Fault is an injected misbehaviour for one route. The zero Fault does
// nothing; set the fields that describe the failure. Steps run in this
// order: Wait, Delay or Hang, then Reset, else Status (and Body), else the
// fake answers normally (a slow but correct answer is Delay alone).
type Fault struct {
	// Times is how many requests the fault affects before it is used up
	// ("fail N times then succeed"); zero means every request until the
	// route's faults are cleared.
	Times int
	// Wait holds the request until the channel is closed (or the client
	// gives up), for tests that need a request to be in flight at a
	// known moment. Nil means no wait.
	Wait <-chan struct{}
	// Delay holds the request this long before the rest of the fault
	// (or the normal answer). Zero means no delay.
	Delay time.Duration
	// Hang holds the request until the client gives up or the server
	// closes, and then drops it: a timeout that does not depend on how
	// long the test waits.
	Hang bool
	// Reset hijacks the connection and closes it with a TCP reset, before
	// any response byte is written.
	Reset bool
	// Status is the HTTP status to answer with; zero means the fake
	// answers normally (after any Wait or Delay).
	Status int
	// ContentType is sent with Status; empty means application/json when
	// Body looks like JSON and text/html otherwise.
	ContentType string
	// Body is sent with Status; it may be JSON, HTML or anything else.
	Body string
	// Header is added to the response (with Status, or to the normal
	// answer), e.g. Retry-After.
	Header http.Header
}

// HTML is a ready-made fault: HTTP status with an HTML error page, as a
// proxy or load balancer in front of a service answers.
func HTML(status int) Fault {
	return Fault{Status: status, ContentType: "text/html; charset=utf-8",
		Body: "<html><head><title>" + strconv.Itoa(status) + "</title></head><body><h1>Service Error</h1></body></html>"}
}

// faultQueue is a route's faults; the first one still active applies.
type faultQueue struct {
	faults []Fault
	used   []int
}

// SetFault replaces route's faults with f.
func (s *Server) SetFault(route string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[route] = &faultQueue{faults: []Fault{f}, used: []int{0}}
}

// AddFault queues f after route's current faults: it applies once those
// are used up, e.g. one 500 and then one hang.
func (s *Server) AddFault(route string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.faults[route]
	if q == nil {
		q = &faultQueue{}
		s.faults[route] = q
	}
	q.faults = append(q.faults, f)
	q.used = append(q.used, 0)
}

// ClearFaults removes the faults of the given routes, or of every route
// when none is named.
func (s *Server) ClearFaults(routes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(routes) == 0 {
		s.faults = make(map[string]*faultQueue)
		return
	}
	for _, r := range routes {
		delete(s.faults, r)
	}
}

// nextFault takes the fault that applies to this request on route, if any.
func (s *Server) nextFault(route string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.faults[route]
	if q == nil {
		return Fault{}, false
	}
	for i, f := range q.faults {
		if f.Times > 0 && q.used[i] >= f.Times {
			continue
		}
		q.used[i]++
		return f, true
	}
	return Fault{}, false
}

// apply runs f and reports whether it answered (or dropped) the request,
// so the fake's handler must not run.
func (s *Server) apply(w http.ResponseWriter, r *http.Request, f Fault) bool {
	if f.Wait != nil {
		select {
		case <-f.Wait:
		case <-r.Context().Done():
			drop(w)
			return true
		case <-s.closing:
			drop(w)
			return true
		}
	}
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			drop(w)
			return true
		case <-s.closing:
			drop(w)
			return true
		}
	}
	if f.Hang {
		select {
		case <-r.Context().Done():
		case <-s.closing:
		}
		drop(w)
		return true
	}
	for k, vs := range f.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if f.Reset {
		reset(w)
		return true
	}
	if f.Status == 0 {
		return false
	}
	ct := f.ContentType
	if ct == "" {
		ct = "text/html; charset=utf-8"
		if len(f.Body) > 0 && (f.Body[0] == '{' || f.Body[0] == '[') {
			ct = "application/json"
		}
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(f.Status)
	_, _ = w.Write([]byte(f.Body))
	return true
}

// drop closes the connection without answering. Returning from the
// handler instead would make net/http send an empty 200, which a client
// still half-connected (its close racing with ours) could take for an
// answer.
func drop(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

// reset closes the client connection abruptly. SO_LINGER 0 turns the
// close into a TCP RST, which is what a crashed or overloaded peer sends.
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler) // HTTP/2: net/http resets the stream
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if nc, ok := conn.(interface{ NetConn() net.Conn }); ok {
		if tcp, ok := nc.NetConn().(*net.TCPConn); ok {
			_ = tcp.SetLinger(0)
			_ = tcp.Close()
			return
		}
	}
	_ = conn.Close()
}
