package main

import (
	"bufio"
	"bytes"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/certgate/certgate/ca/ocsp"
)

// leanFast answers, inside the lean loop, what makes up nearly all of a
// RADIUS or NAC server's traffic: a plain OCSP POST or GET whose response
// is pre-signed in memory. It reads the request head straight from the
// connection's buffer, without http.ReadRequest, the request middleware
// or a response writer, and writes the answer in one piece. Per cached
// answer that halves the gateway's CPU time and allocates almost nothing
// (BenchmarkServeOCSPCached), where the general path costs several
// kilobytes of garbage per request.
//
// It only peeks: when anything about a request is unusual (another
// method or route, a query, conditional or chunked
// requests, Expect, Connection other than keep-alive, a head that does
// not fit the buffer, debug request logging on, draining) or the answer
// is not ready in memory, the bytes are still in the buffer and
// http.ReadRequest and the handler chain take the request as before. So
// the fast path never answers differently from the chain; it only
// answers sooner (TestLeanFastMatchesChain).
type leanFast struct {
	// answer is ocsp.Responder.AnswerReady.
	answer func(get bool, path string, der []byte) (ocsp.Ready, bool)
	// post and get count 200 answers in the route metrics, as the
	// chain's httpMetrics.wrap("ocsp") would; duration is its latency.
	post, get prometheus.Counter
	duration  prometheus.Observer
	// logsRequests reports whether the request middleware would log this
	// request (debug level): then the chain takes it, so the log is
	// complete.
	logsRequests func() bool
	date         dateCache
	// served counts the answers given here (a metric, and how tests
	// tell which path answered).
	served atomic.Int64
}

// testHookNoFastPath, set by benchmarks before serve starts, leaves every
// request to the chain, to measure what the fast path saves.
var testHookNoFastPath bool

// ocspRoute is the OCSP responder's route label in the HTTP metrics.
const ocspRoute = "ocsp"

// newLeanFast is the fast path for g's OCSP responder, counted in g's
// route metrics as the chain counts its answers. Request logging is on
// when log (the middleware's) and the global level both let debug through.
func newLeanFast(g *gateway, log zerolog.Logger) *leanFast {
	hm := g.httpMetrics
	return &leanFast{
		answer:   g.revocation.ocsp.AnswerReady,
		post:     hm.requests.WithLabelValues(ocspRoute, http.MethodPost, codeLabel(http.StatusOK)),
		get:      hm.requests.WithLabelValues(ocspRoute, http.MethodGet, codeLabel(http.StatusOK)),
		duration: hm.duration.WithLabelValues(ocspRoute),
		logsRequests: func() bool {
			return log.GetLevel() <= zerolog.DebugLevel && zerolog.GlobalLevel() <= zerolog.DebugLevel
		},
	}
}

// fastRequest is a request leanFast answers: its bytes in the buffer and
// the answer.
type fastRequest struct {
	size  int // bytes of the request (head and body) to discard
	get   bool
	ready ocsp.Ready
	start time.Time
}

// maxHeadLines bounds the header lines of a request the fast path looks
// at; a longer head goes to http.ReadRequest.
const maxHeadLines = 32

// take answers the request at the start of br if it is one for the fast
// path, waiting (under the deadline the caller set) for the rest of a
// head or body that arrives in pieces. ok false: the chain's, nothing
// consumed.
func (f *leanFast) take(br *bufio.Reader, beforeBody func()) (fr fastRequest, ok bool) {
	if f.logsRequests() {
		return fastRequest{}, false
	}
	searched := 0
	var end int
	for {
		buf, _ := br.Peek(br.Buffered())
		if i := bytes.Index(buf[max(0, searched-3):], crlfcrlf); i >= 0 {
			end = max(0, searched-3) + i + len(crlfcrlf)
			break
		}
		searched = len(buf)
		if len(buf) >= br.Size() {
			return fastRequest{}, false
		}
		if _, err := br.Peek(len(buf) + 1); err != nil {
			return fastRequest{}, false
		}
	}
	buf, _ := br.Peek(end)
	h, ok := parseHead(buf)
	if !ok {
		return fastRequest{}, false
	}
	size := end + h.length
	if size > br.Size() {
		return fastRequest{}, false
	}
	if size > br.Buffered() {
		beforeBody()
	}
	buf, err := br.Peek(size)
	if err != nil {
		return fastRequest{}, false
	}
	start := time.Now()
	rd, ok := f.answer(h.get, h.path, buf[end:])
	if !ok {
		return fastRequest{}, false
	}
	return fastRequest{size: size, get: h.get, ready: rd, start: start}, true
}

// appendResponse appends the HTTP/1.1 answer to fr to dst; closing adds
// "Connection: close".
func (f *leanFast) appendResponse(dst []byte, fr *fastRequest, closing bool) []byte {
	dst = append(dst, "HTTP/1.1 200 OK\r\n"...)
	dst = fr.ready.AppendHeader(dst)
	dst = f.date.append(dst, time.Now())
	dst = appendRequestID(dst)
	if closing {
		dst = append(dst, "Connection: close\r\n"...)
	}
	dst = append(dst, "\r\n"...)
	return append(dst, fr.ready.Body()...)
}

