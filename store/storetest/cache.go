package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/certgate/certgate/store"
)

// CacheStore is what RunCache checks: a backend's store.Cache and
// store.Sequencer, and Close.
type CacheStore interface {
	store.Cache
	store.Sequencer
	Close() error
}

// RunCache runs the suite for store.Cache and store.Sequencer. open must
// open the database named db: a db not opened before in this RunCache is
// empty, and opening a db again after closing it must show what was written
// to it (the suite checks that blobs and sequences survive a restart). db
// is lower-case letters, digits and dashes, usable as a file name. RunCache
// closes every store it opens.
//
// Contract checked here, beyond the store.Cache and store.Sequencer doc
// comments:
//   - An empty key or sequence name, an empty blob kind and a nil blob are
//     ErrInvalid; so is an unknown blob kind, for backends that refuse one
//     (the suite uses only store.BlobOCSP and store.BlobCRL otherwise).
//   - RangeBlobs visits keys in byte order, and a kind that holds no blob
//     is not an error.
//   - Blobs are values: neither the blob passed to PutBlob nor one returned
//     by GetBlob is shared with the store.
//   - Times survive to the second; instants are compared, not zones.
//   - A cancelled context fails the call with the context's error; after
//     Close every call fails with ErrClosed.
func RunCache(t *testing.T, open func(t *testing.T, db string) CacheStore) {
	c := cacheSuite{open: open}
	t.Run("blobs", c.testBlobs)
	t.Run("range", c.testRange)
	t.Run("invalid", c.testCacheInvalid)
	t.Run("sequence", c.testSequence)
	t.Run("restart", c.testRestart)
	t.Run("closed", c.testCacheClosed)
}

type cacheSuite struct {
	open func(t *testing.T, db string) CacheStore
}

// dbName turns a subtest name into a db name unique within the run.
func dbName(t *testing.T) string {
	var b []byte
	for _, r := range t.Name() {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b = append(b, byte(r))
		case r >= 'A' && r <= 'Z':
			b = append(b, byte(r-'A'+'a'))
		default:
			if len(b) > 0 && b[len(b)-1] != '-' {
				b = append(b, '-')
			}
		}
	}
	return string(b)
}

// fresh opens an empty store that is closed when t ends.
func (c cacheSuite) fresh(t *testing.T) CacheStore {
	t.Helper()
	st := c.open(t, dbName(t))
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return st
}

// testBlob is a blob whose fields all differ from the zero value; seed
// makes blobs distinguishable.
func testBlob(seed byte) *store.Blob {
	this := base.Add(time.Duration(seed) * time.Minute)
	return &store.Blob{
		Data: []byte{0x30, 0x03, 0x0a, 0x01, seed},
		// A zone other than UTC: backends must keep the instant.
		ThisUpdate: this.In(time.FixedZone("CET", 3600)),
		NextUpdate: this.Add(24 * time.Hour),
		RefreshAt:  this.Add(12 * time.Hour),
		Status:     fmt.Sprintf("status-%d", seed),
	}
}

// checkBlob fails t if got is not want.
func checkBlob(t *testing.T, what string, got, want *store.Blob) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: got nil blob", what)
	}
	if !bytes.Equal(got.Data, want.Data) || !got.ThisUpdate.Equal(want.ThisUpdate) ||
		!got.NextUpdate.Equal(want.NextUpdate) || !got.RefreshAt.Equal(want.RefreshAt) ||
		got.Status != want.Status {
		t.Fatalf("%s:\n got  %+v\n want %+v", what, *got, *want)
	}
}

func mustPutBlob(t *testing.T, st store.Cache, kind store.BlobKind, key string, b *store.Blob) {
	t.Helper()
	if err := st.PutBlob(context.Background(), kind, key, b); err != nil {
		t.Fatalf("PutBlob %s %q: %v", kind, key, err)
	}
}

