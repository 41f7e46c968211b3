package bolt

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	bbolt "go.etcd.io/bbolt"

	"github.com/certgate/certgate/store"
)

var _ store.Cache = (*Store)(nil)

// GetBlob implements store.Cache. The blob returned is the caller's.
func (s *Store) GetBlob(ctx context.Context, kind store.BlobKind, key string) (*store.Blob, error) {
	bucket, err := blobLocation(kind, key)
	if err != nil {
		return nil, fmt.Errorf("store: bolt: get blob %s %q: %w", kind, key, err)
	}
	var b *store.Blob
	err = s.view(ctx, func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucket).Get([]byte(key))
		if v == nil {
			return store.ErrNotFound
		}
		// Unmarshal copies out of the mmap, which is only valid inside tx.
		var err error
		b, err = decodeBlob(v)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: bolt: get blob %s %q: %w", kind, key, err)
	}
	return b, nil
}

// PutBlob implements store.Cache. The write is durable when it returns, so
// a restarted server answers from the cache instead of re-signing.
func (s *Store) PutBlob(ctx context.Context, kind store.BlobKind, key string, b *store.Blob) error {
	bucket, err := blobLocation(kind, key)
	if err == nil && b == nil {
		err = fmt.Errorf("nil blob: %w", store.ErrInvalid)
	}
	if err != nil {
		return fmt.Errorf("store: bolt: put blob %s %q: %w", kind, key, err)
	}
	v, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("store: bolt: put blob %s %q: encode: %w", kind, key, err)
	}
	err = s.update(ctx, func(tx *bbolt.Tx) error {
		return tx.Bucket(bucket).Put([]byte(key), v)
	})
	if err != nil {
		return fmt.Errorf("store: bolt: put blob %s %q: %w", kind, key, err)
	}
	return nil
}

// DeleteBlob implements store.Cache.
func (s *Store) DeleteBlob(ctx context.Context, kind store.BlobKind, key string) error {
	bucket, err := blobLocation(kind, key)
	if err != nil {
		return fmt.Errorf("store: bolt: delete blob %s %q: %w", kind, key, err)
	}
	err = s.update(ctx, func(tx *bbolt.Tx) error {
		// Deleting a missing key is a no-op in bbolt, as the contract wants.
		return tx.Bucket(bucket).Delete([]byte(key))
	})
	if err != nil {
		return fmt.Errorf("store: bolt: delete blob %s %q: %w", kind, key, err)
	}
	return nil
}

// RangeBlobs implements store.Cache. Keys come in byte order. fn runs
// inside one read transaction, so it sees a consistent snapshot; that is
// also why it must not call back into the store (bbolt can deadlock when a
// goroutine holding a read transaction starts a write).
func (s *Store) RangeBlobs(ctx context.Context, kind store.BlobKind, fn func(key string, b *store.Blob) bool) error {
	if !slices.Contains(blobKinds, kind) {
		return fmt.Errorf("store: bolt: range blobs %s: %w", kind, errUnknownKind(kind))
	}
	if fn == nil {
		return fmt.Errorf("store: bolt: range blobs %s: nil func: %w", kind, store.ErrInvalid)
	}
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		c := tx.Bucket(blobBucket(kind)).Cursor()
		n := 0
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if n++; n%ctxCheckEvery == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			b, err := decodeBlob(v)
			if err != nil {
				return fmt.Errorf("key %q: %w", k, err)
			}
			if !fn(string(k), b) {
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: bolt: range blobs %s: %w", kind, err)
	}
	return nil
}

// blobLocation checks kind and key and returns the bucket they live in.
func blobLocation(kind store.BlobKind, key string) ([]byte, error) {
	if !slices.Contains(blobKinds, kind) {
		return nil, errUnknownKind(kind)
	}
	if err := checkKey("key", key); err != nil {
		return nil, err
	}
	return blobBucket(kind), nil
}

func errUnknownKind(kind store.BlobKind) error {
	return fmt.Errorf("unknown blob kind %q: %w", kind, store.ErrInvalid)
}

// checkKey refuses keys bbolt cannot hold: empty ones (bbolt's
// ErrKeyRequired) and ones over bbolt.MaxKeySize.
func checkKey(what, key string) error {
	switch {
	case key == "":
		return fmt.Errorf("empty %s: %w", what, store.ErrInvalid)
	case len(key) > bbolt.MaxKeySize:
		return fmt.Errorf("%s is %d bytes, the limit is %d: %w", what, len(key), bbolt.MaxKeySize, store.ErrInvalid)
	}
	return nil
}

func decodeBlob(v []byte) (*store.Blob, error) {
	b := new(store.Blob)
	if err := json.Unmarshal(v, b); err != nil {
		return nil, fmt.Errorf("decode blob: %w", err)
	}
	return b, nil
}
