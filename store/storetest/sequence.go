package storetest

import (
	"context"
	"testing"

	"github.com/certgate/certgate/store"
)

func mustNext(t *testing.T, st store.Sequencer, name string) uint64 {
	t.Helper()
	n, err := st.NextSequence(context.Background(), name)
	if err != nil {
		t.Fatalf("NextSequence %q: %v", name, err)
	}
	return n
}

// testSequence checks that numbers only go up, per name and under
// concurrency; CRL numbers (RFC 5280 §5.2.3) depend on it.
func (c cacheSuite) testSequence(t *testing.T) {
	t.Run("ok/strictly increasing", func(t *testing.T) {
		st := c.fresh(t)
		last := mustNext(t, st, "crl/certgate")
		for range 20 {
			n := mustNext(t, st, "crl/certgate")
			if n <= last {
				t.Fatalf("NextSequence = %d after %d, want more", n, last)
			}
			last = n
		}
	})

	t.Run("ok/names do not disturb each other", func(t *testing.T) {
		st := c.fresh(t)
		a1 := mustNext(t, st, "crl/a")
		b1 := mustNext(t, st, "crl/b")
		a2 := mustNext(t, st, "crl/a")
		b2 := mustNext(t, st, "crl/b")
		a3 := mustNext(t, st, "crl/a")
		if a2 <= a1 || a3 <= a2 {
			t.Fatalf("crl/a went %d, %d, %d, want strictly increasing", a1, a2, a3)
		}
		if b2 <= b1 {
			t.Fatalf("crl/b went %d, %d, want strictly increasing", b1, b2)
		}
	})

	t.Run("ok/16 goroutines get distinct numbers in increasing order each", func(t *testing.T) {
		st := c.fresh(t)
		const workers, each = 16, 10
		got := make([][]uint64, workers)
		errs := race(workers, func(i int) error {
			for range each {
				n, err := st.NextSequence(context.Background(), "crl/certgate")
				if err != nil {
					return err
				}
				got[i] = append(got[i], n)
			}
			return nil
		})
		seen := make(map[uint64]int)
		for i, err := range errs {
			if err != nil {
				t.Fatalf("worker %d: %v", i, err)
			}
			for j, n := range got[i] {
				if j > 0 && n <= got[i][j-1] {
					t.Errorf("worker %d: %d after %d, want strictly increasing", i, n, got[i][j-1])
				}
				if w, dup := seen[n]; dup {
					t.Errorf("number %d handed to workers %d and %d", n, w, i)
				}
				seen[n] = i
			}
		}
		// Nobody raced past the others: the next number tops them all.
		last := mustNext(t, st, "crl/certgate")
		for n := range seen {
			if n >= last {
				t.Fatalf("NextSequence after the race = %d, not above %d handed out during it", last, n)
			}
		}
	})
}

// testRestart checks that blobs and sequences outlive Close.
func (c cacheSuite) testRestart(t *testing.T) {
	t.Run("ok/blobs and sequences survive reopen", func(t *testing.T) {
		db := dbName(t)
		st := c.open(t, db)
		mustPutBlob(t, st, store.BlobCRL, "certgate", testBlob(7))
		mustPutBlob(t, st, store.BlobOCSP, "gone", testBlob(8))
		if err := st.DeleteBlob(context.Background(), store.BlobOCSP, "gone"); err != nil {
			t.Fatalf("DeleteBlob: %v", err)
		}
		var last uint64
		for range 3 {
			last = mustNext(t, st, "crl/certgate")
		}
		if err := st.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}

		for round := range 2 {
			st = c.open(t, db)
			checkBlob(t, "after reopen", mustGetBlob(t, st, store.BlobCRL, "certgate"), testBlob(7))
			wantNoBlob(t, st, store.BlobOCSP, "gone")
			n := mustNext(t, st, "crl/certgate")
			if n <= last {
				t.Fatalf("reopen %d: NextSequence = %d, not above %d handed out before Close", round+1, n, last)
			}
			last = n
			if err := st.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
		}
	})
}
