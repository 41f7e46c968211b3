package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// leanEnv is a real listener served by net/http with the takeover in
// front of the request middleware, as serve wires it.
type leanEnv struct {
	lean *leanHTTP
	addr string
}

// echoRoutes answers /ocsp... with what it was asked (method, path,
// body), /big with a body it never reads, and /abort by aborting.
func echoRoutes() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/abort":
			panic(http.ErrAbortHandler)
		case r.URL.Path == "/unread":
			w.Header().Set("Content-Type", "text/plain")
			_, _ = io.WriteString(w, "not read")
		case r.URL.Path == "/notmodified":
			w.WriteHeader(http.StatusNotModified)
		default:
			body, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			w.Header().Set("Content-Type", "application/ocsp-response")
			_, _ = fmt.Fprintf(w, "%s %s %q", r.Method, r.URL.Path, body)
		}
	})
}

func newLeanEnv(t *testing.T, idle time.Duration) *leanEnv {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &leanHTTP{
		handler:       withRequestContext(zerolog.Nop(), 5*time.Second, echoRoutes()),
		maxHeader:     1 << 10,
		maxBody:       10_000,
		idleTimeout:   idle,
		headerTimeout: 2 * time.Second,
		readTimeout:   5 * time.Second,
		writeTimeout:  5 * time.Second,
		conns:         newConnTracker(),
		draining:      new(atomic.Bool),
	}
	srv := &http.Server{Handler: l.handoff(l.handler), ConnState: l.conns.hook, ReadHeaderTimeout: 2 * time.Second, MaxHeaderBytes: 1 << 10}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return &leanEnv{lean: l, addr: ln.Addr().String()}
}

// client is one TCP connection speaking raw HTTP/1.x.
type client struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func (e *leanEnv) dial(t *testing.T) *client { return dialClient(t, e.addr) }

// dialClient connects to addr for raw HTTP/1.x, closed at the test's end.
func dialClient(t *testing.T, addr string) *client {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	return &client{t: t, c: c, br: bufio.NewReader(c)}
}

func (c *client) send(raw string) {
	c.t.Helper()
	if _, err := io.WriteString(c.c, raw); err != nil {
		c.t.Fatal(err)
	}
}

// read reads one response to a request with method.
func (c *client) read(method string) (*http.Response, string) {
	c.t.Helper()
	resp, err := http.ReadResponse(c.br, &http.Request{Method: method})
	for err == nil && resp.StatusCode == http.StatusContinue {
		resp, err = http.ReadResponse(c.br, &http.Request{Method: method})
	}
	if err != nil {
		c.t.Fatalf("read response: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("read body: %v", err)
	}
	return resp, string(body)
}

// closed reports whether the server closed the connection.
func (c *client) closed() bool {
	c.t.Helper()
	_, err := c.br.ReadByte()
	return err == io.EOF
}

func post(path, body string) string {
	return fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/ocsp-request\r\nContent-Length: %d\r\n\r\n%s", path, len(body), body)
}

// After an OCSP request on a keep-alive connection the loop answers
// every request that follows, whatever its route, as net/http would.
func TestLeanTakesOverKeepAliveOCSP(t *testing.T) {
	e := newLeanEnv(t, time.Minute)
	c := e.dial(t)
	c.send(post("/ocsp", "req-1"))
	resp, body := c.read("POST")
	if resp.StatusCode != 200 || body != `POST /ocsp "req-1"` || resp.Header.Get("X-Request-Id") == "" || resp.ContentLength != int64(len(body)) {
		t.Fatalf("first answer: %d %q headers %v", resp.StatusCode, body, resp.Header)
	}
	if n := e.lean.takeovers.Load(); n != 1 {
		t.Fatalf("takeovers = %d, want 1", n)
	}
	tests := []struct {
		name, method, raw, wantBody string
		wantStatus                  int
	}{
		{"ok/POST", "POST", post("/ocsp", "req-2"), `POST /ocsp "req-2"`, 200},
		{"ok/GET with slashes", "GET", "GET /ocsp//MEIw+a== HTTP/1.1\r\nHost: x\r\n\r\n", `GET /ocsp//MEIw+a== ""`, 200},
		{"ok/HEAD has no body", "HEAD", "HEAD /ocsp/MEIw HTTP/1.1\r\nHost: x\r\n\r\n", "", 200},
		{"ok/other route", "GET", "GET /unread HTTP/1.1\r\nHost: x\r\n\r\n", "not read", 200},
		{"ok/304 has no body", "GET", "GET /notmodified HTTP/1.1\r\nHost: x\r\n\r\n", "", 304},
		{"ok/chunked body", "POST", "POST /ocsp HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", `POST /ocsp "abc"`, 200},
		{"ok/expect continue", "POST", "POST /ocsp HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi", `POST /ocsp "hi"`, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.t = t
			c.send(tt.raw)
			resp, body := c.read(tt.method)
			if resp.StatusCode != tt.wantStatus || body != tt.wantBody || resp.Close {
				t.Fatalf("answer: %d %q close=%v, want %d %q kept open", resp.StatusCode, body, resp.Close, tt.wantStatus, tt.wantBody)
			}
			if resp.Header.Get("Date") == "" || resp.Header.Get("X-Request-Id") == "" {
				t.Errorf("headers %v lack Date or X-Request-Id", resp.Header)
			}
		})
	}
	if n := e.lean.takeovers.Load(); n != 1 {
		t.Fatalf("takeovers = %d after more requests on the same connection, want 1", n)
	}
}

