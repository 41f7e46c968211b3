package migrate

import (
	"context"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/certgate/certgate/store"
)

// want is one expected finding: its severity, ID and a part of its text.
type want struct {
	sev     Severity
	id      string
	problem string
}

func TestCheck(t *testing.T) {
	ctx := context.Background()
	now := t0.Add(10 * time.Minute)
	imp := func(recs ...*store.CertRecord) func(t *testing.T, s testStore) {
		return func(t *testing.T, s testStore) { mustDo(t, s.ImportRecords(ctx, recs)) }
	}
	rec := func(t *testing.T, change func(r *store.CertRecord)) *store.CertRecord {
		r := issuedRecord(t, 0x10, "a")
		change(r)
		return r
	}
	tests := []struct {
		name  string
		build func(t *testing.T, s testStore)
		now   time.Time
		want  []want
	}{
		{"ok/issued record", func(t *testing.T, s testStore) { imp(issuedRecord(t, 0x10, "a"))(t, s) }, now, nil},
		{"ok/fresh reservation", func(t *testing.T, s testStore) {
			imp(rec(t, func(r *store.CertRecord) { r.Status, r.DER, r.IssuedAt = store.StatusReserved, nil, time.Time{} }))(t, s)
		}, now, nil},
		{"warn/reservation over an hour old", func(t *testing.T, s testStore) {
			imp(rec(t, func(r *store.CertRecord) { r.Status, r.DER, r.IssuedAt = store.StatusReserved, nil, time.Time{} }))(t, s)
		}, t0.Add(61 * time.Minute), []want{{Warning, "10", "reserved since 2025-03-01T10:00:00Z: an interrupted issuance"}}},
		{"fail/certificate does not parse", func(t *testing.T, s testStore) {
			imp(rec(t, func(r *store.CertRecord) { r.DER = []byte{0x30, 0x03, 1, 2, 3} }))(t, s)
		}, now, []want{{Error, "10", "certificate does not parse"}}},
		{"fail/another serial in the certificate", func(t *testing.T, s testStore) {
			imp(rec(t, func(r *store.CertRecord) { r.DER = issuedRecord(t, 0x11, "a").DER }))(t, s)
		}, now, []want{{Error, "10", "certificate has serial 11"}}},
		{"fail/another subject", func(t *testing.T, s testStore) {
			imp(rec(t, func(r *store.CertRecord) { r.Subject, r.CommonName = "CN=b", "b" }))(t, s)
		}, now, []want{{Error, "10", `subject is "CN=b", the certificate's "CN=a"`}, {Error, "10", `common name is "b"`}}},
		{"fail/another validity", func(t *testing.T, s testStore) {
			imp(rec(t, func(r *store.CertRecord) { r.NotAfter = r.NotAfter.Add(time.Hour) }))(t, s)
		}, now, []want{{Error, "10", "validity is 2025-03-01T10:00:00Z to 2026-03-01T11:00:00Z, the certificate's 2025-03-01T10:00:00Z to 2026-03-01T10:00:00Z"}}},
		{"warn/other DNS names", func(t *testing.T, s testStore) {
			imp(rec(t, func(r *store.CertRecord) { r.DNSNames = nil }))(t, s)
		}, now, []want{{Warning, "10", `DNS names are [], the certificate's ["a.example"]`}}},
		{"fail/revoked without time", func(t *testing.T, s testStore) {
			imp(rec(t, func(r *store.CertRecord) { r.Status = store.StatusRevoked }))(t, s)
		}, now, []want{{Error, "10", "revoked without a revocation time"}}},
		{"fail/revoked with removeFromCRL", func(t *testing.T, s testStore) {
			imp(rec(t, func(r *store.CertRecord) {
				r.Status, r.RevokedAt, r.RevocationReason = store.StatusRevoked, now, store.ReasonRemoveFromCRL
			}))(t, s)
		}, now, []want{{Error, "10", "revoked with reason 8 (removeFromCRL)"}}},
		{"fail/valid with a revocation time", func(t *testing.T, s testStore) {
			imp(rec(t, func(r *store.CertRecord) { r.RevokedAt = now }))(t, s)
		}, now, []want{{Error, "10", "valid, but has a revocation time or reason"}}},
		{"warn/renewal of an unknown certificate", func(t *testing.T, s testStore) {
			imp(rec(t, func(r *store.CertRecord) { r.RenewalOf = "99" }))(t, s)
		}, now, []want{{Warning, "10", "renews 99, which cannot be found"}}},
		{"fail/issued request without its certificate", func(t *testing.T, s testStore) {
			mustDo(t, s.ImportRequest(ctx, &store.PendingRequest{ID: "r", Profile: "p", Key: "k", Status: store.RequestIssued,
				CreatedAt: t0, DecidedAt: t0, Serial: "77"}))
		}, now, []want{{Error, `"r"`, "issued as 77, but that certificate cannot be found"}}},
		{"fail/issued request without serial", func(t *testing.T, s testStore) {
			mustDo(t, s.ImportRequest(ctx, &store.PendingRequest{ID: "r", Profile: "p", Key: "k", Status: store.RequestIssued,
				CreatedAt: t0, DecidedAt: t0}))
		}, now, []want{{Error, `"r"`, "issued without a certificate serial"}}},
		{"warn/approved without decision time", func(t *testing.T, s testStore) {
			mustDo(t, s.ImportRequest(ctx, &store.PendingRequest{ID: "r", Profile: "p", Key: "k", Status: store.RequestApproved, CreatedAt: t0}))
		}, now, []want{{Warning, `"r"`, "approved without a decision time"}}},
	}
	for _, b := range backends(t) {
		for _, tt := range tests {
			t.Run(tt.name+"/"+b.name, func(t *testing.T) {
				t.Parallel()
				s := b.open(t)
				tt.build(t, s)
				rep, err := Check(ctx, s, CheckOptions{Now: func() time.Time { return tt.now }, BatchSize: testBatch})
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				assertFindings(t, rep, tt.want)
			})
		}
	}
}

