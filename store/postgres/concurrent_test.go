package postgres

import (
	"context"
	"errors"
	"math/big"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/certgate/certgate/store"
)

// replicas opens n Stores on one new database, as n certgate replicas
// would, each with its own pool.
func replicas(t *testing.T, n int) []*Store {
	t.Helper()
	dsn := newDatabase(t)
	out := make([]*Store, n)
	for i := range out {
		s, err := Open(context.Background(), Options{DSN: dsn})
		if err != nil {
			t.Fatalf("Open replica %d: %v", i, err)
		}
		t.Cleanup(func() { s.Close() })
		out[i] = s
	}
	return out
}

// race runs fn in n goroutines released together and returns their errors
// by index.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

const racers = 20

var replicaCases = []struct {
	name     string
	replicas int
}{
	{"ok/one store", 1},
	{"ok/four replicas", 4},
}

func TestConcurrentReserveOneWins(t *testing.T) {
	for _, tc := range replicaCases {
		t.Run(tc.name, func(t *testing.T) {
			stores := replicas(t, tc.replicas)
			sn := big.NewInt(0x5e1a1)
			errs := race(racers, func(i int) error {
				return stores[i%len(stores)].Reserve(context.Background(), &store.CertRecord{
					Serial: sn, Subject: "CN=racer", TransactionID: string(rune('a' + i)),
					NotAfter: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
				})
			})
			var winner = -1
			for i, err := range errs {
				switch {
				case err == nil && winner >= 0:
					t.Errorf("goroutines %d and %d both reserved the serial", winner, i)
				case err == nil:
					winner = i
				case !errors.Is(err, store.ErrConflict):
					t.Errorf("goroutine %d: error = %v, want ErrConflict", i, err)
				}
			}
			if winner < 0 {
				t.Fatalf("no goroutine reserved the serial")
			}
			got, err := stores[0].Cert(context.Background(), sn)
			if err != nil {
				t.Fatalf("Cert: %v", err)
			}
			if want := string(rune('a' + winner)); got.TransactionID != want {
				t.Fatalf("stored TransactionID = %q, want the winner's %q", got.TransactionID, want)
			}
		})
	}
}

func TestConcurrentNextSequence(t *testing.T) {
	for _, tc := range replicaCases {
		t.Run(tc.name, func(t *testing.T) {
			stores := replicas(t, tc.replicas)
			got := make([]uint64, racers)
			errs := race(racers, func(i int) error {
				var err error
				got[i], err = stores[i%len(stores)].NextSequence(context.Background(), "crl/racers")
				return err
			})
			for i, err := range errs {
				if err != nil {
					t.Fatalf("goroutine %d: %v", i, err)
				}
			}
			slices.Sort(got)
			for i, n := range got {
				if n != uint64(i+1) {
					t.Fatalf("numbers handed out = %v, want 1 to %d once each", got, racers)
				}
			}
		})
	}
}

// TestConcurrentRevoke races revocations of one certificate with different
// reasons and times: every call succeeds, all of them agree on the one
// revocation time that won, and the keyCompromise among them upgrades the
// reason whatever order they ran in.
func TestConcurrentRevoke(t *testing.T) {
	for _, tc := range replicaCases {
		t.Run(tc.name, func(t *testing.T) {
			stores := replicas(t, tc.replicas)
			ctx := context.Background()
			sn := big.NewInt(0x2e70c)
			r := &store.CertRecord{Serial: sn, NotAfter: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}
			if err := stores[0].Reserve(ctx, r); err != nil {
				t.Fatalf("Reserve: %v", err)
			}
			r.DER = []byte{1}
			if err := stores[0].Issue(ctx, r); err != nil {
				t.Fatalf("Issue: %v", err)
			}
			const compromised = 7
			got := make([]*store.CertRecord, racers)
			errs := race(racers, func(i int) error {
				reason := store.ReasonSuperseded
				if i == compromised {
					reason = store.ReasonKeyCompromise
				}
				var err error
				got[i], err = stores[i%len(stores)].Revoke(ctx, sn, reason, time.Unix(int64(1e9+i), 0))
				return err
			})
			for i, err := range errs {
				if err != nil {
					t.Fatalf("goroutine %d: %v", i, err)
				}
				if !got[i].RevokedAt.Equal(got[0].RevokedAt) {
					t.Errorf("goroutine %d saw RevokedAt %v, goroutine 0 saw %v", i, got[i].RevokedAt, got[0].RevokedAt)
				}
			}
			final, err := stores[0].Cert(ctx, sn)
			if err != nil {
				t.Fatalf("Cert: %v", err)
			}
			if final.Status != store.StatusRevoked || final.RevocationReason != store.ReasonKeyCompromise || !final.RevokedAt.Equal(got[0].RevokedAt) {
				t.Fatalf("final record: status %q, reason %d, at %v; want revoked, keyCompromise, %v",
					final.Status, final.RevocationReason, final.RevokedAt, got[0].RevokedAt)
			}
		})
	}
}
