package enroll_test

import (
	"context"
	"testing"

	"github.com/certgate/certgate/enroll"
)

// BenchmarkEnroll measures one whole enrollment decision as serve makes it:
// challenge check, policy, a durable (fsync'd) reservation, an RSA-3072
// signature and a durable record. The two fsyncs and the signature
// dominate; SCEP's envelope handling comes on top (see scep's benchmark).
func BenchmarkEnroll(b *testing.B) {
	svc, req := benchSetup(b)
	ctx := context.Background()
	for b.Loop() {
		if _, err := svc.Enroll(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEnrollParallel is BenchmarkEnroll from GOMAXPROCS goroutines,
// where concurrent store writes can share an fsync.
func BenchmarkEnrollParallel(b *testing.B) {
	svc, req := benchSetup(b)
	ctx := context.Background()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := svc.Enroll(ctx, req); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// benchSetup returns a service over a fresh store and the production-sized
// CA, and one CSR from an RSA-2048 device key. Enroll only reads the
// request, so every iteration can reuse it.
func benchSetup(b *testing.B) (*enroll.Service, *enroll.Request) {
	b.Helper()
	e := newEnv(b, benchCA)
	req := request(newCSR(b, rsaKey, "bench-device", "bench-device.example.com"), secret1)
	return e.service(b, nil), req
}
