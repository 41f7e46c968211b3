package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	xocsp "golang.org/x/crypto/ocsp"
)

func TestParseHead(t *testing.T) {
	const get = "GET /ocsp/MEMwQTA_MD0wOzAJBgUrDgMCGgUA HTTP/1.1\r\nHost: x\r\n\r\n"
	post := func(extra string) string {
		return "POST /ocsp HTTP/1.1\r\nHost: x\r\nContent-Type: application/ocsp-request\r\n" + extra + "Content-Length: 120\r\n\r\n"
	}
	tests := []struct {
		name       string
		head       string
		wantOK     bool
		wantGet    bool
		wantLength int
		wantPath   string // "" : the target as sent
	}{
		{name: "ok/POST", head: post(""), wantOK: true, wantLength: 120},
		{name: "ok/GET", head: get, wantOK: true, wantGet: true},
		{name: "ok/GET under //ocsp//", head: "GET //ocsp//MEMw HTTP/1.1\r\n\r\n", wantOK: true, wantGet: true},
		{name: "ok/POST without Content-Type", head: "POST /ocsp HTTP/1.1\r\nContent-Length: 5\r\n\r\n", wantOK: true, wantLength: 5},
		{name: "ok/Connection: keep-alive", head: post("Connection: Keep-Alive\r\n"), wantOK: true, wantLength: 120},
		{name: "ok/lower-case names, tabs around values", head: "POST /ocsp HTTP/1.1\r\ncontent-length:\t7 \r\n\r\n", wantOK: true, wantLength: 7},
		{name: "ok/conditional headers on POST are ignored by the responder", head: post("If-None-Match: \"x\"\r\n"), wantOK: true, wantLength: 120},
		{name: "chain/HEAD", head: "HEAD /ocsp/MEMw HTTP/1.1\r\n\r\n"},
		{name: "chain/PUT", head: "PUT /ocsp HTTP/1.1\r\nContent-Length: 1\r\n\r\n"},
		{name: "chain/other route", head: "GET /healthz HTTP/1.1\r\n\r\n"},
		{name: "chain/ocsp prefix of another word", head: "GET /ocspx HTTP/1.1\r\n\r\n"},
		{name: "ok/percent-escapes", head: "GET /ocsp/MEMw%2B%2f%3D HTTP/1.1\r\n\r\n", wantOK: true, wantGet: true, wantPath: "/ocsp/MEMw+/="},
		{name: "ok/escaped path prefix", head: "GET /%6Fcsp/MEMw HTTP/1.1\r\n\r\n", wantOK: true, wantGet: true, wantPath: "/ocsp/MEMw"},
		{name: "chain/bad percent-escape", head: "GET /ocsp/MEMw%zz HTTP/1.1\r\n\r\n"},
		{name: "chain/escape making another route", head: "GET /%6Fcspx HTTP/1.1\r\n\r\n"},
		{name: "chain/query", head: "GET /ocsp/MEMw?x=1 HTTP/1.1\r\n\r\n"},
		{name: "chain/absolute form", head: "GET http://x/ocsp/MEMw HTTP/1.1\r\n\r\n"},
		{name: "chain/HTTP/1.0", head: "GET /ocsp/MEMw HTTP/1.0\r\n\r\n"},
		{name: "chain/two spaces", head: "GET  /ocsp/MEMw HTTP/1.1\r\n\r\n"},
		{name: "chain/GET with a body", head: "GET /ocsp/MEMw HTTP/1.1\r\nContent-Length: 3\r\n\r\n"},
		{name: "chain/POST without a length", head: "POST /ocsp HTTP/1.1\r\n\r\n"},
		{name: "chain/POST of length 0", head: "POST /ocsp HTTP/1.1\r\nContent-Length: 0\r\n\r\n"},
		{name: "chain/two lengths", head: post("Content-Length: 120\r\n")},
		{name: "chain/signed length", head: "POST /ocsp HTTP/1.1\r\nContent-Length: +5\r\n\r\n"},
		{name: "chain/huge length", head: "POST /ocsp HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n"},
		{name: "chain/chunked", head: "POST /ocsp HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"},
		{name: "chain/Expect", head: post("Expect: 100-continue\r\n")},
		{name: "chain/Connection: close", head: post("Connection: close\r\n")},
		{name: "chain/Upgrade", head: post("Upgrade: h2c\r\n")},
		{name: "chain/Content-Type with parameters", head: "POST /ocsp HTTP/1.1\r\nContent-Type: application/ocsp-request; x=y\r\nContent-Length: 5\r\n\r\n"},
		{name: "chain/other Content-Type", head: "POST /ocsp HTTP/1.1\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n"},
		{name: "chain/conditional GET", head: "GET /ocsp/MEMw HTTP/1.1\r\nIf-None-Match: \"x\"\r\n\r\n"},
		{name: "chain/If-Modified-Since GET", head: "GET /ocsp/MEMw HTTP/1.1\r\nif-modified-since: Mon, 02 Jan 2006 15:04:05 GMT\r\n\r\n"},
		{name: "chain/folded header line", head: "GET /ocsp/MEMw HTTP/1.1\r\nX-A: b\r\n c\r\n\r\n"},
		{name: "chain/space before colon", head: "GET /ocsp/MEMw HTTP/1.1\r\nHost : x\r\n\r\n"},
		{name: "chain/line without colon", head: "GET /ocsp/MEMw HTTP/1.1\r\nHost\r\n\r\n"},
		{name: "chain/control byte in a value", head: "GET /ocsp/MEMw HTTP/1.1\r\nX-A: b\x00c\r\n\r\n"},
		{name: "chain/bare LF", head: "GET /ocsp/MEMw HTTP/1.1\nHost: x\r\n\r\n"},
		{name: "chain/too many header lines", head: "GET /ocsp/MEMw HTTP/1.1\r\n" + strings.Repeat("X-A: b\r\n", maxHeadLines+1) + "\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, ok := parseHead([]byte(tt.head))
			if ok != tt.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tt.wantOK)
			}
			if !ok {
				return
			}
			wantPath := tt.wantPath
			if wantPath == "" {
				wantPath = strings.Fields(tt.head)[1]
			}
			if h.get != tt.wantGet || h.length != tt.wantLength || h.path != wantPath {
				t.Fatalf("get %v length %d path %q, want %v %d %q", h.get, h.length, h.path, tt.wantGet, tt.wantLength, wantPath)
			}
		})
	}
}