func mustGetBlob(t *testing.T, st store.Cache, kind store.BlobKind, key string) *store.Blob {
	t.Helper()
	b, err := st.GetBlob(context.Background(), kind, key)
	if err != nil {
		t.Fatalf("GetBlob %s %q: %v", kind, key, err)
	}
	return b
}

func wantNoBlob(t *testing.T, st store.Cache, kind store.BlobKind, key string) {
	t.Helper()
	if _, err := st.GetBlob(context.Background(), kind, key); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetBlob %s %q: error = %v, want ErrNotFound", kind, key, err)
	}
}

func (c cacheSuite) testBlobs(t *testing.T) {
	ctx := context.Background()

	t.Run("ok/put then get keeps every field", func(t *testing.T) {
		st := c.fresh(t)
		for i, kind := range []store.BlobKind{store.BlobOCSP, store.BlobCRL} {
			want := testBlob(byte(i + 1))
			mustPutBlob(t, st, kind, "certgate", want)
			checkBlob(t, string(kind), mustGetBlob(t, st, kind, "certgate"), want)
		}
	})

	t.Run("ok/kinds do not share keys", func(t *testing.T) {
		st := c.fresh(t)
		mustPutBlob(t, st, store.BlobCRL, "certgate", testBlob(1))
		wantNoBlob(t, st, store.BlobOCSP, "certgate")
		if err := st.DeleteBlob(ctx, store.BlobOCSP, "certgate"); err != nil {
			t.Fatalf("DeleteBlob: %v", err)
		}
		checkBlob(t, "crl after deleting the ocsp key", mustGetBlob(t, st, store.BlobCRL, "certgate"), testBlob(1))
	})

	t.Run("ok/put replaces", func(t *testing.T) {
		st := c.fresh(t)
		mustPutBlob(t, st, store.BlobCRL, "certgate", testBlob(1))
		mustPutBlob(t, st, store.BlobCRL, "certgate", testBlob(2))
		checkBlob(t, "after replace", mustGetBlob(t, st, store.BlobCRL, "certgate"), testBlob(2))
	})

	t.Run("ok/binary key", func(t *testing.T) {
		st := c.fresh(t)
		key := "certgate\x00\xff\x01serial"
		mustPutBlob(t, st, store.BlobOCSP, key, testBlob(3))
		checkBlob(t, "binary key", mustGetBlob(t, st, store.BlobOCSP, key), testBlob(3))
		wantNoBlob(t, st, store.BlobOCSP, "certgate")
	})

	t.Run("ok/delete removes", func(t *testing.T) {
		st := c.fresh(t)
		mustPutBlob(t, st, store.BlobOCSP, "a", testBlob(1))
		mustPutBlob(t, st, store.BlobOCSP, "b", testBlob(2))
		if err := st.DeleteBlob(ctx, store.BlobOCSP, "a"); err != nil {
			t.Fatalf("DeleteBlob: %v", err)
		}
		wantNoBlob(t, st, store.BlobOCSP, "a")
		checkBlob(t, "the other key", mustGetBlob(t, st, store.BlobOCSP, "b"), testBlob(2))
	})

	t.Run("ok/delete missing is not an error", func(t *testing.T) {
		st := c.fresh(t)
		if err := st.DeleteBlob(ctx, store.BlobOCSP, "never-written"); err != nil {
			t.Fatalf("DeleteBlob of a missing key: %v", err)
		}
	})

	t.Run("fail/get missing", func(t *testing.T) {
		st := c.fresh(t)
		mustPutBlob(t, st, store.BlobCRL, "other", testBlob(1))
		wantNoBlob(t, st, store.BlobCRL, "certgate")
	})

	t.Run("ok/store keeps no reference to blobs passed in or out", func(t *testing.T) {
		st := c.fresh(t)
		in := testBlob(1)
		mustPutBlob(t, st, store.BlobCRL, "certgate", in)
		in.Data[0], in.Status = 0, "changed after PutBlob"
		out := mustGetBlob(t, st, store.BlobCRL, "certgate")
		out.Data[0], out.Status = 0, "changed after GetBlob"
		checkBlob(t, "after changing both copies", mustGetBlob(t, st, store.BlobCRL, "certgate"), testBlob(1))
	})
}

