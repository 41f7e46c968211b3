package bolt

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/certgate/certgate/store"
)

// TestCacheInvalidBolt covers what only this backend refuses: kinds
// without a bucket and keys over bbolt's key limit.
func TestCacheInvalidBolt(t *testing.T) {
	s := openTemp(t, Options{})
	defer s.Close()
	ctx := context.Background()
	long := strings.Repeat("k", bbolt.MaxKeySize+1)
	blob := &store.Blob{Data: []byte{1}}
	for _, tc := range []struct {
		name    string
		call    func() error
		wantMsg string
	}{
		{"fail/put unknown kind", func() error { return s.PutBlob(ctx, "ocps", "k", blob) }, `store: bolt: put blob ocps "k": unknown blob kind "ocps"`},
		{"fail/get unknown kind", func() error { _, err := s.GetBlob(ctx, "ocps", "k"); return err }, `unknown blob kind "ocps"`},
		{"fail/range unknown kind", func() error {
			return s.RangeBlobs(ctx, "ocps", func(string, *store.Blob) bool { return true })
		}, `store: bolt: range blobs ocps: unknown blob kind "ocps"`},
		{"fail/range nil func", func() error { return s.RangeBlobs(ctx, store.BlobCRL, nil) }, "nil func"},
		{"fail/put key over the bbolt limit", func() error { return s.PutBlob(ctx, store.BlobOCSP, long, blob) }, "key is 32769 bytes, the limit is 32768"},
		{"fail/sequence name over the bbolt limit", func() error { _, err := s.NextSequence(ctx, long); return err }, "sequence name is 32769 bytes"},
		{"fail/empty key names what is empty", func() error { return s.PutBlob(ctx, store.BlobCRL, "", blob) }, `store: bolt: put blob crl "": empty key`},
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
	// The largest key bbolt takes is fine.
	if err := s.PutBlob(ctx, store.BlobOCSP, long[1:], blob); err != nil {
		t.Fatalf("PutBlob with a %d-byte key: %v", bbolt.MaxKeySize, err)
	}
}

// TestSequenceStartsAtOne pins the numbering: CRL number 1 is the first
// CRL a CA publishes, and each name counts on its own.
func TestSequenceStartsAtOne(t *testing.T) {
	s := openTemp(t, Options{})
	defer s.Close()
	var got []uint64
	for _, name := range []string{"crl/a", "crl/a", "crl/b", "crl/a"} {
		n, err := s.NextSequence(context.Background(), name)
		if err != nil {
			t.Fatalf("NextSequence %s: %v", name, err)
		}
		got = append(got, n)
	}
	if want := []uint64{1, 2, 1, 3}; !slices.Equal(got, want) {
		t.Fatalf("numbers = %v, want %v", got, want)
	}
}

// TestSequenceCorrupt checks that a damaged counter stops the sequence
// instead of restarting it at 1, which would repeat CRL numbers.
func TestSequenceCorrupt(t *testing.T) {
	for _, tc := range []struct {
		name  string
		value []byte
	}{
		{"fail/short value", []byte{0, 0, 0, 5}},
		{"fail/empty value", []byte{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openTemp(t, Options{})
			defer s.Close()
			err := s.db.Update(func(tx *bbolt.Tx) error {
				return tx.Bucket(bucketSequences).Put([]byte("crl/x"), tc.value)
			})
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.NextSequence(context.Background(), "crl/x")
			want := `store: bolt: next sequence "crl/x": stored sequence value is ` + strconv.Itoa(len(tc.value)) + " bytes, want 8"
			if err == nil || err.Error() != want {
				t.Fatalf("error = %v, want %q", err, want)
			}
		})
	}
}

// TestOpenAddsCacheBuckets opens a schema-1 file written before the blob
// and sequence buckets existed: Open must add them (and upgrade the file
// to schema 2, see TestOpenUpgradesSchema1).
func TestOpenAddsCacheBuckets(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	rawUpdate(t, path, func(tx *bbolt.Tx) error {
		for _, name := range []string{"meta", "certs", "idx_expiry", "idx_subject", "idx_device"} {
			if _, err := tx.CreateBucket([]byte(name)); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keySchemaVersion, []byte("1"))
	})

	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open of a file without cache buckets: %v", err)
	}
	defer s.Close()
	ctx := context.Background()
	if err := s.PutBlob(ctx, store.BlobCRL, "certgate", &store.Blob{Data: []byte{1}}); err != nil {
		t.Fatalf("PutBlob: %v", err)
	}
	if n, err := s.NextSequence(ctx, "crl/certgate"); err != nil || n != 1 {
		t.Fatalf("NextSequence = %d, %v; want 1, nil", n, err)
	}
	err = s.db.View(func(tx *bbolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(keySchemaVersion); string(v) != schemaVersion {
			t.Errorf("schema_version = %q, want %s", v, schemaVersion)
		}
		for _, name := range []string{"blobs_ocsp", "blobs_crl", "sequences"} {
			if tx.Bucket([]byte(name)) == nil {
				t.Errorf("bucket %s missing after Open", name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestBlobLayout pins the documented on-disk form: bucket blobs_<kind>,
// key as given, JSON value; sequences as 8 big-endian bytes.
func TestBlobLayout(t *testing.T) {
	s := openTemp(t, Options{})
	defer s.Close()
	ctx := context.Background()
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	b := &store.Blob{Data: []byte{0x30, 0x00}, ThisUpdate: at, NextUpdate: at.Add(time.Hour), RefreshAt: at.Add(30 * time.Minute), Status: "good"}
	if err := s.PutBlob(ctx, store.BlobOCSP, "ca/01", b); err != nil {
		t.Fatal(err)
	}
	if _, err := s.NextSequence(ctx, "crl/ca"); err != nil {
		t.Fatal(err)
	}
	err := s.db.View(func(tx *bbolt.Tx) error {
		wantBlob := `{"data":"MAA=","this_update":"2026-05-01T12:00:00Z","next_update":"2026-05-01T13:00:00Z","refresh_at":"2026-05-01T12:30:00Z","status":"good"}`
		if got := tx.Bucket([]byte("blobs_ocsp")).Get([]byte("ca/01")); string(got) != wantBlob {
			t.Errorf("blob value = %s, want %s", got, wantBlob)
		}
		if got := tx.Bucket([]byte("sequences")).Get([]byte("crl/ca")); string(got) != "\x00\x00\x00\x00\x00\x00\x00\x01" {
			t.Errorf("sequence value = %x, want 0000000000000001", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
