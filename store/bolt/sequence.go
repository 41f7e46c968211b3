package bolt

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"

	bbolt "go.etcd.io/bbolt"

	"github.com/certgate/certgate/store"
)

var _ store.Sequencer = (*Store)(nil)

// NextSequence implements store.Sequencer. The first number of a name is 1.
// Read, increment and write happen in one read-write transaction that is
// committed and fsync'd before the number is returned, so a crash can lose
// only numbers nobody was given, never hand one out twice. Concurrent
// callers may share that transaction (group commit); they still see each
// other's increments, because the calls in a shared transaction run one
// after another.
func (s *Store) NextSequence(ctx context.Context, name string) (uint64, error) {
	if err := checkKey("sequence name", name); err != nil {
		return 0, fmt.Errorf("store: bolt: next sequence %q: %w", name, err)
	}
	var n uint64
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketSequences)
		last, err := decodeSequence(b.Get([]byte(name)))
		if err != nil {
			return err
		}
		if last == math.MaxUint64 {
			return fmt.Errorf("sequence exhausted at %d: %w", last, store.ErrConflict)
		}
		// Set n on every run: group commit may roll back a shared
		// transaction and run this function again on its own.
		n = last + 1
		v := make([]byte, 8)
		binary.BigEndian.PutUint64(v, n)
		return b.Put([]byte(name), v)
	})
	if err != nil {
		return 0, fmt.Errorf("store: bolt: next sequence %q: %w", name, err)
	}
	return n, nil
}

// decodeSequence reads a sequences value; a missing one is 0, so the first
// number handed out is 1.
func decodeSequence(v []byte) (uint64, error) {
	switch len(v) {
	case 0:
		if v == nil {
			return 0, nil
		}
	case 8:
		return binary.BigEndian.Uint64(v), nil
	}
	return 0, fmt.Errorf("stored sequence value is %d bytes, want 8", len(v))
}