func (c cacheSuite) testRange(t *testing.T) {
	ctx := context.Background()
	// Byte order: upper case before lower case, a prefix before its
	// extensions, 0xff last.
	keys := []string{"B", "a", "a\x00", "a/b", "ab", "\xff"}

	fill := func(t *testing.T) CacheStore {
		st := c.fresh(t)
		// Written in reverse, so insertion order cannot pass for key order.
		for i := len(keys) - 1; i >= 0; i-- {
			mustPutBlob(t, st, store.BlobOCSP, keys[i], testBlob(byte(i)))
		}
		mustPutBlob(t, st, store.BlobCRL, "crl-only", testBlob(99))
		return st
	}

	t.Run("ok/every key of the kind in byte order", func(t *testing.T) {
		st := fill(t)
		var got []string
		err := st.RangeBlobs(ctx, store.BlobOCSP, func(key string, b *store.Blob) bool {
			checkBlob(t, "range "+key, b, testBlob(byte(slices.Index(keys, key))))
			got = append(got, key)
			return true
		})
		if err != nil {
			t.Fatalf("RangeBlobs: %v", err)
		}
		if !slices.Equal(got, keys) {
			t.Fatalf("keys = %q, want %q", got, keys)
		}
	})

	t.Run("ok/stops when fn returns false", func(t *testing.T) {
		st := fill(t)
		var got []string
		err := st.RangeBlobs(ctx, store.BlobOCSP, func(key string, _ *store.Blob) bool {
			got = append(got, key)
			return len(got) < 3
		})
		if err != nil {
			t.Fatalf("RangeBlobs: %v", err)
		}
		if !slices.Equal(got, keys[:3]) {
			t.Fatalf("keys = %q, want %q", got, keys[:3])
		}
	})

	t.Run("ok/deleted keys are skipped", func(t *testing.T) {
		st := fill(t)
		if err := st.DeleteBlob(ctx, store.BlobOCSP, "a/b"); err != nil {
			t.Fatalf("DeleteBlob: %v", err)
		}
		var got []string
		if err := st.RangeBlobs(ctx, store.BlobOCSP, func(key string, _ *store.Blob) bool {
			got = append(got, key)
			return true
		}); err != nil {
			t.Fatalf("RangeBlobs: %v", err)
		}
		want := slices.DeleteFunc(slices.Clone(keys), func(k string) bool { return k == "a/b" })
		if !slices.Equal(got, want) {
			t.Fatalf("keys = %q, want %q", got, want)
		}
	})

	t.Run("ok/empty kind calls nothing", func(t *testing.T) {
		st := c.fresh(t)
		mustPutBlob(t, st, store.BlobOCSP, "a", testBlob(1))
		calls := 0
		if err := st.RangeBlobs(ctx, store.BlobCRL, func(string, *store.Blob) bool { calls++; return true }); err != nil {
			t.Fatalf("RangeBlobs: %v", err)
		}
		if calls != 0 {
			t.Fatalf("fn called %d times on a kind with no blobs", calls)
		}
	})
}

