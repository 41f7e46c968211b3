package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/certgate/certgate/configs"
	"github.com/certgate/certgate/store"
	"github.com/certgate/certgate/store/bolt"
	"github.com/certgate/certgate/store/migrate"
	"github.com/certgate/certgate/store/postgres"
)

// storeSpecHelp is how --from, --to and --store are written. A DSN on the
// command line shows in ps and in shell history, so the env and file forms
// come first.
const storeSpecHelp = "bbolt:PATH, postgres-env:VAR (DSN in $VAR), postgres-file:PATH (DSN in a file) or postgres:DSN"

func runStore(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return &usageError{"store: want a subcommand: migrate or check"}
	}
	switch args[0] {
	case "migrate":
		return runStoreMigrate(args[1:], stdout, stderr)
	case "check":
		return runStoreCheck(args[1:], stdout, stderr)
	}
	return &usageError{fmt.Sprintf("store: unknown subcommand %q (want migrate or check)", args[0])}
}

// storeSpec is a parsed --from, --to or --store value. The DSN is kept
// apart from the label, which is all any output shows.
type storeSpec struct {
	// kind is "bbolt" or "postgres".
	kind string
	// path is the bbolt file.
	path string
	// dsn is the PostgreSQL DSN; it may hold a password and is never
	// printed.
	dsn string
	// label names the store in output: the file, or the user, server and
	// database with where the DSN came from.
	label string
	// onCommandLine is set for postgres:DSN, which ps shows.
	onCommandLine bool
}

