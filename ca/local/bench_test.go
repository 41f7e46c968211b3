package local

import (
	"context"
	"testing"
)

func BenchmarkPrepareSign(b *testing.B) {
	c := loadFixture(b, Options{PublicURL: "http://certgate.example:8080"})
	csr, p := testCSR(b, "device-1"), testProfile(b, nil)
	ctx := context.Background()
	for b.Loop() {
		d, err := c.Prepare(ctx, csr, p)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Sign(ctx, d); err != nil {
			b.Fatal(err)
		}
	}
}
