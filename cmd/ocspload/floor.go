package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
)

// floor is the least work any HTTP/1.1 OCSP responder can do per request:
// read the request line, headers and body, and write the same canned
// response every time, one goroutine per keep-alive connection and one
// write per answer. Measured in the same run as the real responders, it
// shows what this machine's loopback, scheduler and the load generator
// allow at each concurrency, so a ratio to another responder can be read
// against the largest ratio anything could reach here.

// maxFloorHeader bounds a request's head; the floor serves only ocspload.
const maxFloorHeader = 64 << 10

// floorResponse is the HTTP/1.1 answer carrying der.
func floorResponse(der []byte) []byte {
	head := "HTTP/1.1 200 OK\r\nContent-Type: application/ocsp-response\r\nContent-Length: " + strconv.Itoa(len(der)) + "\r\n\r\n"
	return append([]byte(head), der...)
}

// serveFloorConn answers every request on c with resp until c fails.
func serveFloorConn(c net.Conn, resp []byte) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		length, err := readFloorHead(br)
		if err != nil {
			return
		}
		if _, err := br.Discard(length); err != nil {
			return
		}
		if _, err := c.Write(resp); err != nil {
			return
		}
	}
}

// readFloorHead reads a request line and headers and returns the
// Content-Length (0 when absent).
func readFloorHead(br *bufio.Reader) (int, error) {
	length, read := 0, 0
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		if read += len(line); read > maxFloorHeader {
			return 0, errors.New("request head too long")
		}
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			if read == len(line) {
				continue // a blank line before the request line
			}
			return length, nil
		}
		if k, v, ok := bytes.Cut(line, []byte(":")); ok && bytes.EqualFold(bytes.TrimSpace(k), []byte("Content-Length")) {
			n, err := strconv.Atoi(string(bytes.TrimSpace(v)))
			if err != nil || n < 0 || n > maxFloorHeader {
				return 0, fmt.Errorf("bad Content-Length %q", bytes.TrimSpace(v))
			}
			length = n
		}
	}
}

// runFloorCmd is "ocspload floor": listen on -listen (loopback only) and
// answer every request with the DER in -response. It prints the address
// it listens on, then serves until killed.
func runFloorCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ocspload floor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:0", "loopback address to listen on")
	respFile := fs.String("response", "", "DER OCSP response to send to every request (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *respFile == "" {
		return errors.New("ocspload floor: -response is required")
	}
	der, err := os.ReadFile(*respFile)
	if err != nil {
		return fmt.Errorf("ocspload floor: %w", err)
	}
	host, _, err := net.SplitHostPort(*listen)
	if err != nil || !net.ParseIP(host).IsLoopback() {
		return fmt.Errorf("ocspload floor: -listen %q is not a loopback address", *listen)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("ocspload floor: %w", err)
	}
	fmt.Fprintln(stdout, ln.Addr())
	resp := floorResponse(der)
	for {
		c, err := ln.Accept()
		if err != nil {
			return fmt.Errorf("ocspload floor: %w", err)
		}
		go serveFloorConn(c, resp)
	}
}
