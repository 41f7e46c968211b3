package scep

import (
	"context"
	"testing"

	smallscep "github.com/smallstep/scep"
)

// BenchmarkPKIOperation measures what the SCEP layer adds to an
// enrollment: parse the pkiMessage, verify its signature, decrypt the
// envelope with the RA's RSA-2048 key, and build, sign and encrypt the
// CertRep. The fake enroller's own RSA-2048 signature is included; the
// store and the real CA are not (see enroll's benchmarks).
func BenchmarkPKIOperation(b *testing.B) {
	ca := newTestCA(b)
	s := newTestServer(b, &fakeEnroller{ca: ca}, ca)
	c := newClient(b)
	msg := c.request(b, ca, smallscep.PKCSReq, "bench-device", "secret")
	ctx := context.Background()

	// One answer checked outside the loop, so the benchmark cannot time
	// a fast failure.
	rep, err := s.PKIOperation(ctx, msg, "default", "192.0.2.1:40000")
	if err != nil {
		b.Fatal(err)
	}
	if got := c.parseReply(b, ca, rep); got.PKIStatus != smallscep.SUCCESS {
		b.Fatalf("PKIStatus = %q (failInfo %q), want SUCCESS", got.PKIStatus, got.FailInfo)
	}

	for b.Loop() {
		if _, err := s.PKIOperation(ctx, msg, "default", "192.0.2.1:40000"); err != nil {
			b.Fatal(err)
		}
	}
}
