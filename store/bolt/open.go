package bolt

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	bbolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/certgate/certgate/store"
)

// ErrLocked is matched (with errors.Is) by the error Open returns when
// another process holds the database file.
var ErrLocked = errors.New("store: bolt: database is locked by another process")

// lockedError names the file and hints at the usual culprit.
type lockedError struct{ path string }

func (e *lockedError) Error() string {
	return "store: bolt: database " + e.path + " is locked by another process (is certgate serve running?)"
}

func (e *lockedError) Is(target error) bool { return target == ErrLocked }

// Options configures Open. The zero value is ready to use.
type Options struct {
	// Timeout is how long Open waits for the file lock held by another
	// process. Zero or negative means 1s: long enough to ride out a
	// restarting server, short enough that the CLI reports ErrLocked
	// instead of appearing to hang.
	Timeout time.Duration
	// Now supplies CreatedAt, IssuedAt and RevokedAt when the caller leaves
	// them zero. Nil means time.Now; tests inject a fixed clock.
	Now func() time.Time
}

// defaultTimeout is the lock wait when Options.Timeout is not positive.
const defaultTimeout = time.Second

// fileMode keeps the store private to the service account.
const fileMode = 0o600

// Store is a store.Store backed by one bbolt file. It is safe for
// concurrent use; bbolt serialises the writers.
type Store struct {
	// mu is held for reading by every call for its whole duration, and for
	// writing by Close, so Close waits for calls in flight and no call
	// starts on a closed database.
	mu     sync.RWMutex
	db     *bbolt.DB // nil once closed
	writes *groupCommit
	path   string
	now    func() time.Time
}

var _ store.Store = (*Store)(nil)

// Open opens the store at path, creating the file (mode 0600) and its
// buckets if needed. It fails with an error matching ErrLocked if another
// process has the file open, and refuses a file written by a different
// schema version.
func Open(path string, opts Options) (*Store, error) {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	db, err := bbolt.Open(path, fileMode, &bbolt.Options{Timeout: timeout})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, &lockedError{path: path}
	}
	if err != nil {
		return nil, fmt.Errorf("store: bolt: open %s: %w", path, err)
	}
	if err := db.Update(initBuckets); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("store: bolt: open %s: %w", path, err)
	}
	return &Store{db: db, writes: &groupCommit{db: db}, path: path, now: now}, nil
}

// initBuckets creates the layout of buckets.go, or checks that an existing
// file has it.
func initBuckets(tx *bbolt.Tx) error {
	for _, name := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	meta := tx.Bucket(bucketMeta)
	switch v := meta.Get(keySchemaVersion); {
	case v == nil:
		return meta.Put(keySchemaVersion, []byte(schemaVersion))
	case string(v) == "1":
		if err := fillRevokedIndex(tx); err != nil {
			return fmt.Errorf("upgrade schema 1 to %s: %w", schemaVersion, err)
		}
		return meta.Put(keySchemaVersion, []byte(schemaVersion))
	case string(v) != schemaVersion:
		return fmt.Errorf("schema version %q, this build reads only %q", v, schemaVersion)
	}
	return nil
}

// fillRevokedIndex files every revoked record in idx_revoked, which schema
// 1 did not have (see buckets.go).
func fillRevokedIndex(tx *bbolt.Tx) error {
	idx := tx.Bucket(bucketIdxRevoked)
	return tx.Bucket(bucketCerts).ForEach(func(sk, v []byte) error {
		rec, err := decodeRecord(sk, v)
		if err != nil {
			return err
		}
		if rec.Status != store.StatusRevoked {
			return nil
		}
		return idx.Put(sk, []byte{})
	})
}

// Close waits for calls in flight and closes the file. Closing again is a
// no-op; every other call on a closed Store returns store.ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		return nil
	}
	err := s.db.Close()
	s.db = nil
	if err != nil {
		return fmt.Errorf("store: bolt: close %s: %w", s.path, err)
	}
	return nil
}

// update runs fn in one durable read-write transaction. The context is only
// checked before starting: once a write begins it commits or rolls back as
// a whole, never half-way because a client went away.
func (s *Store) update(ctx context.Context, fn func(tx *bbolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return store.ErrClosed
	}
	return s.writes.do(fn)
}

// view runs fn in a read-only transaction.
func (s *Store) view(ctx context.Context, fn func(tx *bbolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return store.ErrClosed
	}
	return s.db.View(fn)
}
