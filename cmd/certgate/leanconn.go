package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/certgate/certgate/ca/ocsp"
)

// leanHTTP takes over plain-HTTP keep-alive connections whose first request
// is OCSP and serves them in a loop of its own: one goroutine per
// connection, the standard library's request parser (http.ReadRequest),
// the same handler chain net/http would call, and one write per response.
//
// Why: RADIUS/NAC servers keep a connection open and ask one OCSP question
// after another, and on a small VM net/http's per-request machinery costs
// more than the cached answer itself. Above all, net/http starts a
// background read on every connection after each request (so it can
// notice a client going away), and handing the next request from that
// goroutine to the serving one costs an extra wake-up per request: on this
// project's 2-vCPU test machine a canned-answer net/http server did about
// 6k requests/s at concurrency 1 where the same answer written by a loop
// like this one did about 10k (integration/bench/ocsp-compare.sh prints
// such a floor next to the responders).
//
// Only requests the OCSP responder answers start a takeover, and only when
// the connection is plain HTTP/1.1 keep-alive and not draining: TLS,
// HTTP/1.0 and "Connection: close" requests stay with net/http, and so
// does every other route unless it arrives on a connection already taken
// over (then it gets the same handler, buffered).
type leanHTTP struct {
	handler http.Handler
	// maxHeader caps the request line and headers (net/http's
	// MaxHeaderBytes); maxBody caps an OCSP POST body read before the
	// takeover.
	maxHeader int64
	maxBody   int64
	// Timeouts as net/http's: idle waits for the next request, header
	// for the request line and headers, read for the whole request,
	// write for the response.
	idleTimeout, headerTimeout, readTimeout, writeTimeout time.Duration
	conns                                                 *connTracker
	draining                                              *atomic.Bool
	// fast, if set, answers cached OCSP requests without the chain.
	fast *leanFast

	mu   sync.Mutex
	idle map[net.Conn]bool // taken-over connections waiting for a request
	// takeovers counts connections taken over, for tests and metrics.
	takeovers atomic.Int64
}

// discardLimit is how much of a request body no handler read the loop
// reads past to reach the next request; a longer leftover closes the
// connection instead, as net/http does.
const discardLimit = 256 << 10

// handoff wraps next: requests that qualify (see leanHTTP) are answered
// on a taken-over connection, everything else by next through net/http.
func (l *leanHTTP) handoff(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !l.qualifies(r) {
			next.ServeHTTP(w, r)
			return
		}
		hj, ok := w.(http.Hijacker)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		// After Hijack the body must not be read, so take it first; it
		// is an OCSP request of known, small length (qualifies).
		body := make([]byte, r.ContentLength)
		if _, err := io.ReadFull(r.Body, body); err != nil {
			r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
			next.ServeHTTP(w, r)
			return
		}
		conn, brw, err := hj.Hijack()
		if err != nil {
			r.Body = io.NopCloser(bytes.NewReader(body))
			next.ServeHTTP(w, r)
			return
		}
		// Bytes net/http already read past this request (a pipelined
		// next one) are in brw's buffer; the loop reads them first.
		pending, _ := brw.Reader.Peek(brw.Reader.Buffered())
		l.takeovers.Add(1)
		first := r.Clone(r.Context())
		first.Body = io.NopCloser(bytes.NewReader(body))
		l.serveConn(conn, bytes.Clone(pending), first)
	})
}

// qualifies reports whether r may start a takeover.
func (l *leanHTTP) qualifies(r *http.Request) bool {
	if r.TLS != nil || r.Close || !r.ProtoAtLeast(1, 1) || l.draining.Load() || !ocsp.IsPath(r.URL.Path) {
		return false
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		return r.ContentLength == 0
	case http.MethodPost:
		return r.ContentLength > 0 && r.ContentLength <= l.maxBody && len(r.TransferEncoding) == 0 &&
			r.Header.Get("Expect") == ""
	}
	return false
}

// errHeaderTooLarge stops a request line and headers longer than
// maxHeader.
var errHeaderTooLarge = errors.New("request header too large")

