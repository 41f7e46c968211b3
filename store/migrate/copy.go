package migrate

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/certgate/certgate/store"
)

// Source is what a copy reads: both backends provide it.
type Source interface {
	store.Store
	store.Requests
	store.Tokens
	store.Secrets
	store.Exporter
	store.DeviceStates
}

// Target is what a copy writes, and reads back to compare.
type Target interface {
	Source
	store.Challenges
	store.Importer
}

// DefaultBatchSize is the number of records per page and per import when
// Options.BatchSize is zero: large enough that a PostgreSQL target pays a
// round trip and a commit per few hundred records, small enough that an
// interrupted batch is cheap to redo.
const DefaultBatchSize = 500

// Options tunes Copy. The zero value is ready to use.
type Options struct {
	// BatchSize is the number of records read per page and imported per
	// write. Zero or negative means DefaultBatchSize.
	BatchSize int
	// Progress, if set, is called after each batch of records and after
	// each kind of item, with the running counts of that kind. It runs on
	// Copy's goroutine; a slow Progress slows the copy.
	Progress func(kind string, c Counts)
}

// Counts is what Copy did with one kind of item.
type Counts struct {
	// Copied were written to the target.
	Copied int
	// Present were in the target already, equal to the source's (for a
	// sequence: at or above the source's number).
	Present int
}

// Kinds of item, in the order Copy handles them; they name the entries
// of Result and the first argument of Options.Progress.
const (
	KindRecords       = "records"
	KindRequests      = "requests"
	KindTokens        = "tokens"
	KindChallenges    = "challenges"
	KindStaticSecrets = "static secrets"
	KindDeviceStates  = "device states"
	KindSequences     = "sequences"
)

// Kinds lists the kinds in the order Copy handles them.
var Kinds = []string{KindRecords, KindRequests, KindTokens, KindChallenges, KindStaticSecrets, KindDeviceStates, KindSequences}

// Result is what Copy did, by kind.
type Result map[string]Counts

// Copy copies everything src holds into dst (see the package doc for what
// and how). It stops at the first error, which is a *ConflictError when
// dst holds a different item under a key src uses; what it copied until
// then stays, and a later Copy goes on from there. The Result is valid
// even with an error, counting what was done.
func Copy(ctx context.Context, src Source, dst Target, opts Options) (Result, error) {
	c := &copier{src: src, dst: dst, opts: opts, res: Result{}}
	if c.opts.BatchSize <= 0 {
		c.opts.BatchSize = DefaultBatchSize
	}
	for _, step := range []struct {
		kind string
		fn   func(context.Context) error
	}{
		{KindRecords, c.records},
		{KindRequests, c.requests},
		{KindTokens, c.tokens},
		{KindChallenges, c.challenges},
		{KindStaticSecrets, c.staticSecrets},
		{KindDeviceStates, c.deviceStates},
		{KindSequences, c.sequences},
	} {
		c.kind = step.kind
		c.res[step.kind] = Counts{}
		if err := step.fn(ctx); err != nil {
			return c.res, err
		}
		c.progress()
	}
	if a, ok := dst.(analyzer); ok && c.res[KindRecords].Copied > 0 {
		if err := a.Analyze(ctx); err != nil {
			return c.res, fmt.Errorf("migrate: refresh the target's planner statistics: %w", err)
		}
	}
	return c.res, nil
}

// analyzer is a target whose query planner keeps statistics (PostgreSQL).
// Right after a bulk copy they describe an empty store, and until
// autovacuum catches up, lookups such as the per-enrollment duplicate
// check would be planned as scans.
type analyzer interface {
	Analyze(ctx context.Context) error
}

// copier carries one Copy.
type copier struct {
	src  Source
	dst  Target
	opts Options
	res  Result
	kind string
}

func (c *copier) copied(n int) {
	r := c.res[c.kind]
	r.Copied += n
	c.res[c.kind] = r
}

func (c *copier) present() {
	r := c.res[c.kind]
	r.Present++
	c.res[c.kind] = r
}

func (c *copier) progress() {
	if c.opts.Progress != nil {
		c.opts.Progress(c.kind, c.res[c.kind])
	}
}

// records copies every status, a page at a time. A page goes in one
// ImportRecords; only when some of it is in the target already (a resumed
// or repeated copy) is it taken record by record.
func (c *copier) records(ctx context.Context) error {
	for _, status := range []store.Status{store.StatusReserved, store.StatusValid, store.StatusRevoked} {
		after := ""
		for {
			page, err := c.src.Search(ctx, store.Query{Status: status, After: after, Limit: c.opts.BatchSize})
			if err != nil {
				return fmt.Errorf("migrate: read %s records from the source: %w", status, err)
			}
			if len(page) == 0 {
				break
			}
			if err := c.recordPage(ctx, status, after, page); err != nil {
				return err
			}
			c.progress()
			after = page[len(page)-1].SerialHex
		}
	}
	return nil
}

// recordPage copies one page of the source, read with status from after
// on. When the target has some of it, the same page of the target is read
// in one query, and only records not on it are looked up one by one.
func (c *copier) recordPage(ctx context.Context, status store.Status, after string, page []*store.CertRecord) error {
	err := c.dst.ImportRecords(ctx, page)
	if err == nil {
		c.copied(len(page))
		return nil
	}
	if !isConflict(err) {
		return fmt.Errorf("migrate: write records: %w", err)
	}
	same, err := c.dst.Search(ctx, store.Query{Status: status, After: after, Limit: len(page)})
	if err != nil {
		return fmt.Errorf("migrate: read %s records from the target: %w", status, err)
	}
	have := make(map[string]*store.CertRecord, len(same))
	for _, r := range same {
		have[r.SerialHex] = r
	}
	for _, r := range page {
		got := have[r.SerialHex]
		var err error
		if got == nil {
			got, err = c.dst.Cert(ctx, r.Serial)
		}
		switch {
		case err == nil:
			if diff := recordDiff(r, got); len(diff) > 0 {
				return &ConflictError{Kind: "record", ID: r.SerialHex, Fields: diff}
			}
			c.present()
		case isNotFound(err):
			if err := c.dst.ImportRecords(ctx, []*store.CertRecord{r}); err != nil {
				return fmt.Errorf("migrate: write record %s: %w", r.SerialHex, err)
			}
			c.copied(1)
		default:
			return fmt.Errorf("migrate: read record %s from the target: %w", r.SerialHex, err)
		}
	}
	return nil
}

func isConflict(err error) bool { return errors.Is(err, store.ErrConflict) }

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

// sortedKeys returns m's keys in order, so that output and errors come in
// the same order on every run.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