func TestCheckSeeded(t *testing.T) {
	for _, b := range backends(t) {
		t.Run("ok/"+b.name, func(t *testing.T) {
			t.Parallel()
			s := b.open(t)
			seed(t, s)
			rep, err := Check(context.Background(), s, CheckOptions{Now: func() time.Time { return t0.Add(time.Minute) }, BatchSize: testBatch})
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			assertFindings(t, rep, []want{{Error, "300", "revoked without a revocation time"}})
			wantCounts := map[store.Status]int{store.StatusReserved: 3, store.StatusValid: 4, store.StatusRevoked: 3}
			if !maps.Equal(rep.Records, wantCounts) || rep.Requests != 4 || rep.Tokens != 2 {
				t.Errorf("counts %v, %d requests, %d tokens; want %v, 4, 2", rep.Records, rep.Requests, rep.Tokens, wantCounts)
			}
		})
	}
}

// TestCheckIndexes damages the bbolt indexes behind the store's back (the
// bucket names are store/bolt's layout, see its buckets.go) and expects
// Check to notice through the interface.
func TestCheckIndexes(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		bucket string
		want   []want
	}{
		{"fail/expiry index emptied", "idx_expiry", []want{{Error, "10", "a query for records expiring at 2026-03-01T10:00:00Z does not find it (expiry index)"}}},
		{"fail/request key index emptied", "idx_request_key", []want{{Error, `"r"`, "its profile and key do not find it"}}},
		{"fail/request status index emptied", "idx_request_status", []want{{Error, "", "listing pending requests returned 0, listing all requests found 1"}}},
		{"fail/token hash index emptied", "idx_token_hash", []want{{Error, `"t"`, "its hash does not find it"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "certgate.db")
			s := openBoltAt(t, path)
			mustDo(t, s.ImportRecords(ctx, []*store.CertRecord{issuedRecord(t, 0x10, "a")}))
			mustDo(t, s.ImportRequest(ctx, &store.PendingRequest{ID: "r", Profile: "p", Key: "k", Status: store.RequestPending, CreatedAt: t0}))
			mustDo(t, s.PutToken(ctx, &store.APIToken{ID: "t", Hash: "h", CreatedAt: t0}))
			mustDo(t, s.Close())
			emptyBucket(t, path, tt.bucket)
			s = openBoltAt(t, path)
			rep, err := Check(ctx, s, CheckOptions{Now: func() time.Time { return t0 }})
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			assertFindings(t, rep, tt.want)
		})
	}
}

func emptyBucket(t *testing.T, path, bucket string) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bbolt.Tx) error {
		if err := tx.DeleteBucket([]byte(bucket)); err != nil {
			return err
		}
		_, err := tx.CreateBucket([]byte(bucket))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// reversed returns each page of records in reverse, as a broken index
// would.
type reversed struct{ testStore }

func (r reversed) Search(ctx context.Context, q store.Query) ([]*store.CertRecord, error) {
	recs, err := r.testStore.Search(ctx, q)
	slices.Reverse(recs)
	return recs, err
}

func TestCheckOrderAndCap(t *testing.T) {
	ctx := context.Background()
	s := openBolt(t)
	var bad []*store.CertRecord
	for i := range int64(3) {
		r := issuedRecord(t, 0x10+i, "a")
		r.DER = []byte{0x30, 0x00}
		bad = append(bad, r)
	}
	mustDo(t, s.ImportRecords(ctx, bad))

	t.Run("fail/out of serial order", func(t *testing.T) {
		rep, err := Check(ctx, reversed{s}, CheckOptions{Now: func() time.Time { return t0 }, Quick: true})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range rep.Findings {
			if strings.Contains(f.Problem, "out of serial order") {
				got = append(got, f.Problem)
			}
		}
		if len(got) != 2 || !strings.HasPrefix(got[0], "listing all records returned it after 12") || !strings.HasPrefix(got[1], "listing valid records") {
			t.Errorf("order findings %q, want one for all records and one for valid ones", got)
		}
	})
	t.Run("ok/capped", func(t *testing.T) {
		rep, err := Check(ctx, s, CheckOptions{Now: func() time.Time { return t0 }, MaxFindings: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Findings) != 1 || rep.Omitted != 2 || rep.OmittedErrors != 2 || rep.Errors() != 3 {
			t.Errorf("%d findings, %d omitted (%d errors), Errors() %d; want 1, 2 (2), 3",
				len(rep.Findings), rep.Omitted, rep.OmittedErrors, rep.Errors())
		}
	})
}

// assertFindings fails t unless rep holds exactly the wanted findings, in
// any order.
func assertFindings(t *testing.T, rep *CheckReport, wants []want) {
	t.Helper()
	got := slices.Clone(rep.Findings)
	for _, w := range wants {
		i := slices.IndexFunc(got, func(f Finding) bool {
			return f.Severity == w.sev && f.ID == w.id && strings.Contains(f.Problem, w.problem)
		})
		if i < 0 {
			t.Errorf("no %s finding for %q containing %q", w.sev, w.id, w.problem)
			continue
		}
		got = slices.Delete(got, i, i+1)
	}
	for _, f := range got {
		t.Errorf("unexpected finding: %s", f)
	}
}