func (c cacheSuite) testCacheInvalid(t *testing.T) {
	get := func(kind store.BlobKind, key string) func(ctx context.Context, st CacheStore) error {
		return func(ctx context.Context, st CacheStore) error {
			_, err := st.GetBlob(ctx, kind, key)
			return err
		}
	}
	put := func(kind store.BlobKind, key string, b *store.Blob) func(ctx context.Context, st CacheStore) error {
		return func(ctx context.Context, st CacheStore) error { return st.PutBlob(ctx, kind, key, b) }
	}
	del := func(kind store.BlobKind, key string) func(ctx context.Context, st CacheStore) error {
		return func(ctx context.Context, st CacheStore) error { return st.DeleteBlob(ctx, kind, key) }
	}
	rng := func(kind store.BlobKind) func(ctx context.Context, st CacheStore) error {
		return func(ctx context.Context, st CacheStore) error {
			return st.RangeBlobs(ctx, kind, func(string, *store.Blob) bool { return true })
		}
	}
	next := func(name string) func(ctx context.Context, st CacheStore) error {
		return func(ctx context.Context, st CacheStore) error {
			_, err := st.NextSequence(ctx, name)
			return err
		}
	}
	cancelled := func(call func(ctx context.Context, st CacheStore) error) func(ctx context.Context, st CacheStore) error {
		return func(ctx context.Context, st CacheStore) error {
			ctx, cancel := context.WithCancel(ctx)
			cancel()
			return call(ctx, st)
		}
	}
	for _, tc := range []struct {
		name string
		call func(ctx context.Context, st CacheStore) error
		want error
	}{
		{"fail/get with empty key", get(store.BlobCRL, ""), store.ErrInvalid},
		{"fail/put with empty key", put(store.BlobCRL, "", testBlob(1)), store.ErrInvalid},
		{"fail/delete with empty key", del(store.BlobCRL, ""), store.ErrInvalid},
		{"fail/get with empty kind", get("", "certgate"), store.ErrInvalid},
		{"fail/put with empty kind", put("", "certgate", testBlob(1)), store.ErrInvalid},
		{"fail/delete with empty kind", del("", "certgate"), store.ErrInvalid},
		{"fail/range with empty kind", rng(""), store.ErrInvalid},
		{"fail/put nil blob", put(store.BlobCRL, "certgate", nil), store.ErrInvalid},
		{"fail/next sequence with empty name", next(""), store.ErrInvalid},
		{"fail/get with cancelled context", cancelled(get(store.BlobCRL, "certgate")), context.Canceled},
		{"fail/put with cancelled context", cancelled(put(store.BlobCRL, "certgate", testBlob(1))), context.Canceled},
		{"fail/delete with cancelled context", cancelled(del(store.BlobCRL, "certgate")), context.Canceled},
		{"fail/range with cancelled context", cancelled(rng(store.BlobCRL)), context.Canceled},
		{"fail/next sequence with cancelled context", cancelled(next("crl/certgate")), context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := c.fresh(t)
			if err := tc.call(context.Background(), st); !errors.Is(err, tc.want) {
				t.Fatalf("error = %v, want %v", err, tc.want)
			}
			// Nothing may have been written, and the sequence must not
			// have moved: the next number is the one a fresh store gives.
			wantNoBlob(t, st, store.BlobCRL, "certgate")
			fresh := c.open(t, dbName(t)+"-fresh")
			defer fresh.Close()
			if got, want := mustNext(t, st, "crl/certgate"), mustNext(t, fresh, "crl/certgate"); got != want {
				t.Fatalf("after the failed call NextSequence = %d, a fresh store gives %d", got, want)
			}
		})
	}
}

func (c cacheSuite) testCacheClosed(t *testing.T) {
	st := c.open(t, dbName(t))
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"fail/get", func() error { _, err := st.GetBlob(ctx, store.BlobCRL, "certgate"); return err }},
		{"fail/put", func() error { return st.PutBlob(ctx, store.BlobCRL, "certgate", testBlob(1)) }},
		{"fail/delete", func() error { return st.DeleteBlob(ctx, store.BlobCRL, "certgate") }},
		{"fail/range", func() error {
			return st.RangeBlobs(ctx, store.BlobCRL, func(string, *store.Blob) bool { return true })
		}},
		{"fail/next sequence", func() error { _, err := st.NextSequence(ctx, "crl/certgate"); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); !errors.Is(err, store.ErrClosed) {
				t.Fatalf("error = %v, want ErrClosed", err)
			}
		})
	}
}
