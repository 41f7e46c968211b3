package postgres

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/certgate/certgate/store"
)

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func bigSerial(n int64) *big.Int { return big.NewInt(n) }

// TestTextIsCleaned checks what PostgreSQL text cannot hold: NUL and
// invalid UTF-8 become U+FFFD (as the bbolt backend's JSON does to invalid
// UTF-8) instead of failing the write, and searches see the cleaned text.
func TestTextIsCleaned(t *testing.T) {
	s := openTest(t, Options{})
	defer s.Close()
	ctx := context.Background()
	sn := bigSerial(0x7e47)
	r := &store.CertRecord{
		Serial: sn, Subject: "CN=evil\x00.example.com", CommonName: "bad\xffutf8",
		DNSNames: []string{"a\x00b"}, DeviceID: "dev\x00", NotAfter: t0,
	}
	if err := s.Reserve(ctx, r); err != nil {
		t.Fatalf("Reserve: %v", err)
	}
	got, err := s.Cert(ctx, sn)
	if err != nil {
		t.Fatalf("Cert: %v", err)
	}
	for _, f := range []struct{ name, got, want string }{
		{"Subject", got.Subject, "CN=evil\uFFFD.example.com"},
		{"CommonName", got.CommonName, "bad\uFFFDutf8"},
		{"DNSNames[0]", got.DNSNames[0], "a\uFFFDb"},
		{"DeviceID", got.DeviceID, "dev\uFFFD"},
	} {
		if f.got != f.want {
			t.Errorf("%s = %q, want %q", f.name, f.got, f.want)
		}
	}
	for _, q := range []store.Query{
		{Status: store.StatusReserved, Subject: "EVIL\x00.EXAMPLE"},
		{Status: store.StatusReserved, DeviceID: "dev\x00"},
	} {
		recs, err := s.Search(ctx, q)
		if err != nil || len(recs) != 1 {
			t.Errorf("Search(%+v) = %d records, %v; want the record", q, len(recs), err)
		}
	}
}

// TestZeroTimes checks that unset times come back zero, and that a record
// without NotAfter sorts before every expiry, as in the bbolt backend.
func TestZeroTimes(t *testing.T) {
	s := openTest(t, Options{Now: func() time.Time { return t0 }})
	defer s.Close()
	ctx := context.Background()
	sn := bigSerial(0x2e50)
	if err := s.Reserve(ctx, &store.CertRecord{Serial: sn}); err != nil {
		t.Fatalf("Reserve: %v", err)
	}
	got, err := s.Cert(ctx, sn)
	if err != nil {
		t.Fatalf("Cert: %v", err)
	}
	for _, f := range []struct {
		name string
		t    time.Time
	}{{"NotBefore", got.NotBefore}, {"NotAfter", got.NotAfter}, {"IssuedAt", got.IssuedAt}, {"RevokedAt", got.RevokedAt}} {
		if !f.t.IsZero() {
			t.Errorf("%s = %v, want zero", f.name, f.t)
		}
	}
	recs, err := s.Search(ctx, store.Query{Status: store.StatusReserved, ExpiresBefore: time.Unix(0, 0)})
	if err != nil || len(recs) != 1 {
		t.Fatalf("Search expiring before 1970 = %d records, %v; want the record without NotAfter", len(recs), err)
	}
}

// TestOptionsNow checks that every defaulted time comes from Options.Now.
func TestOptionsNow(t *testing.T) {
	clock := t0.Add(42 * time.Minute)
	s := openTest(t, Options{Now: func() time.Time { return clock }})
	defer s.Close()
	ctx := context.Background()
	r := &store.CertRecord{Serial: bigSerial(7), NotAfter: t0}
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

// TestCancelWhileBlocked checks that a call blocked in the database (here
// on a row lock another session holds) returns when its context is
// cancelled instead of hanging, and that the server abandoned the
// statement: once the lock is released, nothing was revoked.
func TestCancelWhileBlocked(t *testing.T) {
	dsn := newDatabase(t)
	s, err := Open(context.Background(), Options{DSN: dsn})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	bg := context.Background()
	sn := bigSerial(0x10c4)
	if err := s.Reserve(bg, &store.CertRecord{Serial: sn, NotAfter: t0}); err != nil {
		t.Fatalf("Reserve: %v", err)
	}
	if err := s.Issue(bg, &store.CertRecord{Serial: sn, NotAfter: t0, DER: []byte{1}}); err != nil {
		t.Fatalf("Issue: %v", err)
	}

	locker, err := pgx.Connect(bg, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer locker.Close(bg)
	tx, err := locker.Begin(bg)
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	defer tx.Rollback(bg)
	if _, err := tx.Exec(bg, `SELECT 1 FROM certs FOR UPDATE`); err != nil {
		t.Fatalf("lock: %v", err)
	}

	watcher, err := pgx.Connect(bg, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer watcher.Close(bg)
	ctx, cancel := context.WithCancel(bg)
	done := make(chan struct{})
	defer func() { cancel(); <-done }()
	go func() {
		defer close(done)
		// Cancel once Revoke waits on the lock, not before.
		for ctx.Err() == nil {
			var waiting bool
			err := watcher.QueryRow(bg, `SELECT count(*) > 0 FROM pg_stat_activity
				WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting)
			if err != nil || waiting {
				cancel()
			}
		}
	}()
	_, err = s.Revoke(ctx, sn, store.ReasonKeyCompromise, t0)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Revoke blocked on a lock, then cancelled: error = %v, want context.Canceled", err)
	}
	if !strings.HasPrefix(err.Error(), "store: postgres: revoke 10c4: ") {
		t.Fatalf("error = %q, want the store: postgres: revoke prefix", err)
	}
	if err := tx.Rollback(bg); err != nil {
		t.Fatalf("rollback: %v", err)
	}
	got, err := s.Cert(bg, sn)
	if err != nil {
		t.Fatalf("Cert: %v", err)
	}
	if got.Status != store.StatusValid {
		t.Fatalf("Status after the cancelled Revoke = %q, want %q", got.Status, store.StatusValid)
	}
}
