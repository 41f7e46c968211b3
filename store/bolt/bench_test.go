package bolt

import (
	"context"
	"math/big"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/certgate/certgate/store"
	"github.com/certgate/certgate/store/storetest"
)

// BenchmarkReserveIssue measures the two durable writes of one enrollment,
// each a committed, fsync'd transaction, so the result is bounded by the
// disk's fsync latency, not by CPU.
func BenchmarkReserveIssue(b *testing.B) {
	s := openBench(b)
	var n int64
	for b.Loop() {
		n++
		reserveIssue(b, s, n)
	}
}

func openBench(b *testing.B) *Store {
	s, err := Open(filepath.Join(b.TempDir(), "bench.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
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

func benchRecord(n int64) *store.CertRecord {
	r := testRecord(n)
	r.Serial = benchSerial(n)
	r.DNSNames = []string{"host.example.com"}
	r.DeviceID = "device"
	return r
}

// BenchmarkReserveIssueParallel shows what group commit buys: concurrent
// enrollments share fsyncs instead of queueing for one each.
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
