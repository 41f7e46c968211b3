package fakehttp

import (
	"bytes"
	"crypto/x509"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"sync"
)

// MaxBody caps how much of a request body is read and recorded; the fakes
// imitate APIs whose requests are a few kilobytes.
const MaxBody = 1 << 20

// Server is a TLS server on loopback that records requests and injects
// faults. Create it with New, register routes with Handle, then Start.
type Server struct {
	mux     *http.ServeMux
	ts      *httptest.Server
	rec     recorder
	closing chan struct{}
	once    sync.Once

	mu     sync.Mutex
	faults map[string]*faultQueue
	before func(w http.ResponseWriter, r *http.Request)
}

// New returns a server with no routes; requests that match none are
// recorded with Route "" and answered 404.
func New() *Server {
	s := &Server{
		mux:     http.NewServeMux(),
		closing: make(chan struct{}),
		faults:  make(map[string]*faultQueue),
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.serve(w, r, "", http.NotFound)
	})
	return s
}

// Before sets a hook that runs on every request before faults and
// handlers, e.g. to echo a request-id header the real service echoes
// even in errors.
func (s *Server) Before(fn func(w http.ResponseWriter, r *http.Request)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.before = fn
}

// Handle registers h for pattern (net/http ServeMux syntax, e.g.
// "POST /{tenant}/oauth2/v2.0/token") under the route name used by
// SetFault and RequestsFor. The handler reads the recorded body from
// r.Body as usual.
func (s *Server) Handle(pattern, route string, h http.HandlerFunc) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		s.serve(w, r, route, h)
	})
}

// Start starts serving over TLS with httptest's certificate for
// 127.0.0.1 (HTTP/1.1 only, so that resets can hijack the connection).
func (s *Server) Start() {
	s.ts = httptest.NewUnstartedServer(s.mux)
	// Resets and abandoned requests make net/http log; tests read the
	// recorded requests instead.
	s.ts.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.ts.StartTLS()
}

// URL is the server's base URL, https://127.0.0.1:port, without a
// trailing slash.
func (s *Server) URL() string { return s.ts.URL }

// Certificate is the server's TLS certificate.
func (s *Server) Certificate() *x509.Certificate { return s.ts.Certificate() }

// CertPool returns a pool holding the server's certificate, for a client
// that must trust the fake and nothing else.
func (s *Server) CertPool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(s.ts.Certificate())
	return p
}

// Client returns an HTTP client that trusts the server.
func (s *Server) Client() *http.Client { return s.ts.Client() }

// Close releases requests held by faults and stops the server.
func (s *Server) Close() {
	s.once.Do(func() { close(s.closing) })
	if s.ts != nil {
		s.ts.Close()
	}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, route string, h http.HandlerFunc) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, MaxBody))
	req := Request{
		Route:    route,
		Method:   r.Method,
		Path:     r.URL.Path,
		RawQuery: r.URL.RawQuery,
		Header:   r.Header.Clone(),
		Body:     body,
	}
	parseBody(&req)
	i := s.rec.add(req)

	s.mu.Lock()
	before := s.before
	s.mu.Unlock()
	if before != nil {
		before(w, r)
	}
	if f, ok := s.nextFault(route); ok {
		if s.apply(w, r, f) {
			s.rec.markFaulted(i)
			return
		}
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	h(w, r)
}