// fastEnv is a running serve at the default log level with one cached
// OCSP answer, and ways to ask it.
type fastEnv struct {
	*ocspBench
	get string // the GET request line's target
}

func newFastEnv(t *testing.T) *fastEnv {
	t.Helper()
	level := zerolog.GlobalLevel()
	t.Cleanup(func() { zerolog.SetGlobalLevel(level) })
	zerolog.SetGlobalLevel(zerolog.InfoLevel)
	ob := newOCSPBench(t)
	return &fastEnv{ocspBench: ob, get: "/ocsp/" + base64.StdEncoding.EncodeToString(ob.der)}
}

// takenOver opens a connection and asks once, so the lean loop serves
// it from then on.
func (e *fastEnv) takenOver(t *testing.T) *client {
	t.Helper()
	c := dialClient(t, e.addr)
	c.send(e.postRaw(""))
	_, body := c.read(http.MethodPost)
	checkGood(t, body)
	return c
}

// metric reads one sample from /metrics; 0 when absent.
func (e *fastEnv) metric(t *testing.T, series string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + e.addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(page), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	return 0
}

const fastAnswers = "certgate_http_ocsp_fast_answers_total"

func (e *fastEnv) postRaw(extra string) string {
	return fmt.Sprintf("POST /ocsp HTTP/1.1\r\nHost: %s\r\nContent-Type: application/ocsp-request\r\n%sContent-Length: %d\r\n\r\n%s", e.addr, extra, len(e.der), e.der)
}

