package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// rawClient is one worker's HTTP/1.1 connection with pre-serialized
// requests. On a 2-core machine net/http's client costs about as much CPU
// per request as the responder being measured, which caps and flattens
// every comparison; this client costs a write and a read or two. It
// understands what OCSP responders send: Content-Length, chunked or
// read-until-close bodies, and HTTP/1.0 or "Connection: close" answers
// (openssl's responder closes after every response), after which it
// dials again.
type rawClient struct {
	addr    string
	timeout time.Duration
	reqs    [][]byte // by probe index
	conn    net.Conn
	br      *bufio.Reader
	body    []byte // reused: a response body is valid until the next call
}

// maxRawBody bounds a response body; OCSP responses are a few KiB.
const maxRawBody = 1 << 20

// rawRequests serializes every probe once, as POST or GET.
func rawRequests(base *url.URL, probes []probe, get bool) ([][]byte, error) {
	out := make([][]byte, len(probes))
	for i, p := range probes {
		if get {
			u, err := url.Parse(p.getURL)
			if err != nil {
				return nil, fmt.Errorf("ocspload: GET URL: %w", err)
			}
			out[i] = fmt.Appendf(nil, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", u.RequestURI(), base.Host)
			continue
		}
		out[i] = fmt.Appendf(nil, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/ocsp-request\r\nContent-Length: %d\r\n\r\n%s",
			base.RequestURI(), base.Host, len(p.der), p.der)
	}
	return out, nil
}

// hostPort is base's address with the scheme's default port filled in.
func hostPort(base *url.URL) string {
	if base.Port() != "" {
		return base.Host
	}
	return net.JoinHostPort(base.Hostname(), "80")
}

// do sends request pi and returns the body of an HTTP 200 answer. A
// kept-alive connection that the server closed while idle gets one retry
// on a new connection.
func (c *rawClient) do(ctx context.Context, pi int) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	reused := c.conn != nil
	body, err := c.roundTrip(pi)
	if err != nil && reused && errors.Is(err, errStale) {
		body, err = c.roundTrip(pi)
	}
	return body, err
}

// errStale: the connection ended before any byte of the answer.
var errStale = errors.New("connection closed before the response")

func (c *rawClient) roundTrip(pi int) ([]byte, error) {
	if c.conn == nil {
		conn, err := net.DialTimeout("tcp", c.addr, c.timeout)
		if err != nil {
			return nil, err
		}
		c.conn = conn
		if c.br == nil {
			c.br = bufio.NewReaderSize(conn, 16<<10)
		} else {
			c.br.Reset(conn)
		}
	}
	if err := c.conn.SetDeadline(time.Now().Add(c.timeout)); err != nil {
		c.close()
		return nil, err
	}
	if _, err := c.conn.Write(c.reqs[pi]); err != nil {
		c.close()
		return nil, fmt.Errorf("%w: %v", errStale, err)
	}
	status, keep, err := c.readResponse()
	if err != nil || !keep {
		c.close()
	}
	if err != nil {
		return nil, err
	}
	if status != 200 {
		return nil, fmt.Errorf("HTTP %d", status)
	}
	return c.body, nil
}

func (c *rawClient) close() {
	if c.conn != nil {
		_ = c.conn.Close()
		c.conn = nil
	}
}

// readResponse reads one response into c.body and says whether the
// connection may carry another request.
func (c *rawClient) readResponse() (status int, keep bool, err error) {
	line, err := c.br.ReadSlice('\n')
	if err != nil {
		if len(line) == 0 {
			// EOF or a reset: a server may end an idle connection.
			return 0, false, fmt.Errorf("%w: %v", errStale, err)
		}
		return 0, false, fmt.Errorf("read status line: %w", err)
	}
	// "HTTP/1.1 200 OK": version, then a three-digit code.
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return 0, false, fmt.Errorf("not an HTTP/1.x status line: %q", bytes.TrimSpace(line))
	}
	keep = line[7] == '1'
	if status, err = strconv.Atoi(string(line[9:12])); err != nil {
		return 0, false, fmt.Errorf("bad status code in %q", bytes.TrimSpace(line))
	}
	length, chunked := -1, false
	for {
		line, err = c.br.ReadSlice('\n')
		if err != nil {
			return 0, false, fmt.Errorf("read header: %w", err)
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, false, fmt.Errorf("malformed header line %q", line)
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil || length < 0 || length > maxRawBody {
				return 0, false, fmt.Errorf("bad Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			if bytes.EqualFold(value, []byte("close")) {
				keep = false
			} else if bytes.EqualFold(value, []byte("keep-alive")) {
				keep = true
			}
		}
	}
	c.body = c.body[:0]
	switch {
	case chunked:
		err = c.readChunked()
	case length >= 0:
		c.body = slices.Grow(c.body, length)[:length]
		_, err = io.ReadFull(c.br, c.body)
	default:
		// No length: the body runs to the end of the connection.
		keep = false
		c.body, err = readAllLimited(c.br, c.body)
	}
	if err != nil {
		return 0, false, fmt.Errorf("read body: %w", err)
	}
	return status, keep, nil
}

// readChunked reads a chunked body (RFC 9112 §7.1) into c.body; chunk
// extensions and trailers are skipped.
func (c *rawClient) readChunked() error {
	for {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			return err
		}
		size, _, _ := bytes.Cut(bytes.TrimRight(line, "\r\n"), []byte(";"))
		n, err := strconv.ParseUint(string(bytes.TrimSpace(size)), 16, 32)
		if err != nil || len(c.body)+int(n) > maxRawBody {
			return fmt.Errorf("bad chunk size %q", bytes.TrimSpace(line))
		}
		if n == 0 {
			for { // trailers, up to the empty line
				line, err = c.br.ReadSlice('\n')
				if err != nil {
					return err
				}
				if len(bytes.TrimRight(line, "\r\n")) == 0 {
					return nil
				}
			}
		}
		start := len(c.body)
		c.body = slices.Grow(c.body, int(n))[:start+int(n)]
		if _, err := io.ReadFull(c.br, c.body[start:]); err != nil {
			return err
		}
		if line, err = c.br.ReadSlice('\n'); err != nil || len(bytes.TrimRight(line, "\r\n")) != 0 {
			return errors.New("chunk not followed by CRLF")
		}
	}
}

func readAllLimited(r io.Reader, buf []byte) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxRawBody+1))
	if err == nil && len(b) > maxRawBody {
		err = errors.New("body longer than 1 MiB")
	}
	return append(buf, b...), err
}
