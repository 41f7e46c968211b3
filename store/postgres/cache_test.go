package postgres

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/certgate/certgate/store"
)

// TestCacheInvalidPostgres covers what only this backend refuses: kinds
// it does not keep and keys over maxKeyLen.
func TestCacheInvalidPostgres(t *testing.T) {
	s := openTest(t, Options{})
	defer s.Close()
	ctx := context.Background()
	long := strings.Repeat("k", maxKeyLen+1)
	blob := &store.Blob{Data: []byte{1}}
	for _, tc := range []struct {
		name    string
		call    func() error
		wantMsg string
	}{
		{"fail/put unknown kind", func() error { return s.PutBlob(ctx, "ocps", "k", blob) }, `store: postgres: put blob ocps "k": unknown blob kind "ocps"`},
		{"fail/get unknown kind", func() error { _, err := s.GetBlob(ctx, "ocps", "k"); return err }, `unknown blob kind "ocps"`},
		{"fail/range unknown kind", func() error {
			return s.RangeBlobs(ctx, "ocps", func(string, *store.Blob) bool { return true })
		}, `store: postgres: range blobs ocps: unknown blob kind "ocps"`},
		{"fail/range nil func", func() error { return s.RangeBlobs(ctx, store.BlobCRL, nil) }, "nil func"},
		{"fail/put key over the limit", func() error { return s.PutBlob(ctx, store.BlobOCSP, long, blob) }, "key is 2049 bytes, the limit is 2048"},
		{"fail/sequence name over the limit", func() error { _, err := s.NextSequence(ctx, long); return err }, "sequence name is 2049 bytes"},
		{"fail/empty key names what is empty", func() error { return s.PutBlob(ctx, store.BlobCRL, "", blob) }, `store: postgres: put blob crl "": empty key`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("error = %v, want ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("error = %q, want it to contain %q", err, tc.wantMsg)
			}
		})
	}
}

// TestLongestKeys checks that keys and names of maxKeyLen bytes, even
// incompressible ones, fit the btree.
func TestLongestKeys(t *testing.T) {
	s := openTest(t, Options{})
	defer s.Close()
	ctx := context.Background()
	key := make([]byte, maxKeyLen)
	state := uint32(1)
	for i := range key {
		// xorshift: incompressible, so TOAST cannot shrink the entry.
		state ^= state << 13
		state ^= state >> 17
		state ^= state << 5
		key[i] = byte(state)
	}
	if err := s.PutBlob(ctx, store.BlobOCSP, string(key), &store.Blob{Data: []byte{1}}); err != nil {
		t.Fatalf("PutBlob with a %d-byte key: %v", maxKeyLen, err)
	}
	if _, err := s.GetBlob(ctx, store.BlobOCSP, string(key)); err != nil {
		t.Fatalf("GetBlob with a %d-byte key: %v", maxKeyLen, err)
	}
	if _, err := s.NextSequence(ctx, string(key)); err != nil {
		t.Fatalf("NextSequence with a %d-byte name: %v", maxKeyLen, err)
	}
}

// TestRangeAcrossPages checks the keyset paging of RangeBlobs: every key
// once, in order, across page boundaries, and an early stop.
func TestRangeAcrossPages(t *testing.T) {
	s := openTest(t, Options{})
	defer s.Close()
	ctx := context.Background()
	const n = 2*rangePage + 3
	for i := range n {
		key := string([]byte{byte(i >> 8), byte(i)})
		if err := s.PutBlob(ctx, store.BlobOCSP, key, &store.Blob{Data: []byte{byte(i)}}); err != nil {
			t.Fatalf("PutBlob: %v", err)
		}
	}
	for _, tc := range []struct {
		name     string
		stop     int
		wantSeen int
	}{
		{"ok/all pages", -1, n},
		{"ok/stop on the first key of the second page", rangePage + 1, rangePage + 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seen := 0
			err := s.RangeBlobs(ctx, store.BlobOCSP, func(key string, b *store.Blob) bool {
				if want := string([]byte{byte(seen >> 8), byte(seen)}); key != want || b.Data[0] != byte(seen) {
					t.Fatalf("blob %d: key %x, data %x; want key %x", seen, key, b.Data, want)
				}
				seen++
				return seen != tc.stop
			})
			if err != nil {
				t.Fatalf("RangeBlobs: %v", err)
			}
			if seen != tc.wantSeen {
				t.Fatalf("fn called %d times, want %d", seen, tc.wantSeen)
			}
		})
	}
}

// TestSequenceExhausted pins the one place this backend differs from
// bbolt's: the counter is a bigint.
func TestSequenceExhausted(t *testing.T) {
	dsn := newDatabase(t)
	s, err := Open(context.Background(), Options{DSN: dsn})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	adminExec(t, dsn, `INSERT INTO sequences (name, last) VALUES ('crl/full', 9223372036854775806)`)
	if n, err := s.NextSequence(context.Background(), "crl/full"); err != nil || n != 1<<63-1 {
		t.Fatalf("NextSequence = %d, %v; want %d", n, err, uint64(1<<63-1))
	}
	if _, err := s.NextSequence(context.Background(), "crl/full"); !errors.Is(err, store.ErrConflict) || !strings.Contains(err.Error(), "sequence exhausted") {
		t.Fatalf("NextSequence past the bigint maximum: error = %v, want ErrConflict (sequence exhausted)", err)
	}
}

func TestCloseTwice(t *testing.T) {
	s := openTest(t, Options{})
	if err := s.Close(); err != nil {
		t.Fatalf("first Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"fail/cert", func() error { _, err := s.Cert(context.Background(), bigSerial(1)); return err }},
		{"fail/search past the largest serial", func() error {
			_, err := s.Search(context.Background(), store.Query{After: strings.Repeat("ff", 21)})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); !errors.Is(err, store.ErrClosed) {
				t.Fatalf("error = %v, want ErrClosed", err)
			}
		})
	}
}

// TestDueBlobs: only blobs of the kind whose RefreshAt has come, the
// longest overdue first, at most limit.
func TestDueBlobs(t *testing.T) {
	st := openTest(t, Options{})
	defer st.Close()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	for key, at := range map[string]time.Duration{"late": -time.Hour, "later": -2 * time.Hour, "now": 0, "future": time.Hour} {
		if err := st.PutBlob(ctx, store.BlobOCSP, key, &store.Blob{Data: []byte{1}, RefreshAt: now.Add(at)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.PutBlob(ctx, store.BlobCRL, "late", &store.Blob{Data: []byte{1}, RefreshAt: now.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	got, err := st.DueBlobs(ctx, store.BlobOCSP, now, 10)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "later,late,now" {
		t.Fatalf("due: %q, want later,late,now", got)
	}
	if got, _ := st.DueBlobs(ctx, store.BlobOCSP, now, 1); len(got) != 1 || got[0] != "later" {
		t.Fatalf("limit 1: %q", got)
	}
	if _, err := st.DueBlobs(ctx, "nope", now, 1); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("unknown kind: %v", err)
	}
}
