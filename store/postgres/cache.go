package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/certgate/certgate/store"
)

// blobKinds are the store.BlobKind values the store keeps; any other kind
// is store.ErrInvalid, as in the bbolt backend, so a typo cannot file blobs
// where nothing reads them.
var blobKinds = []store.BlobKind{store.BlobOCSP, store.BlobCRL}

// maxKeyLen caps blob keys and sequence names. They are bytea primary keys,
// and a btree entry must fit in a third of a page (about 2.7 kB); OCSP keys
// (issuer name, serial, hash) and CA names are far shorter.
const maxKeyLen = 2048

// rangePage is how many blobs RangeBlobs reads per query.
const rangePage = 256

// GetBlob implements store.Cache.
func (s *Store) GetBlob(ctx context.Context, kind store.BlobKind, key string) (*store.Blob, error) {
	if err := checkBlobKey(kind, key); err != nil {
		return nil, fmt.Errorf("store: postgres: get blob %s %q: %w", kind, key, err)
	}
	var b *store.Blob
	err := s.do(ctx, func(pool *pgxpool.Pool) error {
		var err error
		b, err = scanBlob(pool.QueryRow(ctx, `SELECT data, this_update, next_update, refresh_at, status
			FROM blobs WHERE kind = $1 AND key = $2`, string(kind), []byte(key)))
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrNotFound
		}
		return err
	})
	if err != nil {
		return nil, s.wrap(fmt.Sprintf("get blob %s %q", kind, key), err)
	}
	return b, nil
}

// PutBlob implements store.Cache. The upsert has committed when it returns,
// so every replica, and a restarted one, answers from it. A CRL put is
// announced to the replicas that Listen.
func (s *Store) PutBlob(ctx context.Context, kind store.BlobKind, key string, b *store.Blob) error {
	err := checkBlobKey(kind, key)
	if err == nil && b == nil {
		err = fmt.Errorf("nil blob: %w", store.ErrInvalid)
	}
	if err != nil {
		return fmt.Errorf("store: postgres: put blob %s %q: %w", kind, key, err)
	}
	data := b.Data
	if data == nil {
		data = []byte{}
	}
	err = s.do(ctx, func(pool *pgxpool.Pool) error {
		_, err := pool.Exec(ctx, `INSERT INTO blobs (kind, key, data, this_update, next_update, refresh_at, status)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (kind, key) DO UPDATE SET data = excluded.data, this_update = excluded.this_update,
				next_update = excluded.next_update, refresh_at = excluded.refresh_at, status = excluded.status`,
			string(kind), []byte(key), data, nullTime(b.ThisUpdate), nullTime(b.NextUpdate), nullTime(b.RefreshAt), cleanText(b.Status))
		if err == nil && kind == store.BlobCRL {
			// Tell the other replicas at once that a new CRL is there
			// (Listen); they also look for one now and then.
			_, _ = pool.Exec(ctx, `SELECT pg_notify($1, $2)`, crlChannel, key)
		}
		return err
	})
	return s.wrap(fmt.Sprintf("put blob %s %q", kind, key), err)
}

// DeleteBlob implements store.Cache. Deleting a missing blob deletes no
// row, which is not an error.
func (s *Store) DeleteBlob(ctx context.Context, kind store.BlobKind, key string) error {
	if err := checkBlobKey(kind, key); err != nil {
		return fmt.Errorf("store: postgres: delete blob %s %q: %w", kind, key, err)
	}
	err := s.do(ctx, func(pool *pgxpool.Pool) error {
		_, err := pool.Exec(ctx, `DELETE FROM blobs WHERE kind = $1 AND key = $2`, string(kind), []byte(key))
		return err
	})
	return s.wrap(fmt.Sprintf("delete blob %s %q", kind, key), err)
}

