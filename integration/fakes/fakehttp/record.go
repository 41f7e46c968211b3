package fakehttp

import (
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"sync"
)

// Request is one request as the server received it.
type Request struct {
	// Route is the name the matching handler was registered under, or ""
	// when no route matched.
	Route    string
	Method   string
	Path     string
	RawQuery string
	Header   http.Header
	// Body is the raw body, at most MaxBody bytes.
	Body []byte
	// Form is the body parsed as application/x-www-form-urlencoded, when
	// it was sent as that; nil otherwise.
	Form url.Values
	// JSON is the body decoded as JSON (map, slice, string, float64,
	// bool or nil), when the body is valid JSON; nil otherwise.
	JSON any
	// Faulted is true when an injected fault answered (or dropped) the
	// request instead of the fake's handler.
	Faulted bool
}

// recorder keeps the requests in arrival order.
type recorder struct {
	mu   sync.Mutex
	reqs []Request
}

func (r *recorder) add(req Request) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = append(r.reqs, req)
	return len(r.reqs) - 1
}

func (r *recorder) markFaulted(i int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if i >= 0 && i < len(r.reqs) {
		r.reqs[i].Faulted = true
	}
}

// Requests returns a copy of every request received so far, in order.
func (s *Server) Requests() []Request {
	s.rec.mu.Lock()
	defer s.rec.mu.Unlock()
	return append([]Request(nil), s.rec.reqs...)
}

// RequestsFor returns the requests received on route, in order.
func (s *Server) RequestsFor(route string) []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.Route == route {
			out = append(out, r)
		}
	}
	return out
}

// Count returns how many requests route has received.
func (s *Server) Count(route string) int { return len(s.RequestsFor(route)) }

// ResetRequests forgets the recorded requests.
func (s *Server) ResetRequests() {
	s.rec.mu.Lock()
	defer s.rec.mu.Unlock()
	s.rec.reqs = nil
}

// parseBody fills Form or JSON from the body. Errors are not reported:
// a malformed body is exactly what some tests send on purpose, and the
// raw bytes are kept either way.
func parseBody(req *Request) {
	if len(req.Body) == 0 {
		return
	}
	mt, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type"))
	if mt == "application/x-www-form-urlencoded" {
		if form, err := url.ParseQuery(string(req.Body)); err == nil {
			req.Form = form
		}
		return
	}
	var v any
	if json.Unmarshal(req.Body, &v) == nil {
		req.JSON = v
	}
}