func (e *fastEnv) getRaw(target, extra string) string {
	return fmt.Sprintf("GET %s HTTP/1.1\r\nHost: %s\r\n%s\r\n", target, e.addr, extra)
}

// checkGood fails unless body is a good OCSP response.
func checkGood(t *testing.T, body string) {
	t.Helper()
	resp, err := xocsp.ParseResponse([]byte(body), nil)
	if err != nil {
		t.Fatalf("answer is not an OCSP response: %v", err)
	}
	if resp.Status != xocsp.Good {
		t.Fatalf("OCSP status %d, want good", resp.Status)
	}
}

var requestID = regexp.MustCompile(`^[0-9a-f]{16}$`)

var cacheControl = regexp.MustCompile(`^max-age=([0-9]+), public, no-transform, must-revalidate$`)

// maxAge returns the max-age of an RFC 5019 GET answer's Cache-Control.
func maxAge(t *testing.T, h http.Header) int {
	t.Helper()
	m := cacheControl.FindStringSubmatch(h.Get("Cache-Control"))
	if m == nil {
		t.Fatalf("Cache-Control %q", h.Get("Cache-Control"))
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// On one connection, the first answer comes from net/http and the chain
// (net/http takes every connection's first request) and the second from
// the fast path; both must be the same answer with the same headers but
// for the Date and X-Request-Id values, and both counted alike.
func TestLeanFastMatchesChain(t *testing.T) {
	e := newFastEnv(t)
	requests := e.metric(t, `certgate_http_requests_total{code="200",method="POST",route="ocsp"}`)
	hits := e.metric(t, `certgate_ocsp_responses_total{cache="hit",status="good"}`)
	for _, tt := range []struct{ name, method, raw string }{
		{"POST", http.MethodPost, e.postRaw("")},
		{"GET", http.MethodGet, e.getRaw(e.get, "")},
		// As openssl sends it: every "+", "/" and "=" escaped.
		{"GET escaped", http.MethodGet, e.getRaw("/ocsp/"+url.QueryEscape(base64.StdEncoding.EncodeToString(e.der))+"%3d%3D", "")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := dialClient(t, e.addr)
			fast := e.metric(t, fastAnswers)
			c.send(tt.raw)
			chainResp, chainBody := c.read(tt.method)
			if got := e.metric(t, fastAnswers); got != fast {
				t.Fatalf("the first request on a connection took the fast path (%v → %v)", fast, got)
			}
			c.send(tt.raw)
			fastResp, fastBody := c.read(tt.method)
			if got := e.metric(t, fastAnswers); got != fast+1 {
				t.Fatalf("fast answers %v → %v, want one more", fast, got)
			}
			checkGood(t, fastBody)
			if fastBody != chainBody || fastResp.StatusCode != chainResp.StatusCode {
				t.Fatalf("fast answer HTTP %d differs from the chain's HTTP %d", fastResp.StatusCode, chainResp.StatusCode)
			}
			for _, h := range []http.Header{fastResp.Header, chainResp.Header} {
				if !requestID.MatchString(h.Get("X-Request-Id")) {
					t.Errorf("X-Request-Id %q", h.Get("X-Request-Id"))
				}
				if _, err := http.ParseTime(h.Get("Date")); err != nil {
					t.Errorf("Date %q: %v", h.Get("Date"), err)
				}
				h.Del("X-Request-Id")
				h.Del("Date")
			}
			// max-age counts down to nextUpdate in whole seconds, so a
			// second may tick between the two answers.
			if tt.method == http.MethodGet {
				fastAge, chainAge := maxAge(t, fastResp.Header), maxAge(t, chainResp.Header)
				if fastAge > chainAge || fastAge < chainAge-1 {
					t.Errorf("max-age %d after the chain's %d", fastAge, chainAge)
				}
				fastResp.Header.Set("Cache-Control", chainResp.Header.Get("Cache-Control"))
			}
			if fmt.Sprint(fastResp.Header) != fmt.Sprint(chainResp.Header) {
				t.Errorf("headers differ\nfast  %v\nchain %v", fastResp.Header, chainResp.Header)
			}
		})
	}
	// Each request sent twice, every answer a cache hit (the POST was
	// cached when newOCSPBench asked).
	if got := e.metric(t, `certgate_http_requests_total{code="200",method="POST",route="ocsp"}`); got != requests+2 {
		t.Errorf("POST requests counted %v → %v, want two more", requests, got)
	}
	if got := e.metric(t, `certgate_ocsp_responses_total{cache="hit",status="good"}`); got != hits+6 {
		t.Errorf("cache hits counted %v → %v, want six more", hits, got)
	}
}

// Requests the fast path does not take still get the chain's answer on a
// taken-over connection, and the fast path takes the next plain one.
func TestLeanFastLeavesOthersToChain(t *testing.T) {
	e := newFastEnv(t)
	c := e.takenOver(t)
	c.send(e.getRaw(e.get, ""))
	getResp, _ := c.read(http.MethodGet)
	etag := getResp.Header.Get("Etag")
	fast := e.metric(t, fastAnswers)

	chunked := fmt.Sprintf("POST /ocsp HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n", len(e.der), e.der)
	tests := []struct {
		name, method, raw string
		wantCode          int
		wantBody          string // "good": a good OCSP response
	}{
		{"GET with a query", http.MethodGet, e.getRaw(e.get+"?x=1", ""), 200, "good"},
		{"HEAD", http.MethodHead, "HEAD " + e.get + " HTTP/1.1\r\nHost: x\r\n\r\n", 200, ""},
		{"conditional GET", http.MethodGet, e.getRaw(e.get, "If-None-Match: "+etag+"\r\n"), 304, ""},
		{"Content-Type with a parameter", http.MethodPost, strings.Replace(e.postRaw(""), "ocsp-request", "ocsp-request; x=y", 1), 200, "good"},
		{"Expect: 100-continue", http.MethodPost, e.postRaw("Expect: 100-continue\r\n"), 200, "good"},
		{"chunked POST", http.MethodPost, chunked, 200, "good"},
		{"another route", http.MethodGet, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 200, "ok\n"},
	}
	for _, tt := range tests {
		c.send(tt.raw)
		resp, body := c.read(tt.method)
		if resp.StatusCode != tt.wantCode {
			t.Fatalf("%s: HTTP %d, want %d", tt.name, resp.StatusCode, tt.wantCode)
		}
		if tt.wantBody == "good" {
			checkGood(t, body)
		} else if body != tt.wantBody {
			t.Fatalf("%s: body %q, want %q", tt.name, body, tt.wantBody)
		}
	}
	if got := e.metric(t, fastAnswers); got != fast {
		t.Fatalf("fast answers %v → %v, want none of these", fast, got)
	}
	c.send(e.postRaw(""))
	_, body := c.read(http.MethodPost)
	checkGood(t, body)
	if got := e.metric(t, fastAnswers); got != fast+1 {
		t.Fatalf("fast answers %v → %v after a plain POST, want one more", fast, got)
	}
	// Connection: close is the chain's: answered, then closed.
	c.send(e.postRaw("Connection: close\r\n"))
	resp, body := c.read(http.MethodPost)
	checkGood(t, body)
	if !resp.Close || !c.closed() {
		t.Fatal("connection not closed after Connection: close")
	}
}

// A request that arrives in pieces, and requests pipelined in one write
// with one for the chain between them, are answered in order.
func TestLeanFastPiecesAndPipelining(t *testing.T) {
	e := newFastEnv(t)
	c := e.takenOver(t)
	fast := e.metric(t, fastAnswers)

	raw := e.postRaw("")
	for _, piece := range []string{raw[:10], raw[10 : len(raw)-len(e.der)-3], raw[len(raw)-len(e.der)-3 : len(raw)-5], raw[len(raw)-5:]} {
		c.send(piece)
		time.Sleep(20 * time.Millisecond)
	}
	_, body := c.read(http.MethodPost)
	checkGood(t, body)
	if got := e.metric(t, fastAnswers); got != fast+1 {
		t.Fatalf("fast answers %v → %v for a request in pieces, want one more", fast, got)
	}

	c.send(raw + e.getRaw("/healthz", "") + e.getRaw(e.get, "") + raw)
	for i, method := range []string{http.MethodPost, http.MethodGet, http.MethodGet, http.MethodPost} {
		resp, body := c.read(method)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("pipelined answer %d: HTTP %d", i, resp.StatusCode)
		}
		if i == 1 {
			if body != "ok\n" {
				t.Fatalf("pipelined /healthz answered %q", body)
			}
			continue
		}
		checkGood(t, body)
	}
	if got := e.metric(t, fastAnswers); got != fast+4 {
		t.Fatalf("fast answers %v → %v, want three more after the split one", fast, got)
	}
}

