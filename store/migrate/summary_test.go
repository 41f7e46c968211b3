package migrate

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certgate/certgate/store"
)

func TestCompare(t *testing.T) {
	ctx := context.Background()
	// copied returns a seeded source and a complete copy of it.
	copied := func(t *testing.T) (testStore, testStore) {
		src, dst := openBolt(t), openBolt(t)
		seed(t, src)
		if _, err := Copy(ctx, src, dst, Options{}); err != nil {
			t.Fatalf("Copy: %v", err)
		}
		return src, dst
	}
	tests := []struct {
		name  string
		build func(t *testing.T) (src, dst testStore)
		// want lists the mismatching names; sameCount, that each keeps
		// its count and differs in the checksum only.
		want      []string
		sameCount bool
	}{
		{"ok/complete copy", copied, nil, false},
		{"ok/target sequence ahead", func(t *testing.T) (testStore, testStore) {
			src, dst := copied(t)
			mustDo(t, dst.RaiseSequence(ctx, "crl/local", 100))
			return src, dst
		}, nil, false},
		{"fail/extra record in the target", func(t *testing.T) (testStore, testStore) {
			src, dst := copied(t)
			mustDo(t, dst.ImportRecords(ctx, []*store.CertRecord{issuedRecord(t, 0x999, "extra")}))
			return src, dst
		}, []string{"records", "records valid"}, false},
		{"fail/another record with the same count", func(t *testing.T) (testStore, testStore) {
			src, dst := openBolt(t), openBolt(t)
			mustDo(t, src.ImportRecords(ctx, []*store.CertRecord{issuedRecord(t, 0x10, "a")}))
			mustDo(t, dst.ImportRecords(ctx, []*store.CertRecord{issuedRecord(t, 0x11, "a")}))
			return src, dst
		}, []string{"records", "records valid"}, true},
		{"fail/one field lost", func(t *testing.T) (testStore, testStore) {
			src, dst := openBolt(t), openBolt(t)
			r := issuedRecord(t, 0x10, "a")
			r.EscrowedKey = []byte("sealed")
			mustDo(t, src.ImportRecords(ctx, []*store.CertRecord{r}))
			r.EscrowedKey = nil
			mustDo(t, dst.ImportRecords(ctx, []*store.CertRecord{r}))
			return src, dst
		}, []string{"records", "records valid"}, true},
		{"fail/revocation lost", func(t *testing.T) (testStore, testStore) {
			src, dst := openBolt(t), openBolt(t)
			r := issuedRecord(t, 0x10, "a")
			mustDo(t, dst.ImportRecords(ctx, []*store.CertRecord{r}))
			r.Status, r.RevokedAt, r.RevocationReason = store.StatusRevoked, t0, store.ReasonKeyCompromise
			mustDo(t, src.ImportRecords(ctx, []*store.CertRecord{r}))
			return src, dst
		}, []string{"records", "records valid", "records revoked"}, false},
		{"fail/missing token and challenge", func(t *testing.T) (testStore, testStore) {
			src, dst := openBolt(t), openBolt(t)
			mustDo(t, src.PutToken(ctx, &store.APIToken{ID: "a", Hash: "h", CreatedAt: t0}))
			mustDo(t, src.PutChallenge(ctx, &store.Challenge{Profile: "p", Hash: "h", CreatedAt: t0, ExpiresAt: t0}))
			return src, dst
		}, []string{KindTokens, KindChallenges}, false},
		{"fail/request decided differently", func(t *testing.T) (testStore, testStore) {
			src, dst := openBolt(t), openBolt(t)
			r := &store.PendingRequest{ID: "r", Profile: "p", Key: "k", Status: store.RequestApproved, CreatedAt: t0, DecidedAt: t0}
			mustDo(t, src.ImportRequest(ctx, r))
			r.Status = store.RequestRejected
			mustDo(t, dst.ImportRequest(ctx, r))
			return src, dst
		}, []string{KindRequests}, true},
		{"fail/static secret expiry differs", func(t *testing.T) (testStore, testStore) {
			src, dst := openBolt(t), openBolt(t)
			mustDo(t, src.ImportStaticSecret(ctx, "p", store.StaticSecret{Hash: "h", CreatedAt: t0}))
			mustDo(t, dst.ImportStaticSecret(ctx, "p", store.StaticSecret{Hash: "h", CreatedAt: t0, ExpiresAt: t0}))
			return src, dst
		}, []string{KindStaticSecrets}, true},
		{"fail/sequence behind", func(t *testing.T) (testStore, testStore) {
			src, dst := openBolt(t), openBolt(t)
			mustDo(t, src.RaiseSequence(ctx, "crl/local", 7))
			mustDo(t, dst.RaiseSequence(ctx, "crl/local", 6))
			return src, dst
		}, []string{"sequence crl/local"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, dst := tt.build(t)
			a, err := Summarize(ctx, src, testBatch)
			if err != nil {
				t.Fatal(err)
			}
			b, err := Summarize(ctx, dst, testBatch)
			if err != nil {
				t.Fatal(err)
			}
			got := Compare(a, b)
			var names []string
			for _, m := range got {
				names = append(names, m.Name)
				count := func(s string) string { c, _, _ := strings.Cut(s, " "); return c }
				if tt.sameCount && count(m.Source) != count(m.Target) {
					t.Errorf("%s: source %s, target %s; want the same count", m.Name, m.Source, m.Target)
				}
			}
			if !slices.Equal(names, tt.want) {
				t.Errorf("mismatches %+v, want %q", got, tt.want)
			}
		})
	}
}

func TestSummarizeNormalizes(t *testing.T) {
	ctx := context.Background()
	// What PostgreSQL would give back for r: microseconds, UTC, U+FFFD.
	r := issuedRecord(t, 0x10, "a")
	r.RequesterAddr = "a\x00b"
	pg := *r
	pg.CreatedAt = r.CreatedAt.Truncate(time.Microsecond).In(time.FixedZone("x", 3600))
	pg.RequesterAddr = "a\uFFFDb"
	src, dst := openBolt(t), openBolt(t)
	mustDo(t, src.ImportRecords(ctx, []*store.CertRecord{r}))
	mustDo(t, dst.ImportRecords(ctx, []*store.CertRecord{&pg}))
	a, err := Summarize(ctx, src, 0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Summarize(ctx, dst, 0)
	if err != nil {
		t.Fatal(err)
	}
	if m := Compare(a, b); len(m) > 0 {
		t.Errorf("mismatches %+v, want none", m)
	}
}