// Requests that arrive together are answered in order.
func TestLeanPipelined(t *testing.T) {
	e := newLeanEnv(t, time.Minute)
	c := e.dial(t)
	c.send(post("/ocsp", "a") + post("/ocsp", "b") + "GET /ocsp/c HTTP/1.1\r\nHost: x\r\n\r\n")
	for _, want := range []string{`POST /ocsp "a"`, `POST /ocsp "b"`, `GET /ocsp/c ""`} {
		if _, body := c.read("POST"); body != want {
			t.Fatalf("body %q, want %q", body, want)
		}
	}
	if n := e.lean.takeovers.Load(); n != 1 {
		t.Fatalf("takeovers = %d, want 1", n)
	}
}

// What net/http must keep: TLS (not here), HTTP/1.0, a client that
// closes, other routes, bodies of unknown or excessive length.
func TestLeanLeavesOthersToNetHTTP(t *testing.T) {
	tests := []struct{ name, method, raw string }{
		{"HTTP/1.0", "POST", "POST /ocsp HTTP/1.0\r\nContent-Length: 1\r\n\r\nx"},
		{"HTTP/1.0 keep-alive", "GET", "GET /ocsp/x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"},
		{"Connection close", "GET", "GET /ocsp/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"},
		{"other route", "GET", "GET /unread HTTP/1.1\r\nHost: x\r\n\r\n"},
		{"chunked", "POST", "POST /ocsp HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n"},
		{"too long for OCSP", "POST", post("/ocsp", strings.Repeat("x", 10_001))},
		{"expect continue", "POST", "POST /ocsp HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx"},
		{"method", "PUT", "PUT /ocsp HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newLeanEnv(t, time.Minute)
			c := e.dial(t)
			c.send(tt.raw)
			if resp, _ := c.read(tt.method); resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if n := e.lean.takeovers.Load(); n != 0 {
				t.Fatalf("takeovers = %d, want 0", n)
			}
		})
	}
}

// On a taken-over connection, what cannot be answered safely ends it,
// with the status net/http would send.
func TestLeanBadInputEndsConnection(t *testing.T) {
	tests := []struct {
		name, raw  string
		wantStatus int // 0: no answer at all
		wantBody   string
	}{
		{"fail/garbage", "NOT HTTP\r\n\r\n", 400, ""},
		{"fail/header too large", "GET /ocsp/x HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 2<<10) + "\r\n\r\n", 431, ""},
		{"fail/aborted handler", "GET /abort HTTP/1.1\r\nHost: x\r\n\r\n", 0, ""},
		{"ok/unread large body closes after answering", post("/unread", strings.Repeat("x", discardLimit+10)), 200, "not read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newLeanEnv(t, time.Minute)
			c := e.dial(t)
			c.send(post("/ocsp", "x"))
			c.read("POST")
			c.send(tt.raw)
			if tt.wantStatus != 0 {
				resp, body := c.read("GET")
				if resp.StatusCode != tt.wantStatus || body != tt.wantBody || !resp.Close {
					t.Fatalf("answer %d %q close=%v, want %d %q and close", resp.StatusCode, body, resp.Close, tt.wantStatus, tt.wantBody)
				}
			}
			if !c.closed() {
				t.Fatal("connection still open")
			}
			// The server is unharmed.
			c2 := e.dial(t)
			c2.send(post("/ocsp", "y"))
			if resp, _ := c2.read("POST"); resp.StatusCode != 200 {
				t.Fatalf("next connection: %d", resp.StatusCode)
			}
		})
	}
}

