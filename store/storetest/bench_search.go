package storetest

import (
	"context"
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/certgate/certgate/store"
)

// SearchStore is a Store that can be seeded in bulk.
type SearchStore interface {
	store.Store
	store.Importer
}

// BenchSearchSubject measures the duplicate-subject check of enroll
// (valid, unexpired certificates of a profile with one subject) on a store
// of records certificates with distinct subjects: by common name, the
// query enroll makes, and by subject substring, the one it made before,
// which reads every record of the profile.
func BenchSearchSubject(b *testing.B, st SearchStore, records int) {
	ctx := context.Background()
	seedSearch(b, st, records)
	probe := benchSearchRecord(records / 2)
	for _, bm := range []struct {
		name string
		q    store.Query
	}{
		{"common_name", store.Query{CommonName: probe.CommonName}},
		{"subject_substring", store.Query{Subject: probe.Subject}},
	} {
		b.Run(bm.name, func(b *testing.B) {
			q := bm.q
			q.Status, q.Profile, q.ExpiresAfter, q.Limit = store.StatusValid, probe.Profile, base, -1
			for b.Loop() {
				found, err := st.Search(ctx, q)
				if err != nil {
					b.Fatal(err)
				}
				if len(found) != 1 || found[0].Subject != probe.Subject {
					b.Fatalf("Search found %d records, want the probe", len(found))
				}
			}
		})
	}
}

// BenchSearchRevoked measures a CRL build's query (revoked, unexpired
// certificates) on a store of records certificates, one in a hundred
// revoked.
func BenchSearchRevoked(b *testing.B, st SearchStore, records int) {
	ctx := context.Background()
	seedSearch(b, st, records)
	want := 0
	for i := range records {
		if benchRevoked(i) {
			want++
		}
	}
	for b.Loop() {
		found, err := st.Search(ctx, store.Query{Status: store.StatusRevoked, ExpiresAfter: base, Limit: -1})
		if err != nil {
			b.Fatal(err)
		}
		if len(found) != want {
			b.Fatalf("Search found %d revoked records, want %d", len(found), want)
		}
	}
}

// seedSearch imports records bench records into st.
func seedSearch(b *testing.B, st SearchStore, records int) {
	ctx := context.Background()
	const batch = 1000
	for start := 0; start < records; start += batch {
		var recs []*store.CertRecord
		for i := start; i < min(start+batch, records); i++ {
			recs = append(recs, benchSearchRecord(i))
		}
		if err := st.ImportRecords(ctx, recs); err != nil {
			b.Fatalf("ImportRecords: %v", err)
		}
	}
	// As store migrate does after a bulk copy: PostgreSQL would otherwise
	// plan for the empty table until autovacuum runs.
	if a, ok := st.(interface{ Analyze(context.Context) error }); ok {
		if err := a.Analyze(ctx); err != nil {
			b.Fatalf("Analyze: %v", err)
		}
	}
}

// benchRevoked says which bench records are revoked: one in a hundred,
// never the probe of BenchSearchSubject (records/2 for even records).
func benchRevoked(i int) bool { return i%100 == 1 }

func benchSearchRecord(i int) *store.CertRecord {
	cn := fmt.Sprintf("device-%07d", i)
	sn := new(big.Int).Lsh(big.NewInt(int64(i)+1), 100)
	r := &store.CertRecord{
		Serial: sn, SerialHex: store.SerialHex(sn), Issuer: "local-ca",
		Subject: "CN=" + cn + ",O=Example Corp", CommonName: cn,
		NotBefore: base.Add(-time.Hour), NotAfter: base.Add(365 * day),
		Profile: "device", Protocol: "scep", Status: store.StatusValid,
		DER: []byte{0x30, 0x03, 0x02, 0x01, 0x01}, CreatedAt: base, IssuedAt: base,
	}
	if benchRevoked(i) {
		r.Status, r.RevokedAt, r.RevocationReason = store.StatusRevoked, base, store.ReasonKeyCompromise
	}
	return r
}