// RangeBlobs implements store.Cache. Keys come in byte order (bytea
// order). It reads rangePage blobs per query, keyed on the last key seen,
// and calls fn between queries, so fn holds no connection and stopping
// early costs at most one page. The price is that each page is its own
// snapshot: a blob put or deleted during the walk may or may not be seen,
// while every blob present throughout is seen exactly once.
func (s *Store) RangeBlobs(ctx context.Context, kind store.BlobKind, fn func(key string, b *store.Blob) bool) error {
	if !slices.Contains(blobKinds, kind) {
		return fmt.Errorf("store: postgres: range blobs %s: %w", kind, errUnknownKind(kind))
	}
	if fn == nil {
		return fmt.Errorf("store: postgres: range blobs %s: nil func: %w", kind, store.ErrInvalid)
	}
	after := []byte{}
	for {
		var keys [][]byte
		var blobs []*store.Blob
		err := s.do(ctx, func(pool *pgxpool.Pool) error {
			rows, err := pool.Query(ctx, `SELECT key, data, this_update, next_update, refresh_at, status
				FROM blobs WHERE kind = $1 AND key > $2 ORDER BY key LIMIT $3`, string(kind), after, rangePage)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var key []byte
				b, err := scanBlob(rows, &key)
				if err != nil {
					return err
				}
				keys, blobs = append(keys, key), append(blobs, b)
			}
			return rows.Err()
		})
		if err != nil {
			return s.wrap(fmt.Sprintf("range blobs %s", kind), err)
		}
		for i, key := range keys {
			if !fn(string(key), blobs[i]) {
				return nil
			}
		}
		if len(keys) < rangePage {
			return nil
		}
		after = keys[len(keys)-1]
	}
}

// scanBlob reads data, this_update, next_update, refresh_at and status,
// after the columns given in first.
func scanBlob(row pgx.Row, first ...any) (*store.Blob, error) {
	var (
		b                 store.Blob
		this, next, renew *time.Time
	)
	if err := row.Scan(append(first, &b.Data, &this, &next, &renew, &b.Status)...); err != nil {
		return nil, err
	}
	b.ThisUpdate, b.NextUpdate, b.RefreshAt = fromNull(this), fromNull(next), fromNull(renew)
	return &b, nil
}

// checkBlobKey refuses kinds the store does not keep and keys it cannot.
func checkBlobKey(kind store.BlobKind, key string) error {
	if !slices.Contains(blobKinds, kind) {
		return errUnknownKind(kind)
	}
	return checkKey("key", key)
}

func errUnknownKind(kind store.BlobKind) error {
	return fmt.Errorf("unknown blob kind %q: %w", kind, store.ErrInvalid)
}

// checkKey refuses empty keys, which the other backend cannot hold either,
// and keys over maxKeyLen.
func checkKey(what, key string) error {
	switch {
	case key == "":
		return fmt.Errorf("empty %s: %w", what, store.ErrInvalid)
	case len(key) > maxKeyLen:
		return fmt.Errorf("%s is %d bytes, the limit is %d: %w", what, len(key), maxKeyLen, store.ErrInvalid)
	}
	return nil
}

// DueBlobs returns up to limit keys of kind whose RefreshAt is at or
// before at, the longest overdue first, so a refresher finds what to
// re-sign without reading every blob (ocsp.DueLister).
func (s *Store) DueBlobs(ctx context.Context, kind store.BlobKind, at time.Time, limit int) ([]string, error) {
	if !slices.Contains(blobKinds, kind) {
		return nil, fmt.Errorf("store: postgres: due blobs %s: %w", kind, errUnknownKind(kind))
	}
	var keys []string
	err := s.do(ctx, func(pool *pgxpool.Pool) error {
		rows, err := pool.Query(ctx, `SELECT key FROM blobs WHERE kind = $1 AND refresh_at <= $2
			ORDER BY refresh_at LIMIT $3`, string(kind), at, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var key []byte
			if err := rows.Scan(&key); err != nil {
				return err
			}
			keys = append(keys, string(key))
		}
		return rows.Err()
	})
	if err != nil {
		return nil, s.wrap(fmt.Sprintf("due blobs %s", kind), err)
	}
	return keys, nil
}
