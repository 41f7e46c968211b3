package postgres

import (
	"context"
	"math/big"
	"testing"
	"time"

	"github.com/certgate/certgate/store"
)

// TestFeedReleasedHold: a lifted hold reaches other replicas like a
// revocation does, pushed on the revocation channel and found by the
// catch-up query, so no replica keeps serving a cached "revoked".
func TestFeedReleasedHold(t *testing.T) {
	adminDSN(t)
	t.Parallel()
	st := openNamed(t)(t, "feed")
	defer st.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sn := big.NewInt(0x4f11)
	rec := &store.CertRecord{Serial: sn, Issuer: "ca", Subject: "CN=x", Profile: "p", Protocol: "scep"}
	if err := st.Reserve(ctx, rec); err != nil {
		t.Fatal(err)
	}
	rec.DER = []byte{0x30, 0}
	rec.NotAfter = time.Now().Add(time.Hour)
	if err := st.Issue(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Revoke(ctx, sn, store.ReasonCertificateHold, time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}

	heard := make(chan string, 4)
	lctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		_ = st.ListenRevocations(lctx, func(issuer string, serial *big.Int) { heard <- issuer + " " + store.SerialHex(serial) })
	}()
	since := time.Now()
	// The listener may not be LISTENing yet: release until it hears.
	released := false
	for !released {
		select {
		case got := <-heard:
			if got != "ca 4f11" {
				t.Fatalf("notification %q, want \"ca 4f11\"", got)
			}
			released = true
		case <-time.After(200 * time.Millisecond):
			if _, err := st.ReleaseHold(ctx, sn); err != nil {
				if _, err := st.Revoke(ctx, sn, store.ReasonCertificateHold, time.Now().Add(-time.Hour)); err != nil {
					t.Fatal(err)
				}
			}
		case <-ctx.Done():
			t.Fatal("no notification of the released hold")
		}
	}
	if r, err := st.Cert(ctx, sn); err == nil && r.Status != store.StatusValid {
		if _, err := st.ReleaseHold(ctx, sn); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := st.RevokedSince(ctx, since.Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].SerialHex != "4f11" || recs[0].Status != store.StatusValid {
		t.Fatalf("RevokedSince after a release: %+v, want the released record, valid", recs)
	}
}
