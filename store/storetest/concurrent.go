package storetest

import (
	"context"
	"errors"
	"math/big"
	"sync"
	"testing"

	"github.com/certgate/certgate/store"
)

// testConcurrent checks that Reserve is the serial's only gate: when
// replicas or goroutines race on one serial, exactly one wins.
func (s suite) testConcurrent(t *testing.T) {
	const workers = 8

	t.Run("ok/one of 8 reservations of the same serial wins", func(t *testing.T) {
		st := s.fresh(t)
		sn := serial(t, "c0ffee47")
		errs := race(workers, func(i int) error {
			r := reservation(sn)
			r.TransactionID = "worker-" + string(rune('0'+i))
			return st.Reserve(context.Background(), r)
		})
		wins := 0
		for i, err := range errs {
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, store.ErrConflict):
				t.Errorf("worker %d: error = %v, want nil or ErrConflict", i, err)
			}
		}
		if wins != 1 {
			t.Fatalf("%d reservations succeeded, want exactly 1", wins)
		}
		if got := mustCert(t, st, sn).Status; got != store.StatusReserved {
			t.Fatalf("Status = %q, want %q", got, store.StatusReserved)
		}
	})

	t.Run("ok/8 writers on different serials all succeed", func(t *testing.T) {
		st := s.fresh(t)
		const each = 5
		errs := race(workers, func(i int) error {
			for j := range each {
				sn := big.NewInt(int64(1000*(i+1) + j))
				if err := st.Reserve(context.Background(), reservation(sn)); err != nil {
					return err
				}
				if err := st.Issue(context.Background(), issued(sn)); err != nil {
					return err
				}
			}
			return nil
		})
		for i, err := range errs {
			if err != nil {
				t.Errorf("worker %d: %v", i, err)
			}
		}
		got, err := st.Search(context.Background(), store.Query{Status: store.StatusValid, Limit: -1})
		if err != nil {
			t.Fatalf("Search: %v", err)
		}
		if len(got) != workers*each {
			t.Fatalf("Search found %d valid records, want %d", len(got), workers*each)
		}
	})
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