// An HTTP/1.0 client that asks to keep the connection is told it is kept.
func TestLeanHTTP10KeepAlive(t *testing.T) {
	e := newLeanEnv(t, time.Minute)
	c := e.dial(t)
	c.send(post("/ocsp", "x"))
	c.read("POST")
	c.send("GET /ocsp/y HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
	resp, _ := c.read("GET")
	if resp.Header.Get("Connection") != "keep-alive" || resp.Close {
		t.Fatalf("Connection %q close=%v", resp.Header.Get("Connection"), resp.Close)
	}
	c.send("GET /ocsp/z HTTP/1.0\r\n\r\n")
	if resp, _ := c.read("GET"); !resp.Close {
		t.Fatal("HTTP/1.0 without keep-alive left open")
	}
	if !c.closed() {
		t.Fatal("connection still open")
	}
}

// An idle taken-over connection ends after the idle timeout.
func TestLeanIdleTimeout(t *testing.T) {
	e := newLeanEnv(t, 150*time.Millisecond)
	c := e.dial(t)
	// The server arms the idle timeout after answering, so the time from
	// sending is never shorter than it.
	start := time.Now()
	c.send(post("/ocsp", "x"))
	c.read("POST")
	if !c.closed() {
		t.Fatal("connection still open")
	}
	if d := time.Since(start); d < 150*time.Millisecond || d > 5*time.Second {
		t.Fatalf("closed after %v, want about the 150 ms idle timeout", d)
	}
}

// Draining ends idle taken-over connections at once, answers a request in
// progress with "Connection: close", and leaves the tracker settled.
func TestLeanDrain(t *testing.T) {
	e := newLeanEnv(t, time.Minute)
	idle := e.dial(t)
	idle.send(post("/ocsp", "x"))
	idle.read("POST")
	busy := e.dial(t)
	busy.send(post("/ocsp", "x"))
	busy.read("POST")
	if n := e.lean.takeovers.Load(); n != 2 {
		t.Fatalf("takeovers = %d, want 2", n)
	}
	deadline := time.Now().Add(5 * time.Second)
	waitConns := func(idle, busy int) {
		t.Helper()
		for e.lean.idleCount() != idle || e.lean.conns.busyCount() != busy {
			if time.Now().After(deadline) {
				t.Fatalf("idle %d, busy %d: want %d and %d", e.lean.idleCount(), e.lean.conns.busyCount(), idle, busy)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	// Both wait for a request; then busy sends one whose body is still on
	// its way when the drain starts, and the drain begins once the server
	// reads it (a request reaching the server just as the drain starts may
	// be dropped, as with net/http's Shutdown).
	waitConns(2, 0)
	busy.send("POST /ocsp HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nab")
	waitConns(1, 1)
	e.lean.draining.Store(true)
	e.lean.closeIdle()
	if !idle.closed() {
		t.Fatal("idle connection still open after closeIdle")
	}
	busy.send("cd")
	resp, body := busy.read("POST")
	if body != `POST /ocsp "abcd"` || !resp.Close {
		t.Fatalf("in-progress answer %q close=%v, want it answered and closed", body, resp.Close)
	}
	if !busy.closed() {
		t.Fatal("busy connection still open")
	}
	for !e.lean.conns.settled(0) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if !e.lean.conns.settled(0) {
		t.Fatal("connection tracker not settled after the drain")
	}
}

// The writer keeps net/http's rules for bodies and headers.
func TestLeanWriterSerialize(t *testing.T) {
	tests := []struct {
		name, method string
		write        func(w http.ResponseWriter)
		want         []string
		notWant      []string
	}{
		{"ok/default 200 with length", "GET", func(w http.ResponseWriter) { _, _ = io.WriteString(w, "hello") },
			[]string{"HTTP/1.1 200 OK\r\n", "Content-Length: 5\r\n", "Content-Type: text/plain; charset=utf-8\r\n", "\r\n\r\nhello"}, nil},
		{"ok/empty", "GET", func(http.ResponseWriter) {}, []string{"HTTP/1.1 200 OK\r\n", "Content-Length: 0\r\n"}, nil},
		{"ok/204 no length", "GET", func(w http.ResponseWriter) { w.WriteHeader(204) }, []string{"HTTP/1.1 204 No Content\r\n"}, []string{"Content-Length"}},
		{"ok/HEAD keeps length, drops body", "HEAD", func(w http.ResponseWriter) { _, _ = io.WriteString(w, "hello") },
			[]string{"Content-Length: 5\r\n"}, []string{"hello"}},
		{"ok/header injection flattened", "GET", func(w http.ResponseWriter) { w.Header()["X-A"] = []string{"a\r\nX-Evil: 1"} },
			[]string{"X-A: a  X-Evil: 1\r\n"}, []string{"\r\nX-Evil"}},
		{"ok/first status wins", "GET", func(w http.ResponseWriter) { w.WriteHeader(404); w.WriteHeader(500) }, []string{"HTTP/1.1 404 Not Found\r\n"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &leanWriter{header: http.Header{}}
			tt.write(w)
			var out bytes.Buffer
			w.serialize(&out, &http.Request{Method: tt.method, ProtoMajor: 1, ProtoMinor: 1}, true)
			got := out.String()
			for _, s := range tt.want {
				if !strings.Contains(got, s) {
					t.Errorf("response lacks %q:\n%s", s, got)
				}
			}
			for _, s := range tt.notWant {
				if strings.Contains(got, s) {
					t.Errorf("response has %q:\n%s", s, got)
				}
			}
		})
	}
}

func (l *leanHTTP) idleCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.idle)
}

func (t *connTracker) busyCount() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.busy)
}
