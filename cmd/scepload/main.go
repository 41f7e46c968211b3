// Command scepload drives concurrent SCEP enrollments against one SCEP
// server and reports throughput and round-trip latency.
//
// An enrollment counts as OK only when the CertRep is a signed SUCCESS for
// its transaction and the decrypted certificate carries the requested key.
// Latency is the HTTP round trip alone: building the PKCSReq happens before
// the timer and checking the CertRep after it.
//
// Usage:
//
//	scepload -url http://127.0.0.1:8080/scep -challenge secret -c 8 -n 200
//
// Exit status is 0 when every enrollment succeeded, 1 when some failed and
// 2 when the run could not start.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/certgate/certgate/cmd/internal/loadgen"

	"github.com/smallstep/pkcs7"
)

// options are the parsed command line.
type options struct {
	url         string
	challenge   string
	plan        plan
	cipher      string
	useGET      bool
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
	base, err := checkURL(opts.url, opts.allowRemote)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	// pkcs7 reads this package global in every Encrypt; it is set here,
	// before any goroutine exists, and never again.
	pkcs7.ContentEncryptionAlgorithm = cipherIDs[opts.cipher]

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hc := &http.Client{
		Timeout: opts.timeout,
		Transport: &http.Transport{
			// Without this every worker past the second reopens a connection
			// per request and the run measures TCP setup, not SCEP.
			MaxIdleConnsPerHost: opts.plan.concurrency,
		},
		// Redirects could point the load elsewhere; only -url is a target.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	c, err := newClient(ctx, hc, base, opts.challenge, opts.useGET)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	res, err := run(ctx, c, opts.plan)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if opts.jsonOut {
		err = printJSON(stdout, opts, c, res)
	} else {
		err = printText(stdout, opts, c, res)
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

// cipherIDs maps -cipher to pkcs7's content encryption choice. SCEP
// (RFC 8894 §3.5.2) names the CBC modes, so those are what is offered.
var cipherIDs = map[string]int{
	"aes128": pkcs7.EncryptionAlgorithmAES128CBC,
	"aes256": pkcs7.EncryptionAlgorithmAES256CBC,
}

func parseOptions(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("scepload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &options{}
	fs.StringVar(&o.url, "url", "", "SCEP URL, e.g. http://127.0.0.1:8080/scep (required)")
	fs.StringVar(&o.challenge, "challenge", "", "challenge password put in every CSR")
	fs.IntVar(&o.plan.concurrency, "c", 8, "concurrent enrollments")
	fs.IntVar(&o.plan.n, "n", 200, "total enrollments (with -duration: an extra cap, only if given)")
	fs.DurationVar(&o.plan.duration, "duration", 0, "start enrollments for this long instead of a fixed count")
	fs.IntVar(&o.plan.keyBits, "key-bits", 2048, "RSA size of the client keys")
	fs.IntVar(&o.plan.keys, "keys", 0, "client keys generated before timing and reused round-robin (default min(n, 64))")
	fs.StringVar(&o.cipher, "cipher", "aes256", "PKCSReq envelope cipher: aes128 or aes256 (CBC)")
	fs.BoolVar(&o.useGET, "get", false, "send PKIOperation as GET instead of POST")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "per-request HTTP timeout")
	fs.BoolVar(&o.jsonOut, "json", false, "print one JSON line instead of text")
	fs.BoolVar(&o.allowRemote, "allow-remote", false, "allow a URL whose host is not a loopback address")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("scepload: unexpected argument %q", fs.Arg(0))
	}
	nSet := false
	fs.Visit(func(f *flag.Flag) { nSet = nSet || f.Name == "n" })
	if o.plan.duration > 0 && !nSet {
		o.plan.n = 0
	}
	return o, o.validate()
}

func (o *options) validate() error {
	p := &o.plan
	switch {
	case o.url == "":
		return errors.New("scepload: -url is required")
	case p.concurrency < 1:
		return errors.New("scepload: -c must be at least 1")
	case p.duration < 0:
		return errors.New("scepload: -duration must not be negative")
	case p.n < 0 || (p.n == 0 && p.duration == 0):
		return errors.New("scepload: -n must be at least 1 unless -duration is given")
	case p.keyBits < 1024 || p.keyBits > 8192:
		return errors.New("scepload: -key-bits must be between 1024 and 8192")
	case p.keys < 0:
		return errors.New("scepload: -keys must not be negative")
	case o.timeout <= 0:
		return errors.New("scepload: -timeout must be positive")
	}
	if _, ok := cipherIDs[o.cipher]; !ok {
		return fmt.Errorf("scepload: -cipher %q: want aes128 or aes256", o.cipher)
	}
	if p.keys == 0 {
		p.keys = 64
		if p.n > 0 {
			p.keys = min(p.n, 64)
		}
	}
	return nil
}

// checkURL keeps load tests on this machine unless -allow-remote says
// otherwise.
func checkURL(raw string, allowRemote bool) (*url.URL, error) {
	return loadgen.CheckURL("scepload", raw, []string{"http", "https"}, allowRemote)
}
