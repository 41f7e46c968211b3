package bolt

import (
	"errors"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	bbolt "go.etcd.io/bbolt"
)

// TestGroupCommitIsolatesFailures runs many writers at once, some of which
// fail: every successful writer's key must be committed, no failed
// writer's key may be, and each caller must get its own outcome.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "g.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *bbolt.Tx) error { _, err := tx.CreateBucket([]byte("b")); return err }); err != nil {
		t.Fatal(err)
	}
	g := &groupCommit{db: db}
	errOdd := errors.New("odd writers fail")
	const writers = 64
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := 0; i < writers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs[i] = g.do(func(tx *bbolt.Tx) error {
				if err := tx.Bucket([]byte("b")).Put([]byte(strconv.Itoa(i)), []byte("x")); err != nil {
					return err
				}
				if i%2 == 1 {
					return errOdd // after writing: the write must be rolled back
				}
				return nil
			})
		}(i)
	}
	wg.Wait()
	err = db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte("b"))
		for i := 0; i < writers; i++ {
			present := b.Get([]byte(strconv.Itoa(i))) != nil
			switch {
			case i%2 == 0 && (errs[i] != nil || !present):
				t.Errorf("writer %d: err %v, committed %v; want success", i, errs[i], present)
			case i%2 == 1 && (!errors.Is(errs[i], errOdd) || present):
				t.Errorf("writer %d: err %v, committed %v; want its own error and no write", i, errs[i], present)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
