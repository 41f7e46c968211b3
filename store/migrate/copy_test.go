package migrate

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certgate/certgate/store"
)

// testBatch makes every kind span several pages.
const testBatch = 2

func TestCopy(t *testing.T) {
	ctx := context.Background()
	for _, p := range pairs(t) {
		t.Run("ok/"+p[0].name+" to "+p[1].name, func(t *testing.T) {
			t.Parallel()
			src, dst := p[0].open(t), p[1].open(t)
			seed(t, src)
			res, err := Copy(ctx, src, dst, Options{BatchSize: testBatch})
			if err != nil {
				t.Fatalf("Copy: %v", err)
			}
			for kind, n := range seeded {
				if got := res[kind]; got != (Counts{Copied: n}) {
					t.Errorf("first copy, %s: %+v, want %d copied", kind, got, n)
				}
			}
			assertSame(t, src, dst)

			// Idempotent: a second copy finds everything present.
			res, err = Copy(ctx, src, dst, Options{BatchSize: testBatch})
			if err != nil {
				t.Fatalf("second Copy: %v", err)
			}
			for kind, n := range seeded {
				if got := res[kind]; got != (Counts{Present: n}) {
					t.Errorf("second copy, %s: %+v, want %d present", kind, got, n)
				}
			}
			assertSame(t, src, dst)
		})
	}
}

func TestCopyResume(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		// stopAt cancels the first copy when Progress reports this kind
		// for the nth time (1-based).
		stopAt string
		nth    int
	}{
		{"ok/after the first batch of records", KindRecords, 1},
		{"ok/after three batches of records", KindRecords, 3},
		{"ok/after the requests", KindRequests, 1},
		{"ok/after the static secrets", KindStaticSecrets, 1},
		{"ok/after the device states", KindDeviceStates, 1},
	}
	for _, p := range pairs(t) {
		for _, tt := range tests {
			t.Run(tt.name+"/"+p[0].name+" to "+p[1].name, func(t *testing.T) {
				t.Parallel()
				src, dst := p[0].open(t), p[1].open(t)
				seed(t, src)
				cctx, cancel := context.WithCancel(ctx)
				defer cancel()
				seen := 0
				first, err := Copy(cctx, src, dst, Options{BatchSize: testBatch, Progress: func(kind string, _ Counts) {
					if kind == tt.stopAt {
						if seen++; seen == tt.nth {
							cancel()
						}
					}
				}})
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("interrupted Copy: %v, want context.Canceled", err)
				}
				second, err := Copy(ctx, src, dst, Options{BatchSize: testBatch})
				if err != nil {
					t.Fatalf("resumed Copy: %v", err)
				}
				for kind, n := range seeded {
					a, b := first[kind], second[kind]
					if a.Copied+b.Copied != n || b.Present != a.Copied {
						t.Errorf("%s: first %+v, then %+v; want %d copied in all, each once", kind, a, b, n)
					}
				}
				if first[KindRecords].Copied == 0 {
					t.Error("the first copy copied no records; the test does not test a resume")
				}
				assertSame(t, src, dst)
			})
		}
	}
}

