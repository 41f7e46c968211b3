// Command certgate is the certgate gateway and its administration CLI.
//
// Subcommands live one per file (serve.go, ca.go, certs.go, revoke.go,
// version.go); main only dispatches and turns errors into exit codes.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// usageError marks errors caused by how the command was called (exit 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

type command struct {
	name  string
	usage string
	run   func(args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"serve", "run the gateway (SCEP, EST, OCSP, CRL, admin API, metrics)", runServe},
		{"ca", "ca init: create or import the CA", runCA},
		{"certs", "certs list|show: inspect issued certificates", runCerts},
		{"revoke", "revoke SERIAL [--reason R]: revoke a certificate", runRevoke},
		{"release-hold", "release-hold SERIAL: lift a certificateHold (the certificate is good again)", runReleaseHold},
		{"escrow", "escrow recover SERIAL [--out FILE]: recover an escrowed private key", runEscrow},
		{"requests", "requests list|approve ID|reject ID: requests held for approval", runRequests},
		{"challenge", "challenge new PROFILE: a one-time challenge", runChallenge},
		{"admin", "admin token new|list|delete, admin cert new: admin API credentials", runAdmin},
		{"store", "store migrate --from SPEC --to SPEC, store check: copy or check the record store", runStore},
		{"version", "print the version", runVersion},
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(args[1:], stdout, stderr)
		if err == nil {
			return 0
		}
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "certgate "+c.name+":", err)
		var ue *usageError
		if errors.As(err, &ue) {
			return 2
		}
		return 1
	}
	fmt.Fprintf(stderr, "certgate: unknown command %q\n", args[0])
	printUsage(stderr)
	return 2
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: certgate <command> [flags]")
	fmt.Fprintln(w, "commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.usage)
	}
	fmt.Fprintln(w, "Run 'certgate <command> -h' for the flags of a command.")
}

// newFlagSet returns a FlagSet that reports errors instead of exiting.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("certgate "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses args, allowing flags after positional arguments
// (`certgate revoke SERIAL --reason keyCompromise`), and returns the
// positional ones.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &usageError{err.Error()}
		}
		rest := fs.Args()
		if consumed := args[:len(args)-len(rest)]; len(consumed) > 0 && consumed[len(consumed)-1] == "--" {
			// After "--" everything is positional, even "-x".
			return append(pos, rest...), nil
		}
		args = rest
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