// limitReader reads from r while n > 0 and then fails with
// errHeaderTooLarge; the loop re-arms n for each request's headers.
type limitReader struct {
	r io.Reader
	n int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errHeaderTooLarge
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

// noLimit is what the header limit is raised to once headers are read:
// bodies are capped by the handlers (and discardLimit).
const noLimit = 1 << 62

// serveConn answers first, then every request that follows on c, until
// the client closes, a timeout passes, an error makes the stream
// unusable, or the server drains.
func (l *leanHTTP) serveConn(c net.Conn, pending []byte, first *http.Request) {
	answered := false // the server ends the connection after an answer
	defer func() {
		l.setIdle(c, false)
		if answered {
			lingerClose(c)
		}
		l.conns.hook(c, http.StateClosed)
		_ = c.Close()
	}()
	l.conns.hook(c, http.StateActive)
	var src io.Reader = c
	if len(pending) > 0 {
		src = io.MultiReader(bytes.NewReader(pending), c)
	}
	lr := &limitReader{r: src, n: noLimit}
	br := bufio.NewReader(lr)
	remote := c.RemoteAddr().String()
	out := new(bytes.Buffer)
	var fastOut []byte
	req := first
	for {
		if req == nil {
			var fr fastRequest
			var err error
			if req, fr, err = l.next(c, br, lr); err != nil {
				if errors.Is(err, errHeaderTooLarge) {
					l.refuse(c, out, http.StatusRequestHeaderFieldsTooLarge)
					answered = true
				} else if !errors.Is(err, errIdleEnd) {
					l.refuse(c, out, http.StatusBadRequest)
					answered = true
				}
				return
			}
			if fr.size > 0 {
				var keep, wrote bool
				if fastOut, keep, wrote = l.serveFast(c, br, fastOut, &fr); !keep {
					answered = wrote
					return
				}
				continue
			}
			req.RemoteAddr = remote
		}
		if keep, wrote := l.serveOne(c, out, req); !keep {
			answered = wrote
			return
		}
		req = nil
	}
}

// errIdleEnd: the connection ended between requests (the client closed
// it, the idle timeout passed, or the server drains), which needs no
// answer.
var errIdleEnd = errors.New("connection ended between requests")

// next waits for the next request on c and reads it: the fast path
// answers it (fr.size > 0) or http.ReadRequest parses it.
func (l *leanHTTP) next(c net.Conn, br *bufio.Reader, lr *limitReader) (req *http.Request, fr fastRequest, err error) {
	l.conns.hook(c, http.StateIdle)
	// The deadline is set before the connection is listed as idle, so
	// closeIdle's earlier deadline, once it sees the connection, wins.
	_ = c.SetReadDeadline(time.Now().Add(l.idleTimeout))
	l.setIdle(c, true)
	if l.draining.Load() {
		return nil, fr, errIdleEnd
	}
	// Armed before the first byte is read, since that read fills the
	// buffer; bytes a pipelining client sent earlier may add at most one
	// buffer's worth (net/http allows MaxHeaderBytes plus 4096 too).
	lr.n = l.maxHeader
	_, err = br.Peek(1)
	l.setIdle(c, false)
	if err != nil {
		return nil, fr, errIdleEnd
	}
	l.conns.hook(c, http.StateActive)
	start := time.Now()
	_ = c.SetReadDeadline(start.Add(l.headerTimeout))
	if l.fast != nil && !l.draining.Load() {
		var ok bool
		if fr, ok = l.fast.take(br, func() { _ = c.SetReadDeadline(start.Add(l.readTimeout)) }); ok {
			lr.n = noLimit
			return nil, fr, nil
		}
	}
	req, err = http.ReadRequest(br)
	lr.n = noLimit
	if err != nil {
		return nil, fr, err
	}
	_ = c.SetReadDeadline(start.Add(l.readTimeout))
	if strings.EqualFold(req.Header.Get("Expect"), "100-continue") && req.ContentLength != 0 {
		_ = c.SetWriteDeadline(time.Now().Add(l.writeTimeout))
		if _, err := io.WriteString(c, "HTTP/1.1 100 Continue\r\n\r\n"); err != nil {
			return nil, fr, errIdleEnd
		}
	}
	return req, fr, nil
}

// serveFast consumes fr's bytes and writes its answer, built in buf (which
// it returns for reuse); it reports whether the connection can carry
// another request, and whether an answer was written.
func (l *leanHTTP) serveFast(c net.Conn, br *bufio.Reader, buf []byte, fr *fastRequest) (out []byte, keep, wrote bool) {
	_, _ = br.Discard(fr.size)
	closing := l.draining.Load()
	buf = l.fast.appendResponse(buf[:0], fr, closing)
	l.fast.count(fr)
	_ = c.SetWriteDeadline(time.Now().Add(l.writeTimeout))
	if _, err := c.Write(buf); err != nil {
		return buf, false, false
	}
	return buf, !closing, true
}

// serveOne runs the handler for req and writes its response; it reports
// whether the connection can carry another request, and whether an
// answer was written.
func (l *leanHTTP) serveOne(c net.Conn, out *bytes.Buffer, req *http.Request) (keep, wrote bool) {
	w := &leanWriter{header: http.Header{}}
	if !runHandler(l.handler, w, req) {
		return false, false // the handler aborted: no answer, as net/http does
	}
	keep = !req.Close && !l.draining.Load() && !headerHasToken(w.header, "Connection", "close")
	if n, err := io.CopyN(io.Discard, req.Body, discardLimit+1); n > discardLimit || (err != nil && err != io.EOF) {
		keep = false
	}
	_ = req.Body.Close()
	out.Reset()
	w.serialize(out, req, keep)
	_ = c.SetWriteDeadline(time.Now().Add(l.writeTimeout))
	if _, err := c.Write(out.Bytes()); err != nil {
		return false, false
	}
	return keep, true
}

// lingerWait bounds how long a connection the server ends after an answer
// waits for the client to read it.
const lingerWait = 500 * time.Millisecond

// lingerClose half-closes c and reads what the client still sends for a
// moment before the close: closing with unread input makes the kernel
// send a reset, which can destroy the answer before the client reads it
// (net/http's closeWriteAndWait does the same).
func lingerClose(c net.Conn) {
	if tc, ok := c.(interface{ CloseWrite() error }); ok {
		_ = tc.CloseWrite()
	}
	_ = c.SetReadDeadline(time.Now().Add(lingerWait))
	_, _ = io.CopyN(io.Discard, c, discardLimit)
}

// runHandler calls h, and reports false if it panicked (the request
// middleware already turns ordinary panics into a 500; what reaches here
// is http.ErrAbortHandler or a panic from outside it).
func runHandler(h http.Handler, w http.ResponseWriter, req *http.Request) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	h.ServeHTTP(w, req)
	return true
}

