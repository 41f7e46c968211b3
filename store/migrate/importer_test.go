package migrate

import (
	"context"
	"errors"
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/certgate/certgate/store"
)

// TestImporter checks the store.Importer and store.Exporter semantics Copy
// relies on, on every backend.
func TestImporter(t *testing.T) {
	ctx := context.Background()
	revoked := func(t *testing.T) *store.CertRecord {
		r := issuedRecord(t, 0x20, "revoked")
		r.Status, r.RevokedAt, r.RevocationReason = store.StatusRevoked, t0.Add(time.Hour), store.ReasonSuperseded
		return r
	}
	tests := []struct {
		name string
		// run acts on a store holding record 0x10 (valid), request "r"
		// (profile p, key k), static secret h of profile p and sequence
		// s at 5, and returns the error to check.
		run     func(t *testing.T, s testStore) error
		wantErr error
		// check, if set, looks at the store afterwards.
		check func(t *testing.T, s testStore)
	}{
		{"ok/records in every status, as given", func(t *testing.T, s testStore) error {
			res := issuedRecord(t, 0x21, "reserved")
			res.Status, res.DER, res.IssuedAt = store.StatusReserved, nil, time.Time{}
			return s.ImportRecords(ctx, []*store.CertRecord{revoked(t), res})
		}, nil, func(t *testing.T, s testStore) {
			got, err := s.Cert(ctx, big.NewInt(0x20))
			mustDo(t, err)
			if d := recordDiff(revoked(t), got); !slices.Equal(d, []string{"der"}) { // signatures are random
				t.Errorf("imported record differs in %q", d)
			}
			got, err = s.Cert(ctx, big.NewInt(0x21))
			mustDo(t, err)
			if got.Status != store.StatusReserved || got.CreatedAt.IsZero() || !got.IssuedAt.IsZero() {
				t.Errorf("imported reservation %+v", got)
			}
		}},
		{"ok/empty batch", func(t *testing.T, s testStore) error { return s.ImportRecords(ctx, nil) }, nil, nil},
		{"fail/batch with a recorded serial writes nothing", func(t *testing.T, s testStore) error {
			return s.ImportRecords(ctx, []*store.CertRecord{revoked(t), issuedRecord(t, 0x10, "again")})
		}, store.ErrConflict, func(t *testing.T, s testStore) {
			if _, err := s.Cert(ctx, big.NewInt(0x20)); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("record 20 after the failed batch: %v, want store.ErrNotFound", err)
			}
		}},
		{"fail/serial twice in a batch", func(t *testing.T, s testStore) error {
			return s.ImportRecords(ctx, []*store.CertRecord{revoked(t), revoked(t)})
		}, store.ErrInvalid, nil},
		{"fail/valid without DER", func(t *testing.T, s testStore) error {
			r := revoked(t)
			r.Status, r.DER = store.StatusValid, nil
			return s.ImportRecords(ctx, []*store.CertRecord{r})
		}, store.ErrInvalid, nil},
		{"fail/unknown status", func(t *testing.T, s testStore) error {
			r := revoked(t)
			r.Status = "expired"
			return s.ImportRecords(ctx, []*store.CertRecord{r})
		}, store.ErrInvalid, nil},
		{"fail/nil record", func(t *testing.T, s testStore) error {
			return s.ImportRecords(ctx, []*store.CertRecord{nil})
		}, store.ErrInvalid, nil},
		{"ok/issued request as given", func(t *testing.T, s testStore) error {
			return s.ImportRequest(ctx, &store.PendingRequest{ID: "r2", Profile: "p", Key: "k2", Status: store.RequestIssued,
				CreatedAt: t0, DecidedAt: t0.Add(time.Minute), DecidedBy: "bob", Serial: "10"})
		}, nil, func(t *testing.T, s testStore) {
			got, err := s.Request(ctx, "r2")
			mustDo(t, err)
			if got.Status != store.RequestIssued || got.Serial != "10" || got.DecidedBy != "bob" || !normTime(got.DecidedAt).Equal(normTime(t0.Add(time.Minute))) {
				t.Errorf("imported request %+v", got)
			}
			byStatus, err := s.SearchRequests(ctx, store.RequestQuery{Status: store.RequestIssued})
			mustDo(t, err)
			if len(byStatus) != 1 || byStatus[0].ID != "r2" {
				t.Errorf("issued requests %+v, want r2", byStatus)
			}
		}},
		{"fail/request ID taken", func(t *testing.T, s testStore) error {
			return s.ImportRequest(ctx, &store.PendingRequest{ID: "r", Profile: "p", Key: "k9", Status: store.RequestPending, CreatedAt: t0})
		}, store.ErrConflict, nil},
		{"fail/request key taken", func(t *testing.T, s testStore) error {
			return s.ImportRequest(ctx, &store.PendingRequest{ID: "r9", Profile: "p", Key: "k", Status: store.RequestPending, CreatedAt: t0})
		}, store.ErrConflict, nil},
		{"fail/request with unknown status", func(t *testing.T, s testStore) error {
			return s.ImportRequest(ctx, &store.PendingRequest{ID: "r9", Profile: "p", Key: "k9", Status: "lost", CreatedAt: t0})
		}, store.ErrInvalid, nil},
		{"ok/static secret added", func(t *testing.T, s testStore) error {
			return s.ImportStaticSecret(ctx, "p", store.StaticSecret{Hash: "h2", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)})
		}, nil, func(t *testing.T, s testStore) {
			list, err := s.StaticSecrets(ctx, "p")
			mustDo(t, err)
			if len(list) != 2 {
				t.Errorf("static secrets %+v, want 2", list)
			}
		}},
		{"fail/static secret listed", func(t *testing.T, s testStore) error {
			return s.ImportStaticSecret(ctx, "p", store.StaticSecret{Hash: "h", CreatedAt: t0})
		}, store.ErrConflict, nil},
		{"ok/sequence raised", func(t *testing.T, s testStore) error { return s.RaiseSequence(ctx, "s", 9) }, nil, func(t *testing.T, s testStore) {
			if n, err := s.NextSequence(ctx, "s"); err != nil || n != 10 {
				t.Errorf("next: %d, %v; want 10", n, err)
			}
		}},
		{"ok/sequence never lowered", func(t *testing.T, s testStore) error { return s.RaiseSequence(ctx, "s", 2) }, nil, func(t *testing.T, s testStore) {
			if n, err := s.NextSequence(ctx, "s"); err != nil || n != 6 {
				t.Errorf("next: %d, %v; want 6", n, err)
			}
		}},
		{"ok/new sequence", func(t *testing.T, s testStore) error { return s.RaiseSequence(ctx, "new", 3) }, nil, func(t *testing.T, s testStore) {
			seqs, err := s.Sequences(ctx)
			mustDo(t, err)
			if seqs["new"] != 3 || seqs["s"] != 5 || len(seqs) != 2 {
				t.Errorf("sequences %v, want new at 3 and s at 5", seqs)
			}
		}},
		{"fail/empty sequence name", func(t *testing.T, s testStore) error { return s.RaiseSequence(ctx, "", 3) }, store.ErrInvalid, nil},
		{"ok/exported challenges in order", func(t *testing.T, s testStore) error {
			for _, c := range []store.Challenge{{Profile: "zz", Hash: "a"}, {Profile: "b", Hash: "z"}, {Profile: "b", Hash: "c"}} {
				c.CreatedAt, c.ExpiresAt = t0, t0
				if err := s.PutChallenge(ctx, &c); err != nil {
					return err
				}
			}
			return nil
		}, nil, func(t *testing.T, s testStore) {
			list, err := s.Challenges(ctx)
			mustDo(t, err)
			var got []string
			for _, c := range list {
				got = append(got, c.Profile+"/"+c.Hash)
			}
			if want := []string{"b/c", "b/z", "zz/a"}; !slices.Equal(got, want) {
				t.Errorf("challenges %q, want %q", got, want)
			}
			profiles, err := s.StaticSecretProfiles(ctx)
			mustDo(t, err)
			if !slices.Equal(profiles, []string{"p"}) {
				t.Errorf("static secret profiles %q, want [p]", profiles)
			}
		}},
	}
	for _, b := range backends(t) {
		for _, tt := range tests {
			t.Run(tt.name+"/"+b.name, func(t *testing.T) {
				t.Parallel()
				s := b.open(t)
				mustDo(t, s.ImportRecords(ctx, []*store.CertRecord{issuedRecord(t, 0x10, "a")}))
				mustDo(t, s.ImportRequest(ctx, &store.PendingRequest{ID: "r", Profile: "p", Key: "k", Status: store.RequestPending, CreatedAt: t0}))
				mustDo(t, s.ImportStaticSecret(ctx, "p", store.StaticSecret{Hash: "h", CreatedAt: t0}))
				mustDo(t, s.RaiseSequence(ctx, "s", 5))
				err := tt.run(t, s)
				if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Fatalf("error %v, want %v", err, tt.wantErr)
				}
				if tt.check != nil {
					tt.check(t, s)
				}
			})
		}
	}
}