func TestCopySequences(t *testing.T) {
	ctx := context.Background()
	for _, p := range pairs(t) {
		t.Run("ok/never lowered/"+p[0].name+" to "+p[1].name, func(t *testing.T) {
			t.Parallel()
			src, dst := p[0].open(t), p[1].open(t)
			seed(t, src) // crl/local at 3, crl/other at 1
			if err := dst.RaiseSequence(ctx, "crl/local", 10); err != nil {
				t.Fatal(err)
			}
			res, err := Copy(ctx, src, dst, Options{})
			if err != nil {
				t.Fatalf("Copy: %v", err)
			}
			if got := res[KindSequences]; got != (Counts{Copied: 1, Present: 1}) {
				t.Errorf("sequences: %+v, want 1 raised and 1 present", got)
			}
			got, err := dst.Sequences(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if want := map[string]uint64{"crl/local": 10, "crl/other": 1}; !maps.Equal(got, want) {
				t.Errorf("target sequences %v, want %v", got, want)
			}
			if n, err := dst.NextSequence(ctx, "crl/other"); err != nil || n != 2 {
				t.Errorf("next crl/other on the target: %d, %v; want 2", n, err)
			}
		})
	}
}

func TestCopyConflict(t *testing.T) {
	ctx := context.Background()
	// Each prepare puts into dst an item that clashes with src's, and
	// returns a reader of that item, to show Copy left it alone.
	type reader func() (any, error)
	tests := []struct {
		name       string
		prepare    func(t *testing.T, src, dst testStore) reader
		wantKind   string
		wantID     string
		wantFields []string
		wantDetail string
	}{
		{"fail/record with another certificate", func(t *testing.T, src, dst testStore) reader {
			r := sourceRecord(t, src, 0x203)
			r.DER = issuedRecord(t, 0x203, "device3").DER // signatures are random
			mustDo(t, dst.ImportRecords(ctx, []*store.CertRecord{r}))
			return func() (any, error) { return dst.Cert(ctx, big.NewInt(0x203)) }
		}, "record", "203", []string{"der"}, ""},
		{"fail/record not revoked in the target", func(t *testing.T, src, dst testStore) reader {
			r := sourceRecord(t, src, 0x205)
			r.Status, r.RevokedAt, r.RevocationReason = store.StatusValid, time.Time{}, 0
			mustDo(t, dst.ImportRecords(ctx, []*store.CertRecord{r}))
			return func() (any, error) { return dst.Cert(ctx, big.NewInt(0x205)) }
		}, "record", "205", []string{"status", "revoked_at", "revocation_reason"}, ""},
		{"fail/reservation issued in the target", func(t *testing.T, src, dst testStore) reader {
			r := sourceRecord(t, src, 0x101)
			r.Status, r.DER = store.StatusValid, []byte{1}
			mustDo(t, dst.ImportRecords(ctx, []*store.CertRecord{r}))
			return func() (any, error) { return dst.Cert(ctx, big.NewInt(0x101)) }
		}, "record", "101", []string{"status", "der"}, ""},
		{"fail/request with another subject", func(t *testing.T, src, dst testStore) reader {
			r, err := src.Request(ctx, "req1")
			mustDo(t, err)
			r.Subject = "CN=someone else"
			mustDo(t, dst.ImportRequest(ctx, r))
			return func() (any, error) { return dst.Request(ctx, "req1") }
		}, "request", `"req1"`, []string{"subject"}, ""},
		{"fail/another request for the same key", func(t *testing.T, src, dst testStore) reader {
			r, err := src.Request(ctx, "req0")
			mustDo(t, err)
			r.ID = "other"
			mustDo(t, dst.ImportRequest(ctx, r))
			return func() (any, error) { return dst.Request(ctx, "other") }
		}, "request", `"req0"`, nil, `another request for its profile "default" and key`},
		{"fail/token with another role", func(t *testing.T, _, dst testStore) reader {
			mustDo(t, dst.PutToken(ctx, &store.APIToken{ID: "tok1", Name: "ops", Role: "admin", Hash: "t1hash", CreatedAt: t0}))
			return func() (any, error) { return dst.TokenByHash(ctx, "t1hash") }
		}, "token", `"tok1"`, []string{"role"}, ""},
		{"fail/another token with the same hash", func(t *testing.T, _, dst testStore) reader {
			mustDo(t, dst.PutToken(ctx, &store.APIToken{ID: "tok0", Name: "ops", Role: "operator", Hash: "t1hash", CreatedAt: t0}))
			return func() (any, error) { return dst.TokenByHash(ctx, "t1hash") }
		}, "token", `"tok1"`, nil, "another token with its hash"},
		{"fail/challenge with another expiry", func(t *testing.T, _, dst testStore) reader {
			mustDo(t, dst.PutChallenge(ctx, &store.Challenge{Hash: "c1hash", Profile: "default", Subject: "device1", CreatedAt: t0, ExpiresAt: t0.Add(2 * time.Hour)}))
			return func() (any, error) {
				list, err := dst.Challenges(ctx)
				return slices.DeleteFunc(list, func(c *store.Challenge) bool { return c.Hash != "c1hash" }), err
			}
		}, "challenge", `of profile "default"`, []string{"expires_at"}, ""},
		{"fail/static secret with another expiry", func(t *testing.T, _, dst testStore) reader {
			mustDo(t, dst.ImportStaticSecret(ctx, "default", store.StaticSecret{Hash: "s1hash", CreatedAt: t0}))
			return func() (any, error) {
				list, err := dst.StaticSecrets(ctx, "default")
				return slices.DeleteFunc(list, func(s store.StaticSecret) bool { return s.Hash != "s1hash" }), err
			}
		}, "static secret", `of profile "default"`, []string{"expires_at"}, ""},
	}
	for _, p := range pairs(t) {
		for _, tt := range tests {
			t.Run(tt.name+"/"+p[0].name+" to "+p[1].name, func(t *testing.T) {
				t.Parallel()
				src, dst := p[0].open(t), p[1].open(t)
				seed(t, src)
				read := tt.prepare(t, src, dst)
				before := mustJSON(t, read)
				_, err := Copy(ctx, src, dst, Options{BatchSize: testBatch})
				var ce *ConflictError
				if !errors.As(err, &ce) {
					t.Fatalf("Copy: %v, want a *ConflictError", err)
				}
				if !errors.Is(err, store.ErrConflict) {
					t.Errorf("Copy: %v does not match store.ErrConflict", err)
				}
				if ce.Kind != tt.wantKind || ce.ID != tt.wantID || !slices.Equal(ce.Fields, tt.wantFields) || !strings.Contains(ce.Detail, tt.wantDetail) {
					t.Errorf("conflict %+v, want kind %q, ID %s, fields %q, detail with %q", ce, tt.wantKind, tt.wantID, tt.wantFields, tt.wantDetail)
				}
				if after := mustJSON(t, read); after != before {
					t.Errorf("the conflicting item changed:\nbefore %s\nafter  %s", before, after)
				}
				for _, h := range []string{"t1hash", "c1hash", "s1hash"} {
					if strings.Contains(err.Error(), h) {
						t.Errorf("error %q shows a secret's hash", err)
					}
				}
			})
		}
	}
}

// sourceRecord reads a record from src.
func sourceRecord(t *testing.T, src Source, serial int64) *store.CertRecord {
	t.Helper()
	r, err := src.Cert(context.Background(), big.NewInt(serial))
	if err != nil {
		t.Fatalf("source record %x: %v", serial, err)
	}
	return r
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mustJSON(t *testing.T, read func() (any, error)) string {
	t.Helper()
	v, err := read()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// assertSame fails t unless dst holds what src does: equal summaries,
// and each record equal field by field (times to the microsecond, NUL as
// PostgreSQL keeps it), checked here independently of recordDiff.
func assertSame(t *testing.T, src, dst Source) {
	t.Helper()
	ctx := context.Background()
	a, err := Summarize(ctx, src, testBatch)
	if err != nil {
		t.Fatalf("Summarize source: %v", err)
	}
	b, err := Summarize(ctx, dst, testBatch)
	if err != nil {
		t.Fatalf("Summarize target: %v", err)
	}
	if m := Compare(a, b); len(m) > 0 {
		t.Errorf("summaries differ: %+v", m)
	}
	if !maps.Equal(a.Sequences, b.Sequences) {
		t.Errorf("sequences: source %v, target %v", a.Sequences, b.Sequences)
	}
	for _, status := range []store.Status{store.StatusReserved, store.StatusValid, store.StatusRevoked} {
		recs, err := src.Search(ctx, store.Query{Status: status, Limit: -1})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			got, err := dst.Cert(ctx, r.Serial)
			if err != nil {
				t.Errorf("target record %s: %v", r.SerialHex, err)
				continue
			}
			if want, have := testJSON(t, r), testJSON(t, got); want != have {
				t.Errorf("record %s:\nsource %s\ntarget %s", r.SerialHex, want, have)
			}
		}
	}
}

// testJSON encodes r with its times at microsecond precision in UTC and
// NUL replaced.
func testJSON(t *testing.T, r *store.CertRecord) string {
	t.Helper()
	n := *r
	for _, tm := range []*time.Time{&n.NotBefore, &n.NotAfter, &n.CreatedAt, &n.IssuedAt, &n.RevokedAt} {
		*tm = tm.Truncate(time.Microsecond).UTC()
	}
	n.RequesterAddr = strings.ReplaceAll(n.RequesterAddr, "\x00", "\uFFFD")
	b, err := json.Marshal(&n)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// analyzingTarget counts Analyze calls on a bbolt target.
type analyzingTarget struct {
	testStore
	analyzed int
}

func (a *analyzingTarget) Analyze(context.Context) error {
	a.analyzed++
	return nil
}

// TestCopyAnalyzes: a target with planner statistics has them refreshed
// after a copy that wrote records, and not after one that wrote none.
func TestCopyAnalyzes(t *testing.T) {
	ctx := context.Background()
	src := openBolt(t)
	seed(t, src)
	dst := &analyzingTarget{testStore: openBolt(t)}
	if _, err := Copy(ctx, src, dst, Options{BatchSize: testBatch}); err != nil {
		t.Fatalf("Copy: %v", err)
	}
	if dst.analyzed != 1 {
		t.Fatalf("after the first copy: Analyze called %d times, want 1", dst.analyzed)
	}
	if _, err := Copy(ctx, src, dst, Options{BatchSize: testBatch}); err != nil {
		t.Fatalf("second Copy: %v", err)
	}
	if dst.analyzed != 1 {
		t.Fatalf("after a copy that wrote no record: Analyze called %d times, want still 1", dst.analyzed)
	}
}