// specScheme is the part of a malformed spec an error may show: a short
// word before a colon. Anything else might be a DSN with its password.
var specScheme = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,19}:`)

// parseStoreSpec reads a spec; getenv and readFile supply postgres-env and
// postgres-file. No error shows a DSN.
func parseStoreSpec(spec string, getenv func(string) string, readFile func(string) ([]byte, error)) (storeSpec, error) {
	scheme, rest, _ := strings.Cut(spec, ":")
	if strings.HasPrefix(spec, "postgres://") || strings.HasPrefix(spec, "postgresql://") {
		// A bare URL: the user meant postgres:URL.
		scheme, rest = "postgres", spec
	}
	switch scheme {
	case "bbolt", "bolt":
		if rest == "" {
			return storeSpec{}, &usageError{"store: " + scheme + ": want a file path after the colon"}
		}
		return storeSpec{kind: "bbolt", path: rest, label: "bbolt " + rest}, nil
	case "postgres":
		if rest == "" {
			return storeSpec{}, &usageError{"store: postgres: want a DSN after the colon"}
		}
		return pgSpec(rest, "DSN on the command line", true), nil
	case "postgres-env":
		if rest == "" {
			return storeSpec{}, &usageError{"store: postgres-env: want an environment variable name after the colon"}
		}
		dsn := strings.TrimSpace(getenv(rest))
		if dsn == "" {
			return storeSpec{}, fmt.Errorf("store: postgres-env: environment variable %s is empty or not set", rest)
		}
		return pgSpec(dsn, "DSN from $"+rest, false), nil
	case "postgres-file":
		if rest == "" {
			return storeSpec{}, &usageError{"store: postgres-file: want a file path after the colon"}
		}
		b, err := readFile(rest)
		if err != nil {
			// The os error names the file, not its content.
			return storeSpec{}, fmt.Errorf("store: postgres-file: %w", err)
		}
		dsn := strings.TrimSpace(string(b))
		if dsn == "" {
			return storeSpec{}, fmt.Errorf("store: postgres-file: %s is empty", rest)
		}
		return pgSpec(dsn, "DSN from "+rest, false), nil
	}
	shown := "it"
	if m := specScheme.FindString(spec); m != "" {
		shown = strconv.Quote(m)
	}
	return storeSpec{}, &usageError{"store: cannot tell what store " + shown + " names (its text is withheld in case it holds a password); want " + storeSpecHelp}
}

// pgSpec labels a DSN by its user, server and database, which is what an
// operator checks before copying, and leaves the password out.
func pgSpec(dsn, from string, onCommandLine bool) storeSpec {
	label := "postgres (" + from + ")"
	if c, err := pgconn.ParseConfig(dsn); err == nil {
		label = fmt.Sprintf("postgres %s@%s:%d/%s (%s)", c.User, c.Host, c.Port, c.Database, from)
	}
	return storeSpec{kind: "postgres", dsn: dsn, label: label, onCommandLine: onCommandLine}
}

// specFromConfig is the store the config names, as serve would open it.
func specFromConfig(cfg *configs.Config) (storeSpec, error) {
	if cfg.Store.Type != "postgres" {
		p := storePath(cfg)
		return storeSpec{kind: "bbolt", path: p, label: "bbolt " + p}, nil
	}
	dsn, err := cfg.Store.LoadDSN(cfg.DataDir, os.Getenv)
	if err != nil {
		return storeSpec{}, err
	}
	return pgSpec(dsn, "DSN from the config", false), nil
}

// openSpec opens the store spec names. A bbolt source must exist: opening
// creates a missing file, and copying an empty new file would "succeed".
func openSpec(spec storeSpec, mustExist bool) (migrate.Target, error) {
	if spec.kind == "bbolt" {
		if mustExist {
			if _, err := os.Stat(spec.path); err != nil {
				return nil, fmt.Errorf("store: bbolt: %w", err)
			}
		}
		s, err := bolt.Open(spec.path, bolt.Options{})
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), openTimeout)
	defer cancel()
	s, err := postgres.Open(ctx, postgres.Options{DSN: spec.dsn})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// sameStore reports whether two specs name one store, which a copy onto
// itself would find "complete" without copying anything.
func sameStore(a, b storeSpec) bool {
	if a.kind != b.kind {
		return false
	}
	if a.kind == "postgres" {
		return a.dsn == b.dsn
	}
	pa, errA := filepath.Abs(a.path)
	pb, errB := filepath.Abs(b.path)
	return errA == nil && errB == nil && pa == pb
}

// recordsProgressEvery is how often (in records) migrate reports progress
// on stderr while copying records.
const recordsProgressEvery = 10000

func runStoreMigrate(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("store migrate", stderr)
	cf := addCommonFlags(fs)
	from := fs.String("from", "", "the store to copy from: "+storeSpecHelp+" (default: the store of the config)")
	to := fs.String("to", "", "the store to copy to: "+storeSpecHelp)
	batch := fs.Int("batch", migrate.DefaultBatchSize, "records per read and per write")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return &usageError{"store migrate: unexpected argument " + strconv.Quote(pos[0])}
	}
	if *to == "" {
		return &usageError{"store migrate: want --to " + storeSpecHelp}
	}
	dst, err := parseStoreSpec(*to, os.Getenv, os.ReadFile)
	if err != nil {
		return fmt.Errorf("store migrate: --to: %w", err)
	}
	var src storeSpec
	if *from != "" {
		if src, err = parseStoreSpec(*from, os.Getenv, os.ReadFile); err != nil {
			err = fmt.Errorf("store migrate: --from: %w", err)
		}
	} else {
		var cfg *configs.Config
		if cfg, err = cf.load(); err == nil {
			src, err = specFromConfig(cfg)
		}
	}
	if err != nil {
		return err
	}
	if sameStore(src, dst) {
		return &usageError{"store migrate: the source and the target are the same store"}
	}
	if src.onCommandLine || dst.onCommandLine {
		fmt.Fprintln(stderr, "certgate store migrate: note: a DSN on the command line shows in ps and shell history; prefer postgres-env:VAR or postgres-file:PATH")
	}

	srcStore, err := openSpec(src, true)
	if err != nil {
		return fmt.Errorf("store migrate: open the source: %w", err)
	}
	defer srcStore.Close()
	dstStore, err := openSpec(dst, false)
	if err != nil {
		return fmt.Errorf("store migrate: open the target: %w", err)
	}
	defer dstStore.Close()
	fmt.Fprintln(stdout, "source:", src.label)
	fmt.Fprintln(stdout, "target:", dst.label)

	ctx := context.Background()
	next := recordsProgressEvery
	res, err := migrate.Copy(ctx, srcStore, dstStore, migrate.Options{BatchSize: *batch, Progress: func(kind string, c migrate.Counts) {
		if kind == migrate.KindRecords && c.Copied+c.Present >= next {
			fmt.Fprintf(stderr, "certgate store migrate: %d records so far\n", c.Copied+c.Present)
			next = (c.Copied+c.Present)/recordsProgressEvery*recordsProgressEvery + recordsProgressEvery
		}
	}})
	for _, kind := range migrate.Kinds {
		if c, ok := res[kind]; ok {
			fmt.Fprintf(stdout, "%-16s %d copied, %d already there\n", kind+":", c.Copied, c.Present)
		}
	}
	var conflict *migrate.ConflictError
	switch {
	case errors.As(err, &conflict):
		return fmt.Errorf("store migrate: %w; resolve it in the target (or start again with an empty one), then run the same command again", err)
	case err != nil:
		return fmt.Errorf("store migrate: %w; what was copied stays, and running the same command again goes on from there", err)
	}
	return verifyCopy(ctx, srcStore, dstStore, *batch, stdout)
}

// verifyCopy summarizes both stores, prints both summaries side by side,
// and fails unless the target holds everything the source does.
func verifyCopy(ctx context.Context, src, dst migrate.Source, batch int, stdout io.Writer) error {
	a, err := migrate.Summarize(ctx, src, batch)
	if err != nil {
		return fmt.Errorf("store migrate: verify: source: %w", err)
	}
	b, err := migrate.Summarize(ctx, dst, batch)
	if err != nil {
		return fmt.Errorf("store migrate: verify: target: %w", err)
	}
	bad := map[string]bool{}
	mismatches := migrate.Compare(a, b)
	for _, m := range mismatches {
		bad[m.Name] = true
	}
	verdict := func(name string) string {
		if bad[name] {
			return "MISMATCH"
		}
		return "ok"
	}
	fmt.Fprintln(stdout, "verification (count and SHA-256 of each kind, source then target):")
	targets := map[string]migrate.Digest{}
	for _, d := range b.Digests {
		targets[d.Name] = d
	}
	for _, d := range a.Digests {
		fmt.Fprintf(stdout, "  %-18s %s\n  %-18s %s  %s\n", d.Name, d, "", targets[d.Name], verdict(d.Name))
	}
	for _, name := range slices.Sorted(maps.Keys(a.Sequences)) {
		n := "sequence " + name
		fmt.Fprintf(stdout, "  %-18s last %d, target %d  %s\n", n, a.Sequences[name], b.Sequences[name], verdict(n))
	}
	if len(mismatches) > 0 {
		return fmt.Errorf("store migrate: verification failed: the target differs from the source in %d of the lines above", len(mismatches))
	}
	fmt.Fprintln(stdout, "ok: the target holds everything the source does")
	return nil
}

func runStoreCheck(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("store check", stderr)
	cf := addCommonFlags(fs)
	where := fs.String("store", "", "the store to check: "+storeSpecHelp+" (default: the store of the config)")
	quick := fs.Bool("quick", false, "skip the per-record lookups (expiry index, renewals, issued requests' certificates)")
	age := fs.Duration("reserved-age", migrate.DefaultReservedAge, "report reservations older than this")
	maxFindings := fs.Int("max-findings", migrate.DefaultMaxFindings, "print at most this many findings")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return &usageError{"store check: unexpected argument " + strconv.Quote(pos[0])}
	}
	var spec storeSpec
	if *where != "" {
		if spec, err = parseStoreSpec(*where, os.Getenv, os.ReadFile); err != nil {
			err = fmt.Errorf("store check: --store: %w", err)
		}
	} else {
		var cfg *configs.Config
		if cfg, err = cf.load(); err == nil {
			spec, err = specFromConfig(cfg)
		}
	}
	if err != nil {
		return err
	}
	s, err := openSpec(spec, true)
	if err != nil {
		return fmt.Errorf("store check: open: %w", err)
	}
	defer s.Close()
	fmt.Fprintln(stdout, "store:", spec.label)
	rep, err := migrate.Check(context.Background(), s, migrate.CheckOptions{
		ReservedAge: *age, MaxFindings: *maxFindings, Quick: *quick,
	})
	if err != nil {
		return fmt.Errorf("store check: %w", err)
	}
	warnings := 0
	for _, f := range rep.Findings {
		fmt.Fprintln(stdout, f)
		if f.Severity == migrate.Warning {
			warnings++
		}
	}
	warnings += rep.Omitted - rep.OmittedErrors
	if rep.Omitted > 0 {
		fmt.Fprintf(stdout, "... and %d more findings (--max-findings)\n", rep.Omitted)
	}
	fmt.Fprintf(stdout, "%d records (%d reserved, %d valid, %d revoked), %d requests, %d tokens: %d errors, %d warnings\n",
		rep.Records[store.StatusReserved]+rep.Records[store.StatusValid]+rep.Records[store.StatusRevoked],
		rep.Records[store.StatusReserved], rep.Records[store.StatusValid], rep.Records[store.StatusRevoked],
		rep.Requests, rep.Tokens, rep.Errors(), warnings)
	if n := rep.Errors(); n > 0 {
		return fmt.Errorf("store check: %d errors", n)
	}
	return nil
}