// count records fr in the route metrics.
func (f *leanFast) count(fr *fastRequest) {
	f.served.Add(1)
	if fr.get {
		f.get.Inc()
	} else {
		f.post.Inc()
	}
	f.duration.Observe(time.Since(fr.start).Seconds())
}

// appendRequestID appends an X-Request-Id line with a fresh ID, as the
// request middleware gives every answer.
func appendRequestID(dst []byte) []byte {
	dst = append(dst, "X-Request-Id: "...)
	dst = appendNewRequestID(dst)
	return append(dst, "\r\n"...)
}

// dateCache holds the Date header line of the current second, formatted
// once per second instead of once per answer.
type dateCache struct {
	line atomic.Pointer[dateLine]
}

type dateLine struct {
	unix int64
	text []byte // "Date: ...\r\n"
}

func (d *dateCache) append(dst []byte, now time.Time) []byte {
	l := d.line.Load()
	if l == nil || l.unix != now.Unix() {
		text := now.UTC().AppendFormat([]byte("Date: "), http.TimeFormat)
		l = &dateLine{unix: now.Unix(), text: append(text, "\r\n"...)}
		d.line.Store(l)
	}
	return append(dst, l.text...)
}

var crlfcrlf = []byte("\r\n\r\n")

// leanHead is what the fast path needs of a request head.
type leanHead struct {
	get bool
	// path is the target's path with percent-escapes undone, as
	// net/http's URL.Path.
	path   string
	length int // Content-Length; 0 when absent
}

// parseHead parses head (request line and header lines, each ending in
// CRLF, then the blank line) and reports whether the request is one the
// fast path may answer: "GET" or "POST" of an OCSP path in origin form
// with no query, HTTP/1.1, well-formed header lines, and none
// of the headers that ask for something the fast path does not do.
// Anything else, including anything merely odd, reports false; the chain
// then accepts or refuses it with its own rules.
func parseHead(head []byte) (h leanHead, ok bool) {
	line, rest, _ := bytes.Cut(head, crlf)
	method, line, _ := bytes.Cut(line, sp)
	target, proto, _ := bytes.Cut(line, sp)
	switch {
	case string(method) == http.MethodGet:
		h.get = true
	case string(method) != http.MethodPost:
		return h, false
	}
	if string(proto) != "HTTP/1.1" || len(target) == 0 || target[0] != '/' {
		return h, false
	}
	escaped := false
	for _, b := range target {
		if b <= ' ' || b >= 0x7f || b == '?' || b == '#' {
			return h, false
		}
		escaped = escaped || b == '%'
	}
	h.path = string(target)
	if escaped {
		// OCSP GET clients escape the base64 ("+", "/", "=") as RFC 6960
		// Appendix A.1 asks.
		var err error
		if h.path, err = url.PathUnescape(h.path); err != nil {
			return h, false
		}
	}
	if !ocsp.IsPath(h.path) {
		return h, false
	}
	lengthSeen := false
	for n := 0; ; n++ {
		line, rest, _ = bytes.Cut(rest, crlf)
		if len(line) == 0 {
			break // the blank line
		}
		if n == maxHeadLines {
			return h, false
		}
		name, value, found := bytes.Cut(line, []byte(":"))
		if !found || !validHeaderName(name) {
			return h, false
		}
		value = bytes.Trim(value, " \t")
		for _, b := range value {
			if (b < ' ' && b != '\t') || b == 0x7f {
				return h, false
			}
		}
		switch {
		case headerIs(name, "Content-Length"):
			if lengthSeen || len(value) == 0 || len(value) > 6 {
				return h, false
			}
			lengthSeen = true
			for _, b := range value {
				if b < '0' || b > '9' {
					return h, false
				}
				h.length = h.length*10 + int(b-'0')
			}
		case headerIs(name, "Transfer-Encoding"), headerIs(name, "Expect"), headerIs(name, "Upgrade"):
			return h, false
		case headerIs(name, "Connection"):
			if !bytes.EqualFold(value, []byte("keep-alive")) {
				return h, false
			}
		case headerIs(name, "Content-Type"):
			if len(value) > 0 && string(value) != "application/ocsp-request" {
				return h, false
			}
		case headerIs(name, "If-None-Match"), headerIs(name, "If-Modified-Since"):
			if h.get {
				return h, false
			}
		}
	}
	if h.get != (h.length == 0) {
		return h, false // a GET with a body, or a POST without one
	}
	return h, true
}

var (
	crlf = []byte("\r\n")
	sp   = []byte(" ")
)

func headerIs(name []byte, canonical string) bool { return bytes.EqualFold(name, []byte(canonical)) }

// validHeaderName reports whether name is an RFC 9110 token.
func validHeaderName(name []byte) bool {
	if len(name) == 0 {
		return false
	}
	for _, b := range name {
		if b >= 0x80 || !isTokenByte[b] {
			return false
		}
	}
	return true
}

// isTokenByte is RFC 9110 §5.6.2's tchar.
var isTokenByte = func() (t [128]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()
