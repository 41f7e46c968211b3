package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
	xocsp "golang.org/x/crypto/ocsp"
)

// ocspBench is a running serve with one issued certificate whose OCSP
// answer is cached, and the raw HTTP/1.1 POST asking for it.
type ocspBench struct {
	srv     *server
	dir     string // the data dir
	serial  string // the certificate's, in hex
	addr    string
	der     []byte // the OCSP request
	request []byte
}

// newOCSPBench starts serve on a fresh data dir, issues a test certificate
// through the admin socket and asks once, so the answer is cached.
func newOCSPBench(b testing.TB) *ocspBench {
	b.Helper()
	dir := b.TempDir()
	s := startServe(b, dir)
	api, err := openAPI(testConfig(b, dir))
	if err != nil {
		b.Fatal(err)
	}
	defer api.Close()
	var issued struct {
		PEM string `json:"certificate_pem"`
	}
	if _, err := api.do(context.Background(), http.MethodPost, "/api/v1/profiles/default/test-certificate", nil, &issued, ""); err != nil {
		b.Fatal(err)
	}
	block, _ := pem.Decode([]byte(issued.PEM))
	if block == nil {
		b.Fatal("no certificate in the answer")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		b.Fatal(err)
	}
	if len(cert.IssuingCertificateURL) == 0 {
		b.Fatal("certificate names no issuer URL")
	}
	issuer, err := x509.ParseCertificate(getBody(b, cert.IssuingCertificateURL[0]))
	if err != nil {
		b.Fatal(err)
	}
	der, err := xocsp.CreateRequest(cert, issuer, nil)
	if err != nil {
		b.Fatal(err)
	}
	req := fmt.Appendf(nil, "POST /ocsp HTTP/1.1\r\nHost: %s\r\nContent-Type: application/ocsp-request\r\nContent-Length: %d\r\n\r\n", s.addr, len(der))
	ob := &ocspBench{srv: s, dir: dir, serial: cert.SerialNumber.Text(16), addr: s.addr, der: der, request: append(req, der...)}
	c := ob.dial(b)
	defer c.close()
	if resp := c.ask(b); resp.Status != xocsp.Good {
		b.Fatalf("OCSP status %d, want good", resp.Status)
	}
	return ob
}

func getBody(b testing.TB, url string) []byte {
	b.Helper()
	resp, err := http.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("GET %s: HTTP %d, %v", url, resp.StatusCode, err)
	}
	return body
}

// benchConn is one keep-alive connection writing ocspBench.request.
type benchConn struct {
	ob   *ocspBench
	c    net.Conn
	br   *bufio.Reader
	body []byte
}

func (ob *ocspBench) dial(b testing.TB) *benchConn {
	c, err := net.Dial("tcp", ob.addr)
	if err != nil {
		b.Fatal(err)
	}
	return &benchConn{ob: ob, c: c, br: bufio.NewReader(c)}
}

func (c *benchConn) close() { c.c.Close() }

// roundTrip sends the request and reads one 200 answer into c.body.
func (c *benchConn) roundTrip() error {
	if _, err := c.c.Write(c.ob.request); err != nil {
		return err
	}
	status, err := c.br.ReadSlice('\n')
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(status, []byte("HTTP/1.1 200 ")) {
		return fmt.Errorf("status line %q", status)
	}
	length := -1
	for {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			return err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		if k, v, ok := bytes.Cut(line, []byte(":")); ok && bytes.EqualFold(k, []byte("Content-Length")) {
			if length, err = strconv.Atoi(string(bytes.TrimSpace(v))); err != nil {
				return err
			}
		}
	}
	if length < 0 {
		return fmt.Errorf("no Content-Length")
	}
	c.body = append(c.body[:0], make([]byte, length)...)
	_, err = io.ReadFull(c.br, c.body)
	return err
}

// ask does one round trip and parses the answer.
func (c *benchConn) ask(b testing.TB) *xocsp.Response {
	b.Helper()
	if err := c.roundTrip(); err != nil {
		b.Fatal(err)
	}
	resp, err := xocsp.ParseResponse(c.body, nil)
	if err != nil {
		b.Fatal(err)
	}
	return resp
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkServeOCSPCached measures cached OCSP answers through the
// plain-HTTP path exactly as serve wires it (net/http accepts, the lean
// loop takes the keep-alive connection over, middleware, route metrics,
// responder), with raw HTTP/1.1 clients in the same process. cpu-ns/op is
// the process's CPU time per answer, client included: what a change to
// the serving path saves shows there even where the round trip's latency
// hides it. The answer of the last request is checked, so a path that
// stops answering fails the benchmark.
func BenchmarkServeOCSPCached(b *testing.B) {
	// As deployed: the default log level (info) logs no answered request.
	defer zerolog.SetGlobalLevel(zerolog.GlobalLevel())
	zerolog.SetGlobalLevel(zerolog.InfoLevel)
	for _, path := range []string{"fast", "chain"} {
		testHookNoFastPath = path == "chain"
		ob := newOCSPBench(b)
		testHookNoFastPath = false
		for _, conns := range []int{1, 8} {
			b.Run(fmt.Sprintf("path=%s/conns=%d", path, conns), func(b *testing.B) {
				ob.run(b, conns)
			})
		}
	}
}

// run asks ob's question b.N times over conns connections.
func (ob *ocspBench) run(b *testing.B, conns int) {
	clients := make([]*benchConn, conns)
	for i := range clients {
		clients[i] = ob.dial(b)
		defer clients[i].close()
	}
	var next atomic.Int64
	errs := make(chan error, conns)
	b.ReportAllocs()
	start := cpuTime()
	b.ResetTimer()
	for _, c := range clients {
		go func() {
			for next.Add(1) <= int64(b.N) {
				if err := c.roundTrip(); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range clients {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
	resp := clients[0].ask(b)
	if resp.Status != xocsp.Good {
		b.Fatalf("OCSP status %d, want good", resp.Status)
	}
}
