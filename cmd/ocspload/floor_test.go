package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The floor answers every request on a keep-alive connection with the
// canned bytes, bodies and pipelining included, and drops a connection
// that sends garbage.
func TestFloorServesCannedResponse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	resp := floorResponse([]byte("DER"))
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serveFloorConn(c, resp)
		}
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	reqs := "POST /ocsp HTTP/1.1\r\nHost: x\r\ncontent-length: 5\r\n\r\nhello" +
		"\r\nGET /ocsp/abc HTTP/1.1\r\nHost: x\r\n\r\n" +
		"POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi"
	if _, err := io.WriteString(c, reqs); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	for i := 0; i < 3; i++ {
		r, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		body, _ := io.ReadAll(r.Body)
		if r.StatusCode != 200 || string(body) != "DER" || r.Header.Get("Content-Type") != "application/ocsp-response" {
			t.Fatalf("response %d: %d %q %v", i, r.StatusCode, body, r.Header)
		}
	}
	if _, err := io.WriteString(c, "POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("after a bad Content-Length: %v, want the connection closed", err)
	}
}

func TestFloorRefuses(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"fail/no response", nil, "-response is required"},
		{"fail/missing file", []string{"-response", "/nonexistent/x.der"}, "no such file"},
		{"fail/not loopback", []string{"-response", "floor.go", "-listen", "0.0.0.0:0"}, "not a loopback address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := runFloorCmd(tt.args, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}
