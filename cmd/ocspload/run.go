package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	xocsp "golang.org/x/crypto/ocsp"
)

// cpuTime is the user and system CPU time this process has used. On a
// machine the client shares with the responder, it says how much of the
// CPU the client took from it.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// runOptions are run's parsed flags.
type runOptions struct {
	url         string
	issuer      string
	serials     string
	sample      int
	seed        uint64
	concurrency int
	n           int
	useGET      bool
	client      string
	timeout     time.Duration
	jsonOut     bool
	name        string
	want        int // the certStatus every answer must have
}

func parseRunOptions(args []string, stderr io.Writer) (*runOptions, error) {
	fs := flag.NewFlagSet("ocspload run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &runOptions{}
	fs.StringVar(&o.url, "url", "", "OCSP URL on this machine, e.g. http://127.0.0.1:8080/ocsp (required)")
	fs.StringVar(&o.issuer, "issuer", "", "PEM certificate of the CA the serials belong to (required)")
	fs.StringVar(&o.serials, "serials", "", "file of hex serials, one a line (required)")
	fs.IntVar(&o.sample, "sample", 1000, "ask about this many serials of the file, drawn with -seed; 0 means all")
	fs.Uint64Var(&o.seed, "seed", 1, "random seed of the sample, so that runs against different responders ask the same")
	fs.IntVar(&o.concurrency, "c", 8, "concurrent workers, each with its own keep-alive connection")
	fs.IntVar(&o.n, "n", 1000, "requests in total, cycling through the sample")
	fs.BoolVar(&o.useGET, "get", false, "send GET /<base64> instead of POST")
	fs.StringVar(&o.client, "client", "http", `"http": Go's net/http client; "raw": pre-serialized HTTP/1.1 on one connection per worker, which leaves more of a small machine's CPU to the responder`)
	fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "per-request HTTP timeout")
	fs.BoolVar(&o.jsonOut, "json", false, "print one JSON line instead of text")
	fs.StringVar(&o.name, "name", "", "label copied into the report")
	want := fs.String("want", "good", `certStatus every answer must have: "good", or "unknown" to send serials the responder never issued (each costs it a signature)`)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch *want {
	case "good":
		o.want = xocsp.Good
	case "unknown":
		o.want = xocsp.Unknown
	default:
		return nil, fmt.Errorf("ocspload run: -want %q: want good or unknown", *want)
	}
	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("ocspload run: unexpected argument %q", fs.Arg(0))
	case o.url == "" || o.issuer == "" || o.serials == "":
		return nil, errors.New("ocspload run: -url, -issuer and -serials are required")
	case o.concurrency < 1 || o.concurrency > 4096:
		return nil, errors.New("ocspload run: -c must be between 1 and 4096")
	case o.n < 1:
		return nil, errors.New("ocspload run: -n must be at least 1")
	case o.sample < 0:
		return nil, errors.New("ocspload run: -sample must not be negative")
	case o.timeout <= 0:
		return nil, errors.New("ocspload run: -timeout must be positive")
	case o.client != "http" && o.client != "raw":
		return nil, fmt.Errorf("ocspload run: -client %q: want http or raw", o.client)
	}
	return o, nil
}

// runLoadCmd is `ocspload run`. failed reports responses that were not
// a valid answer with the -want status; err means the run could not be
// made at all.
func runLoadCmd(args []string, stdout, stderr io.Writer) (failed bool, err error) {
	o, err := parseRunOptions(args, stderr)
	if err != nil {
		return false, err
	}
	base, err := checkURL(o.url)
	if err != nil {
		return false, err
	}
	issuer, err := readIssuer(o.issuer)
	if err != nil {
		return false, err
	}
	f, err := os.Open(o.serials)
	if err != nil {
		return false, fmt.Errorf("ocspload: -serials: %w", err)
	}
	all, err := parseSerials(f)
	f.Close()
	if err != nil {
		return false, err
	}
	probes, err := buildProbes(base, issuer, sampleSerials(all, o.sample, o.seed))
	if err != nil {
		return false, err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	l := &loader{
		hc: &http.Client{
			Timeout: o.timeout,
			Transport: &http.Transport{
				// One idle connection per worker, or every worker past the
				// second reconnects per request and the run measures TCP.
				MaxIdleConnsPerHost: o.concurrency,
				DisableCompression:  true,
			},
			// Only -url is a target; a redirect could point elsewhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		url: base.String(), get: o.useGET, probes: probes,
	}
	if o.client == "raw" {
		if l.raw, err = rawRequests(base, probes, o.useGET); err != nil {
			return false, err
		}
		l.addr, l.timeout = hostPort(base), o.timeout
	}
	// One untimed request, fully checked, so a wrong -issuer or URL fails
	// at once with a reason instead of as n errors.
	send, done := l.sender()
	body, err := send(ctx, 0)
	done()
	if err == nil {
		err = checkResponse(body, probes[0].serial, issuer, time.Now(), o.want)
	}
	if err != nil {
		return false, fmt.Errorf("ocspload: first request to %s: %w", o.url, err)
	}
	cpu0 := cpuTime()
	res := l.run(ctx, o.concurrency, o.n)
	res.clientCPU = cpuTime() - cpu0
	res.check(probes, issuer, time.Now(), o.want)
	rep := newReport(o, res, len(probes))
	if o.jsonOut {
		err = rep.writeJSON(stdout)
	} else {
		err = rep.writeText(stdout)
	}
	return rep.Errors > 0 || rep.OK == 0, err
}
