// Command estload drives concurrent EST simpleenroll requests (RFC 7030
// §4.2.1) against one EST server over HTTPS and reports throughput and
// round-trip latency.
//
// An enrollment counts as OK only when the server answers 200 with a
// base64 certs-only PKCS#7 (RFC 7030 §4.2.3) holding a certificate for the
// key in the CSR. Latency is the HTTP round trip alone: keys and CSRs are
// made before the timer and answers are checked after it.
//
// Usage:
//
//	estload -url https://127.0.0.1:8443/.well-known/est -cacert root.crt \
//	    -pass-file challenge -c 8 -n 200 -w 16
//
// Exit status is 0 when every timed enrollment succeeded, 1 when some
// failed and 2 when the run could not start.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/certgate/certgate/cmd/internal/loadgen"
)

// options are the parsed command line.
type options struct {
	url         string
	caCert      string
	user        string
	pass        string
	passFile    string
	plan        plan
	timeout     time.Duration
	jsonOut     bool
	allowRemote bool
}

func main() {
	os.Exit(mainErr(os.Args[1:], os.Stdout, os.Stderr))
}

func mainErr(args []string, stdout, stderr io.Writer) int {
	opts, err := parseOptions(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, err)
		}
		return 2
	}
	target, err := checkURL(opts.url, opts.allowRemote)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if opts.passFile != "" {
		if opts.pass, err = readPassFile(opts.passFile); err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
	}
	hc, err := newHTTPClient(opts.caCert, opts.plan.concurrency, opts.timeout)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c := newClient(hc, target, opts.user, opts.pass)
	res, err := run(ctx, c, opts.plan)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if opts.jsonOut {
		err = printJSON(stdout, opts, res)
	} else {
		err = printText(stdout, opts, res)
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if res.ok != res.total || res.total == 0 {
		return 1
	}
	return 0
}

func parseOptions(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("estload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &options{}
	fs.StringVar(&o.url, "url", "https://127.0.0.1:8443/.well-known/est", "EST base URL, optionally with a label; /simpleenroll is appended")
	fs.StringVar(&o.caCert, "cacert", "", "PEM trust anchors for the server's TLS certificate (default: the system roots)")
	fs.StringVar(&o.user, "user", "estload", "HTTP Basic user name, sent only with a password")
	fs.StringVar(&o.pass, "pass", "", "HTTP Basic password (visible in ps; prefer -pass-file)")
	fs.StringVar(&o.passFile, "pass-file", "", "file holding the HTTP Basic password: its first line that is neither blank nor a # comment")
	fs.IntVar(&o.plan.concurrency, "c", 8, "concurrent enrollments")
	fs.IntVar(&o.plan.n, "n", 200, "timed enrollments")
	fs.IntVar(&o.plan.warmup, "w", 0, "untimed warm-up enrollments before the timed ones (at least -c opens every connection first)")
	fs.StringVar(&o.plan.keyType, "key", "ecdsa", "client key type: ecdsa (P-256) or rsa2048")
	fs.IntVar(&o.plan.keys, "keys", 0, "client keys generated before timing and reused round-robin (default min(n, 64))")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "per-request HTTP timeout")
	fs.BoolVar(&o.jsonOut, "json", false, "print one JSON line instead of text")
	fs.BoolVar(&o.allowRemote, "allow-remote", false, "allow a URL whose host is not a loopback address")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("estload: unexpected argument %q", fs.Arg(0))
	}
	return o, o.validate()
}

func (o *options) validate() error {
	p := &o.plan
	switch {
	case o.url == "":
		return errors.New("estload: -url is required")
	case p.concurrency < 1:
		return errors.New("estload: -c must be at least 1")
	case p.n < 1:
		return errors.New("estload: -n must be at least 1")
	case p.warmup < 0:
		return errors.New("estload: -w must not be negative")
	case p.keys < 0:
		return errors.New("estload: -keys must not be negative")
	case o.timeout <= 0:
		return errors.New("estload: -timeout must be positive")
	case o.pass != "" && o.passFile != "":
		return errors.New("estload: -pass and -pass-file exclude each other")
	}
	if _, ok := keyGenerators[p.keyType]; !ok {
		return fmt.Errorf("estload: -key %q: want ecdsa or rsa2048", p.keyType)
	}
	if p.keys == 0 {
		p.keys = min(p.n, 64)
	}
	return nil
}

// readPassFile takes the first line that is neither blank nor a comment,
// so certgate's generated challenge file (a "#" header, then one secret
// per line) works as it is, and so does a file holding just the password.
func readPassFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("estload: -pass-file: %w", err)
	}
	for line := range strings.Lines(string(b)) {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			return line, nil
		}
	}
	return "", fmt.Errorf("estload: -pass-file %s holds no password", path)
}

// checkURL keeps load tests on this machine unless -allow-remote says
// otherwise.
func checkURL(raw string, allowRemote bool) (*url.URL, error) {
	return loadgen.CheckURL("estload", raw, []string{"https"}, allowRemote)
}

// newHTTPClient builds the one client every worker shares.
func newHTTPClient(caFile string, concurrency int, timeout time.Duration) (*http.Client, error) {
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("estload: -cacert: %w", err)
		}
		// Only the given anchors: a server certificate that happens to chain
		// to a system root must not pass for the one under test.
		tlsCfg.RootCAs = x509.NewCertPool()
		if !tlsCfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("estload: -cacert %s holds no PEM certificate", caFile)
		}
	}
	return &http.Client{
		Timeout: timeout,
		// HTTP/1.1 (a custom TLSClientConfig turns Go's automatic HTTP/2
		// off): each worker then holds its own keep-alive TLS connection,
		// as c separate devices would, rather than all multiplexing one.
		Transport: &http.Transport{
			TLSClientConfig: tlsCfg,
			// Without this every worker past the second reopens a connection,
			// and a TLS handshake, per request: the run would measure TLS
			// setup, not enrollment.
			MaxIdleConns:        concurrency,
			MaxIdleConnsPerHost: concurrency,
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: timeout,
		},
		// Redirects could point the load elsewhere; only -url is a target.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, nil
}
