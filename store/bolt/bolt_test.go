package bolt

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/certgate/certgate/store"
	"github.com/certgate/certgate/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return openTemp(t, Options{})
	})
}

func TestCacheConformance(t *testing.T) {
	dir := t.TempDir()
	storetest.RunCache(t, func(t *testing.T, db string) storetest.CacheStore {
		s, err := Open(filepath.Join(dir, db+".db"), Options{})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

// openTemp opens a new store in t's temp dir; the caller closes it.
func openTemp(t *testing.T, opts Options) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "certgate.db"), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func testRecord(serial int64) *store.CertRecord {
	return &store.CertRecord{
		Serial:     bigInt(serial),
		Subject:    "CN=host-" + string(rune('a'+serial%26)),
		CommonName: "host",
		NotAfter:   t0.Add(90 * 24 * time.Hour),
		Profile:    "device",
		Protocol:   "est",
		CreatedAt:  t0,
	}
}

func issue(t *testing.T, s *Store, r *store.CertRecord) {
	t.Helper()
	ctx := context.Background()
	if err := s.Reserve(ctx, r); err != nil {
		t.Fatalf("Reserve: %v", err)
	}
	i := *r
	i.DER = []byte{0x30, 0x03, 0x02, 0x01, 0x01}
	i.IssuedAt = t0
	if err := s.Issue(ctx, &i); err != nil {
		t.Fatalf("Issue: %v", err)
	}
}

func TestReopenKeepsRecords(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "certgate.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	issue(t, s, testRecord(1))
	issue(t, s, testRecord(2))
	if _, err := s.Revoke(ctx, bigInt(2), store.ReasonKeyCompromise, t0); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if err := s.Reserve(ctx, testRecord(3)); err != nil {
		t.Fatalf("Reserve: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s, err = Open(path, Options{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	want := map[int64]store.Status{1: store.StatusValid, 2: store.StatusRevoked, 3: store.StatusReserved}
	for serial, status := range want {
		got, err := s.Cert(ctx, bigInt(serial))
		if err != nil {
			t.Fatalf("Cert %d after reopen: %v", serial, err)
		}
		if got.Status != status {
			t.Errorf("serial %d: Status = %q, want %q", serial, got.Status, status)
		}
	}
	// The reservation index must survive too, or a reopened server would
	// hand the serial out again.
	if err := s.Reserve(ctx, testRecord(3)); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("Reserve of a reserved serial after reopen: error = %v, want ErrConflict", err)
	}
}

func TestOpenLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "certgate.db")
	first, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	second, err := Open(path, Options{Timeout: 100 * time.Millisecond})
	if err == nil {
		second.Close()
		t.Fatalf("second Open of a locked file succeeded")
	}
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("error = %v, want ErrLocked", err)
	}
	want := "store: bolt: database " + path + " is locked by another process (is certgate serve running?)"
	if err.Error() != want {
		t.Fatalf("error = %q, want %q", err, want)
	}
	if err := first.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// Close must release the lock.
	third, err := Open(path, Options{Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	third.Close()
}

func TestFileMode(t *testing.T) {
	s := openTemp(t, Options{})
	defer s.Close()
	fi, err := os.Stat(s.path)
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Fatalf("mode = %o, want 600", got)
	}
}

func TestCloseTwice(t *testing.T) {
	s := openTemp(t, Options{})
	if err := s.Close(); err != nil {
		t.Fatalf("first Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := s.Cert(context.Background(), bigInt(1)); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("Cert after Close: error = %v, want ErrClosed", err)
	}
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name string
		// setup prepares dir and returns the path to open.
		setup func(t *testing.T, dir string) string
		want  string
	}{
		{"fail/directory missing", func(t *testing.T, dir string) string {
			return filepath.Join(dir, "missing", "certgate.db")
		}, "no such file or directory"},
		{"fail/not a bbolt file", func(t *testing.T, dir string) string {
			path := filepath.Join(dir, "certgate.db")
			if err := os.WriteFile(path, []byte(strings.Repeat("not a database ", 1000)), 0o600); err != nil {
				t.Fatal(err)
			}
			return path
		}, "invalid"},
		{"fail/newer schema", func(t *testing.T, dir string) string {
			path := filepath.Join(dir, "certgate.db")
			db, err := bbolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			err = db.Update(func(tx *bbolt.Tx) error {
				b, err := tx.CreateBucket(bucketMeta)
				if err != nil {
					return err
				}
				return b.Put(keySchemaVersion, []byte("3"))
			})
			if err != nil {
				t.Fatal(err)
			}
			return path
		}, `schema version "3", this build reads only "2"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.setup(t, t.TempDir())
			s, err := Open(path, Options{})
			if err == nil {
				s.Close()
				t.Fatalf("Open succeeded")
			}
			prefix := "store: bolt: open " + path + ": "
			if !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %q, want prefix %q and %q", err, prefix, tt.want)
			}
		})
	}
}

// TestOptionsNow checks that every defaulted time comes from Options.Now.
func TestOptionsNow(t *testing.T) {
	clock := t0.Add(42 * time.Minute)
	s := openTemp(t, Options{Now: func() time.Time { return clock }})
	defer s.Close()
	ctx := context.Background()

	r := testRecord(7)
	r.CreatedAt = time.Time{}
	if err := s.Reserve(ctx, r); err != nil {
		t.Fatalf("Reserve: %v", err)
	}
	i := *r
	i.DER = []byte{1}
	if err := s.Issue(ctx, &i); err != nil {
		t.Fatalf("Issue: %v", err)
	}
	got, err := s.Revoke(ctx, r.Serial, store.ReasonSuperseded, time.Time{})
	if err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	for _, f := range []struct {
		name string
		got  time.Time
	}{{"CreatedAt", got.CreatedAt}, {"IssuedAt", got.IssuedAt}, {"RevokedAt", got.RevokedAt}} {
		if !f.got.Equal(clock) {
			t.Errorf("%s = %v, want Options.Now() %v", f.name, f.got, clock)
		}
	}
}
