package postgres

import (
	"context"
	"math/big"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certgate/certgate/store"
	"github.com/certgate/certgate/store/storetest"
)

// The benchmarks mirror store/bolt's, so the two backends compare on one
// machine. Run them against the throwaway cluster of scripts/pg-test-cluster
// (fsync on): a write costs a round trip plus the server's WAL flush.

// BenchmarkReserveIssue measures the two durable writes of one enrollment,
// each committed before it returns.
func BenchmarkReserveIssue(b *testing.B) {
	s := openBench(b)
	var n int64
	for b.Loop() {
		n++
		reserveIssue(b, s, n)
	}
}

func openBench(b *testing.B) *Store {
	s := openTest(b, Options{})
	b.Cleanup(func() { s.Close() })
	return s
}

// reserveIssue records one enrollment: reservation, then the certificate
// (1200 bytes of DER, about an RSA-2048 leaf).
func reserveIssue(b *testing.B, s *Store, n int64) {
	ctx := context.Background()
	r := benchRecord(n)
	if err := s.Reserve(ctx, r); err != nil {
		b.Fatal(err)
	}
	r.DER = make([]byte, 1200)
	if err := s.Issue(ctx, r); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkCert measures a lookup by serial (renewal authorisation, OCSP)
// in a store of 1000 records.
func BenchmarkCert(b *testing.B) {
	s := openBench(b)
	ctx := context.Background()
	const records = 1000
	for n := int64(1); n <= records; n++ {
		reserveIssue(b, s, n)
	}
	var n int64
	for b.Loop() {
		n = n%records + 1
		if _, err := s.Cert(ctx, benchSerial(n)); err != nil {
			b.Fatal(err)
		}
	}
}

// benchSerial spreads serials over 16 bytes like real random ones.
func benchSerial(n int64) *big.Int {
	s := new(big.Int).Lsh(big.NewInt(n), 120)
	return s.Or(s, big.NewInt(n))
}

// benchRecord is store/bolt's bench record.
func benchRecord(n int64) *store.CertRecord {
	return &store.CertRecord{
		Serial:     benchSerial(n),
		Subject:    "CN=host-" + string(rune('a'+n%26)),
		CommonName: "host",
		DNSNames:   []string{"host.example.com"},
		NotAfter:   t0.Add(90 * 24 * time.Hour),
		Profile:    "device",
		Protocol:   "est",
		DeviceID:   "device",
		CreatedAt:  t0,
	}
}

// BenchmarkReserveIssueParallel shows how concurrent enrollments scale:
// each has its own connection, and the server's WAL flush serves the
// commits that wait on it together.
func BenchmarkReserveIssueParallel(b *testing.B) {
	s := openBench(b)
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			reserveIssue(b, s, n.Add(1))
		}
	})
}

// BenchmarkSearchSubject: the duplicate-subject check among 50,000
// records, by indexed common name and by subject substring.
func BenchmarkSearchSubject(b *testing.B) {
	storetest.BenchSearchSubject(b, openBench(b), 50_000)
}

// BenchmarkSearchRevoked: a CRL build's query among 50,000 records, 500 of
// them revoked.
func BenchmarkSearchRevoked(b *testing.B) {
	storetest.BenchSearchRevoked(b, openBench(b), 50_000)
}
