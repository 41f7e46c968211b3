package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/certgate/certgate/store"
)

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