// A revocation reaches the next fast answer on a connection already
// taken over: the fast path serves only what the responder's memory
// holds, and revoking drops it there.
func TestLeanFastSeesRevocation(t *testing.T) {
	e := newFastEnv(t)
	c := e.takenOver(t)
	c.send(e.postRaw(""))
	_, body := c.read(http.MethodPost)
	checkGood(t, body)
	fast := e.metric(t, fastAnswers)
	if fast < 1 {
		t.Fatal("the fast path answered nothing")
	}
	api, err := openAPI(testConfig(t, e.dir))
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	if _, err := api.do(context.Background(), http.MethodPost, "/api/v1/certificates/"+e.serial+"/revoke",
		map[string]string{"reason": "keyCompromise"}, nil, ""); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		c.send(e.postRaw(""))
		_, body := c.read(http.MethodPost)
		resp, err := xocsp.ParseResponse([]byte(body), nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Status != xocsp.Revoked || resp.RevocationReason != xocsp.KeyCompromise {
			t.Fatalf("answer %d after revoking: status %d reason %d, want revoked (keyCompromise)", i, resp.Status, resp.RevocationReason)
		}
	}
	// The first answer after the revocation was signed anew by the
	// chain; the second is the new response, cached, on the fast path.
	if got := e.metric(t, fastAnswers); got != fast+1 {
		t.Fatalf("fast answers %v → %v, want one more", fast, got)
	}
}

