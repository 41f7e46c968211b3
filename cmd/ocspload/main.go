// Command ocspload measures an OCSP responder and seeds a certgate data
// directory with enough certificates to measure it fairly.
//
//	ocspload seed -data-dir D -n 100000 -out DIR
//	ocspload run  -url http://127.0.0.1:8080/ocsp -issuer DIR/issuer.pem -serials DIR/sample.txt -c 8 -n 20000
//	ocspload floor -response FILE.der [-listen 127.0.0.1:0]
//
// seed signs certificates with certgate's own CA (D/ca) and records them
// in its store (D/certgate.db) while certgate is stopped, and writes what
// other responders need to answer for the same certificates: an OpenSSL
// index.txt, a file of pre-signed responses for cfssl's ocspserve, and a
// delegated responder certificate and key. See seed.go.
//
// run sends RFC 5019 requests (SHA-1 CertID, no nonce: what RADIUS/NAC
// servers send and what a responder may answer from a cache) from
// concurrent keep-alive workers and reports responses per second and
// latency percentiles. Every response is checked, after the clock stops,
// for status successful, the asked serial, certStatus good and a valid
// signature chaining to -issuer. See run.go.
//
// Exit status: 0 on success, 1 when a run saw failed responses, 2 when
// the command could not start or seed failed.
//
// floor answers every request with one canned response and nothing else,
// the reference point for what this machine allows. See floor.go.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"

	"github.com/certgate/certgate/cmd/internal/loadgen"
)

func main() {
	os.Exit(mainErr(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage: ocspload seed -data-dir D -out DIR [-n 100000] [flags]
       ocspload run -url URL -issuer FILE -serials FILE [-c 8] [-n 1000] [flags]
       ocspload floor -response FILE [-listen 127.0.0.1:0]
Run "ocspload seed -h", "ocspload run -h" or "ocspload floor -h" for the flags.`

func mainErr(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "seed":
		err = runSeedCmd(args[1:], stdout, stderr)
	case "run":
		var failed bool
		failed, err = runLoadCmd(args[1:], stdout, stderr)
		if err == nil && failed {
			return 1
		}
	case "floor":
		err = runFloorCmd(args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "ocspload: unknown command %q\n%s\n", args[0], usage)
		return 2
	}
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, err)
		}
		return 2
	}
	return 0
}

// checkURL keeps the load on this machine: ocspload has no -allow-remote.
func checkURL(raw string) (*url.URL, error) {
	return loadgen.CheckURL("ocspload", raw, []string{"http"}, false)
}
