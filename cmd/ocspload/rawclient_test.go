package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// cannedServer answers every request on 127.0.0.1 with resp, closing
// the connection after it when closeAfter is set, and counts connections.
func cannedServer(t *testing.T, resp string, closeAfter bool) (addr string, conns *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	conns = new(atomic.Int32)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					_, _ = io.Copy(io.Discard, req.Body)
					if _, err := io.WriteString(c, resp); err != nil || closeAfter {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String(), conns
}

func TestRawClient(t *testing.T) {
	tests := []struct {
		name       string
		resp       string
		closeAfter bool
		wantBody   string
		wantErr    string
		wantConns  int32 // after three requests
	}{
		{"ok/content-length, kept alive", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", false, "hello", "", 1},
		{"ok/header names in any case", "HTTP/1.1 200 OK\r\ncontent-length:  3 \r\n\r\nabc", false, "abc", "", 1},
		{"ok/chunked with extension and trailer", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n", false, "abcde", "", 1},
		{"ok/HTTP/1.0 closes, like openssl", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", true, "ok", "", 3},
		{"ok/Connection: close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", true, "ok", "", 3},
		{"ok/no length reads to close", "HTTP/1.0 200 OK\r\n\r\nuntil-eof", true, "until-eof", "", 3},
		{"ok/idle close is retried on a new connection", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", true, "ok", "", 3},
		{"fail/HTTP 503", "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n", false, "", "HTTP 503", 1},
		{"fail/not HTTP", "SSH-2.0-OpenSSH\r\n\r\n", true, "", "not an HTTP/1.x status line", 3},
		{"fail/huge Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n", true, "", "bad Content-Length", 3},
		{"fail/bad chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", true, "", "bad chunk size", 3},
		{"fail/short body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", true, "", "read body", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, conns := cannedServer(t, tt.resp, tt.closeAfter)
			req := []byte("POST /ocsp HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi")
			c := &rawClient{addr: addr, timeout: 5 * time.Second, reqs: [][]byte{req}}
			defer c.close()
			for i := range 3 {
				body, err := c.do(context.Background(), 0)
				if tt.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
						t.Fatalf("request %d: err = %v, want one containing %q", i, err, tt.wantErr)
					}
					continue
				}
				if err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
				if string(body) != tt.wantBody {
					t.Fatalf("request %d: body %q, want %q", i, body, tt.wantBody)
				}
			}
			if got := conns.Load(); got != tt.wantConns {
				t.Errorf("%d connections for 3 requests, want %d", got, tt.wantConns)
			}
		})
	}
}

func TestRawRequests(t *testing.T) {
	der := []byte{0x30, 0x03, 0x02, 0x01, 0x2b}
	tests := []struct {
		name     string
		base     string
		get      bool
		wantLine string
	}{
		{"ok/POST to the base path", "http://127.0.0.1:8080/ocsp", false, "POST /ocsp HTTP/1.1"},
		{"ok/POST to the root", "http://127.0.0.1:9/", false, "POST / HTTP/1.1"},
		{"ok/GET appends the encoded request", "http://127.0.0.1:8080/ocsp", true, "GET /ocsp/MAMCASs%3D HTTP/1.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, err := checkURL(tt.base)
			if err != nil {
				t.Fatal(err)
			}
			probes := []probe{{der: der, getURL: strings.TrimRight(tt.base, "/") + "/MAMCASs%3D"}}
			reqs, err := rawRequests(base, probes, tt.get)
			if err != nil {
				t.Fatal(err)
			}
			req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(string(reqs[0]))))
			if err != nil {
				t.Fatalf("%q does not parse as HTTP: %v", reqs[0], err)
			}
			if line, _, _ := strings.Cut(string(reqs[0]), "\r\n"); line != tt.wantLine {
				t.Errorf("request line %q, want %q", line, tt.wantLine)
			}
			if req.Host != base.Host {
				t.Errorf("Host %q, want %q", req.Host, base.Host)
			}
			body, _ := io.ReadAll(req.Body)
			if tt.get && len(body) != 0 || !tt.get && (string(body) != string(der) || req.Header.Get("Content-Type") != "application/ocsp-request") {
				t.Errorf("body %x with Content-Type %q", body, req.Header.Get("Content-Type"))
			}
		})
	}
}