// Whatever head the fast path accepts, the standard library's parser
// reads the same way: same method, path and body length, so the fast
// path never answers a request the chain would have read differently.
func FuzzParseHead(f *testing.F) {
	for _, seed := range []string{
		"POST /ocsp HTTP/1.1\r\nHost: x\r\nContent-Type: application/ocsp-request\r\nContent-Length: 120\r\n\r\n",
		"GET /ocsp/MEMwQTA_MD0wOzAJBgUrDgMCGgUA HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET //ocsp//MEMw HTTP/1.1\r\nConnection: keep-alive\r\n\r\n",
		"GET /ocsp/MEMw%2B%2F%3d HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST /ocsp HTTP/1.1\r\ncontent-length:\t7 \r\n\r\n",
		"GET /ocsp/MEMw HTTP/1.1\r\nX-A: b\r\n c\r\n\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, head []byte) {
		end := bytes.Index(head, crlfcrlf)
		if end < 0 {
			return
		}
		head = head[:end+len(crlfcrlf)]
		h, ok := parseHead(head)
		if !ok {
			return
		}
		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(head)))
		if err != nil {
			t.Fatalf("fast path accepts %q, net/http refuses: %v", head, err)
		}
		method := http.MethodPost
		if h.get {
			method = http.MethodGet
		}
		if req.Method != method || req.URL.Path != h.path || req.ContentLength != int64(h.length) || len(req.TransferEncoding) > 0 || req.Close {
			t.Fatalf("%q: fast path reads %s %q length %d, net/http %s %q length %d (TE %v, close %v)",
				head, method, h.path, h.length, req.Method, req.URL.Path, req.ContentLength, req.TransferEncoding, req.Close)
		}
	})
}
