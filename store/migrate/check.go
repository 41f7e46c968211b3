package migrate

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"slices"
	"time"

	"github.com/certgate/certgate/store"
)

// Checked is what Check reads: both backends provide it.
type Checked interface {
	store.Store
	store.Requests
	store.Tokens
}

// Severity ranks a Finding.
type Severity int

const (
	// Warning: worth a look, not wrong (an old reservation is what an
	// interrupted issuance leaves, by design).
	Warning Severity = iota
	// Error: the store contradicts itself or the certificate it holds.
	Error
)

// String is "error" or "warning".
func (s Severity) String() string {
	if s == Error {
		return "error"
	}
	return "warning"
}

// Finding is one integrity problem.
type Finding struct {
	Severity Severity
	// Kind is "record", "request" or "token".
	Kind string
	// ID is the serial in hex or the ID; empty for a problem with a whole
	// listing.
	ID      string
	Problem string
}

// String is the line `certgate store check` prints: "error: record 1f: ...".
func (f Finding) String() string {
	id := f.Kind
	if f.ID != "" {
		id += " " + f.ID
	}
	return f.Severity.String() + ": " + id + ": " + f.Problem
}

// DefaultReservedAge is CheckOptions.ReservedAge when zero: an issuance
// takes well under a second, so a reservation an hour old was interrupted.
const DefaultReservedAge = time.Hour

// DefaultMaxFindings is CheckOptions.MaxFindings when zero.
const DefaultMaxFindings = 1000

// CheckOptions tunes Check. The zero value is ready to use.
type CheckOptions struct {
	// Now is the clock reservations are aged by. Nil means time.Now.
	Now func() time.Time
	// ReservedAge is the age from which a reservation is reported. Zero
	// or negative means DefaultReservedAge.
	ReservedAge time.Duration
	// MaxFindings caps the findings kept (the rest are only counted), so
	// a store that is wrong throughout does not exhaust memory. Zero or
	// negative means DefaultMaxFindings.
	MaxFindings int
	// BatchSize is the page size of the listings. Zero or negative means
	// DefaultBatchSize.
	BatchSize int
	// Quick skips the per-record lookups (the expiry index, renewal_of,
	// an issued request's certificate): one query per record, which on
	// PostgreSQL is most of the time a check takes.
	Quick bool
}

// CheckReport is what Check found.
type CheckReport struct {
	// Records counts the records by status; Requests and Tokens count
	// those.
	Records  map[store.Status]int
	Requests int
	Tokens   int
	// Findings, in the order found, at most CheckOptions.MaxFindings.
	Findings []Finding
	// Omitted counts the findings beyond the cap, and OmittedErrors the
	// errors among them.
	Omitted, OmittedErrors int
}

// Errors counts the findings of severity Error, omitted ones included.
func (r *CheckReport) Errors() int {
	n := r.OmittedErrors
	for _, f := range r.Findings {
		if f.Severity == Error {
			n++
		}
	}
	return n
}