// refuse writes a bare error response before closing, as net/http does
// for requests it cannot parse.
func (l *leanHTTP) refuse(c net.Conn, out *bytes.Buffer, code int) {
	out.Reset()
	out.WriteString("HTTP/1.1 " + strconv.Itoa(code) + " " + http.StatusText(code) +
		"\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
	_ = c.SetWriteDeadline(time.Now().Add(l.writeTimeout))
	_, _ = c.Write(out.Bytes())
}

// setIdle records whether c waits for a request, so closeIdle can end it.
func (l *leanHTTP) setIdle(c net.Conn, idle bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if idle {
		if l.idle == nil {
			l.idle = map[net.Conn]bool{}
		}
		l.idle[c] = true
	} else {
		delete(l.idle, c)
	}
}

// closeIdle wakes every taken-over connection waiting for a request, which
// then ends because the server drains; one in the middle of a request is
// answered with "Connection: close" first.
func (l *leanHTTP) closeIdle() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for c := range l.idle {
		_ = c.SetReadDeadline(time.Now())
	}
}

// headerHasToken reports whether a comma-separated header lists token.
func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// leanWriter buffers a handler's response so it goes out in one write with
// a Content-Length.
type leanWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *leanWriter) Header() http.Header { return w.header }

func (w *leanWriter) WriteHeader(code int) {
	if w.status != 0 || code < 100 || code > 999 {
		return
	}
	if code < 200 {
		return // no informational responses from handlers here
	}
	w.status = code
}

func (w *leanWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if !bodyAllowed(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	return w.body.Write(p)
}

// bodyAllowed is RFC 9110's rule: no content with 1xx, 204 or 304.
func bodyAllowed(code int) bool {
	return code >= 200 && code != http.StatusNoContent && code != http.StatusNotModified
}

// headerValueFixer keeps a value on one line, as net/http does.
var headerValueFixer = strings.NewReplacer("\r", " ", "\n", " ")

// serialize writes the status line, headers and body to out. keep says
// whether the connection stays open.
func (w *leanWriter) serialize(out *bytes.Buffer, req *http.Request, keep bool) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	h := w.header
	if bodyAllowed(w.status) {
		if h.Get("Content-Length") == "" && (req.Method != http.MethodHead || w.body.Len() > 0) {
			h.Set("Content-Length", strconv.Itoa(w.body.Len()))
		}
		if w.body.Len() > 0 && h.Get("Content-Type") == "" {
			h.Set("Content-Type", http.DetectContentType(w.body.Bytes()))
		}
	} else {
		h.Del("Content-Length")
	}
	h.Del("Transfer-Encoding")
	if h.Get("Date") == "" {
		h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	}
	h.Del("Connection")
	switch {
	case !keep:
		h.Set("Connection", "close")
	case !req.ProtoAtLeast(1, 1):
		h.Set("Connection", "keep-alive") // HTTP/1.0 closes unless told
	}
	out.WriteString("HTTP/1.1 ")
	out.WriteString(strconv.Itoa(w.status))
	out.WriteByte(' ')
	out.WriteString(http.StatusText(w.status))
	out.WriteString("\r\n")
	for k, vs := range h {
		for _, v := range vs {
			out.WriteString(k)
			out.WriteString(": ")
			if strings.ContainsAny(v, "\r\n") {
				v = headerValueFixer.Replace(v)
			}
			out.WriteString(v)
			out.WriteString("\r\n")
		}
	}
	out.WriteString("\r\n")
	if bodyAllowed(w.status) && req.Method != http.MethodHead {
		out.Write(w.body.Bytes())
	}
}
