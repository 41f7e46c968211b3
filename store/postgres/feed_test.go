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

// TestListenCRL: a CRL put by one replica is announced to another's
// listener with the CA name; OCSP blobs are not announced.
func TestListenCRL(t *testing.T) {
	st := openTest(t, Options{})
	defer st.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan string, 10)
	listening := make(chan error, 1)
	go func() { listening <- st.Listen(ctx, Feed{CRL: func(ca string) { got <- ca }}) }()

	// LISTEN takes effect asynchronously: put until one is announced.
	deadline := time.Now().Add(5 * time.Second)
	for len(got) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no CRL announced within 5s")
		}
		if err := st.PutBlob(ctx, store.BlobOCSP, "not announced", &store.Blob{Data: []byte{1}}); err != nil {
			t.Fatal(err)
		}
		if err := st.PutBlob(ctx, store.BlobCRL, "ca-1", &store.Blob{Data: []byte{1}}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if ca := <-got; ca != "ca-1" {
		t.Fatalf("announced %q, want ca-1", ca)
	}
	cancel()
	if err := <-listening; err == nil {
		t.Fatal("Listen returned nil after its context ended")
	}
}