// Check reads every record, request and token of s and reports what
// contradicts itself: a record whose DER does not parse or disagrees with
// it (serial, subject, common name, validity; SANs as warnings), a
// revocation without a time or with a reason RFC 5280 does not allow, a
// revocation time on a record that is not revoked, reservations older than
// ReservedAge (warnings), and what the interface lets it see of the
// indexes: listings out of serial order, a status listing that returns
// another status, listings that disagree in number, a record the expiry
// query does not find, a request its (profile, key) does not find, a token
// its hash does not find, an issued request whose certificate is missing.
// The error is for a failure to read at all; what is wrong with the
// content is in the report.
func Check(ctx context.Context, s Checked, opts CheckOptions) (*CheckReport, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ReservedAge <= 0 {
		opts.ReservedAge = DefaultReservedAge
	}
	if opts.MaxFindings <= 0 {
		opts.MaxFindings = DefaultMaxFindings
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	c := &checker{s: s, opts: opts, now: opts.Now(), rep: &CheckReport{Records: map[store.Status]int{}}}
	if err := c.records(ctx); err != nil {
		return c.rep, err
	}
	if err := c.requests(ctx); err != nil {
		return c.rep, err
	}
	if err := c.tokens(ctx); err != nil {
		return c.rep, err
	}
	return c.rep, nil
}

// checker carries one Check.
type checker struct {
	s    Checked
	opts CheckOptions
	now  time.Time
	rep  *CheckReport
}

func (c *checker) add(sev Severity, kind, id, format string, args ...any) {
	if len(c.rep.Findings) >= c.opts.MaxFindings {
		c.rep.Omitted++
		if sev == Error {
			c.rep.OmittedErrors++
		}
		return
	}
	c.rep.Findings = append(c.rep.Findings, Finding{Severity: sev, Kind: kind, ID: id, Problem: fmt.Sprintf(format, args...)})
}

// walkRecords pages through Search with q, calling fn for each record and
// checking the order; a listing that fails part-way is a finding, since
// what fails is usually an index the listing walks.
func (c *checker) walkRecords(ctx context.Context, q store.Query, what string, fn func(*store.CertRecord)) error {
	q.Limit = c.opts.BatchSize
	var last *store.CertRecord
	for {
		page, err := c.s.Search(ctx, q)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			c.add(Error, "record", "", "listing %s failed: %v", what, err)
			return nil
		}
		if len(page) == 0 {
			return nil
		}
		for _, r := range page {
			if r.Serial == nil || r.Serial.Sign() <= 0 {
				c.add(Error, "record", r.SerialHex, "listing %s returned a record without a positive serial", what)
				return nil
			}
			if last != nil && r.Serial.Cmp(last.Serial) <= 0 {
				c.add(Error, "record", r.SerialHex, "listing %s returned it after %s, out of serial order (the listing stops here)", what, last.SerialHex)
				return nil
			}
			last = r
			fn(r)
		}
		q.After = last.SerialHex
	}
}

// records walks the reservations and the rest (two listings), checking
// each record, then lists valid and revoked apart to see that the status
// filters agree with the records.
func (c *checker) records(ctx context.Context) error {
	err := c.walkRecords(ctx, store.Query{Status: store.StatusReserved}, "reserved records", func(r *store.CertRecord) {
		if r.Status != store.StatusReserved {
			c.add(Error, "record", r.SerialHex, "listing reserved records returned it, but it is %q", r.Status)
			return
		}
		c.rep.Records[r.Status]++
		c.record(ctx, r)
	})
	if err != nil {
		return err
	}
	err = c.walkRecords(ctx, store.Query{}, "all records", func(r *store.CertRecord) {
		c.rep.Records[r.Status]++
		switch r.Status {
		case store.StatusValid, store.StatusRevoked:
			c.record(ctx, r)
		case store.StatusReserved:
			c.add(Error, "record", r.SerialHex, "listing all records returned a reservation, which only an explicit status query may")
		default:
			c.add(Error, "record", r.SerialHex, "unknown status %q", r.Status)
		}
	})
	if err != nil {
		return err
	}
	for _, status := range []store.Status{store.StatusValid, store.StatusRevoked} {
		n := 0
		what := string(status) + " records"
		err := c.walkRecords(ctx, store.Query{Status: status}, what, func(r *store.CertRecord) {
			n++
			if r.Status != status {
				c.add(Error, "record", r.SerialHex, "listing %s returned it, but it is %q", what, r.Status)
			}
		})
		if err != nil {
			return err
		}
		if want := c.rep.Records[status]; n != want {
			c.add(Error, "record", "", "listing %s returned %d, listing all records found %d", what, n, want)
		}
	}
	return ctx.Err()
}

// record checks one record on its own.
func (c *checker) record(ctx context.Context, r *store.CertRecord) {
	id := r.SerialHex
	if want := store.SerialHex(r.Serial); id != want {
		c.add(Error, "record", want, "serial shown as %q", id)
		id = want
	}
	switch r.Status {
	case store.StatusReserved:
		c.reservation(id, r)
		return
	case store.StatusRevoked:
		if r.RevokedAt.IsZero() {
			c.add(Error, "record", id, "revoked without a revocation time")
		}
		if err := store.CheckRevokeReason(r.RevocationReason); err != nil {
			c.add(Error, "record", id, "revoked with reason %d (%s), which a revocation cannot have", r.RevocationReason, store.ReasonName(r.RevocationReason))
		}
		if !r.RevokedAt.IsZero() && !r.IssuedAt.IsZero() && r.RevokedAt.Before(r.IssuedAt) {
			c.add(Warning, "record", id, "revoked at %s, before it was issued at %s", stamp(r.RevokedAt), stamp(r.IssuedAt))
		}
	case store.StatusValid:
		if !r.RevokedAt.IsZero() || r.RevocationReason != 0 {
			c.add(Error, "record", id, "valid, but has a revocation time or reason")
		}
	}
	if r.IssuedAt.IsZero() {
		c.add(Warning, "record", id, "%s without an issue time", r.Status)
	}
	c.der(id, r)
	if !c.opts.Quick {
		c.lookups(ctx, id, r)
	}
}

