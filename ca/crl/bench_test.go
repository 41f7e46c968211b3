package crl

import (
	"context"
	"math/big"
	"testing"
	"time"

	"github.com/certgate/certgate/store"
)

// BenchmarkBuild builds and signs a CRL of 10,000 revoked certificates
// (RSA-2048 CA), the source answering from memory, so the result is the
// cost of encoding and signing, not of the store's scan.
func BenchmarkBuild(b *testing.B) {
	const revoked = 10000
	c := loadCA(b)
	now := time.Now().UTC().Truncate(time.Second)
	src := &memSource{recs: make([]*store.CertRecord, revoked)}
	for i := range src.recs {
		// 16-byte serials, like the random ones ca/local draws.
		serial := new(big.Int).Lsh(big.NewInt(int64(i+1)), 64)
		src.recs[i] = &store.CertRecord{
			Serial: serial.Or(serial, big.NewInt(int64(i))), Issuer: testCAName, Status: store.StatusRevoked,
			NotAfter: now.Add(365 * 24 * time.Hour), RevokedAt: now.Add(-time.Duration(i) * time.Minute),
			RevocationReason: i % 6,
		}
	}
	bl, err := NewBuilder(Options{CA: c, PublicURL: testPublicURL, Source: src, Numbers: &counter{}, Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	var size int
	for b.Loop() {
		blob, err := bl.Build(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		size = len(blob.Data)
	}
	b.ReportMetric(float64(size), "crl-bytes")
}