// reservation checks a reserved record.
func (c *checker) reservation(id string, r *store.CertRecord) {
	if !r.RevokedAt.IsZero() || r.RevocationReason != 0 {
		c.add(Error, "record", id, "reserved, but has a revocation time or reason")
	}
	switch {
	case r.CreatedAt.IsZero():
		c.add(Warning, "record", id, "reserved, with no reservation time")
	case c.now.Sub(r.CreatedAt) > c.opts.ReservedAge:
		c.add(Warning, "record", id, "reserved since %s: an interrupted issuance (the serial is never reused; nothing to do unless the CA log shows it signed)", stamp(r.CreatedAt))
	}
}

// der checks that the certificate says what the record says.
func (c *checker) der(id string, r *store.CertRecord) {
	if len(r.DER) == 0 {
		c.add(Error, "record", id, "%s without a certificate (no DER)", r.Status)
		return
	}
	cert, err := x509.ParseCertificate(r.DER)
	if err != nil {
		c.add(Error, "record", id, "certificate does not parse: %v", err)
		return
	}
	if cert.SerialNumber.Cmp(r.Serial) != 0 {
		c.add(Error, "record", id, "certificate has serial %s", store.SerialHex(cert.SerialNumber))
	}
	if s := cert.Subject.String(); s != r.Subject {
		c.add(Error, "record", id, "subject is %q, the certificate's %q", r.Subject, s)
	}
	if cn := cert.Subject.CommonName; cn != r.CommonName {
		c.add(Error, "record", id, "common name is %q, the certificate's %q", r.CommonName, cn)
	}
	if !cert.NotBefore.Equal(r.NotBefore) || !cert.NotAfter.Equal(r.NotAfter) {
		c.add(Error, "record", id, "validity is %s to %s, the certificate's %s to %s",
			stamp(r.NotBefore), stamp(r.NotAfter), stamp(cert.NotBefore), stamp(cert.NotAfter))
	}
	uris := make([]string, len(cert.URIs))
	for i, u := range cert.URIs {
		uris[i] = u.String()
	}
	for _, l := range []struct {
		name           string
		record, inCert []string
	}{
		{"DNS names", r.DNSNames, cert.DNSNames},
		{"email addresses", r.EmailAddrs, cert.EmailAddresses},
		{"URIs", r.URIs, uris},
	} {
		if !slices.Equal(l.record, l.inCert) && (len(l.record) > 0 || len(l.inCert) > 0) {
			c.add(Warning, "record", id, "%s are %q, the certificate's %q", l.name, l.record, l.inCert)
		}
	}
}

// lookups finds r again the ways other code does: by expiry window (the
// bbolt backend walks its expiry index for it) and, for a renewal, the
// certificate it renews.
func (c *checker) lookups(ctx context.Context, id string, r *store.CertRecord) {
	found, err := c.s.Search(ctx, store.Query{Status: r.Status, ExpiresAfter: r.NotAfter,
		ExpiresBefore: r.NotAfter.Add(time.Microsecond), Limit: -1})
	switch {
	case err != nil:
		c.add(Error, "record", id, "query by expiry failed: %v", err)
	case !slices.ContainsFunc(found, func(f *store.CertRecord) bool { return f.Serial.Cmp(r.Serial) == 0 && bytes.Equal(f.DER, r.DER) }):
		c.add(Error, "record", id, "a query for records expiring at %s does not find it (expiry index)", stamp(r.NotAfter))
	}
	if r.RenewalOf == "" {
		return
	}
	old, err := store.ParseSerial(r.RenewalOf)
	if err == nil {
		_, err = c.s.Cert(ctx, old)
	}
	if err != nil {
		c.add(Warning, "record", id, "renews %s, which cannot be found: %v", r.RenewalOf, err)
	}
}

// stamp formats t for a finding; the zero time is "none".
func stamp(t time.Time) string {
	if t.IsZero() {
		return "none"
	}
	return t.UTC().Format(time.RFC3339)
}
