package postgres

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/certgate/certgate/store"
)

// appliedMigration is one schema_migrations row.
type appliedMigration struct {
	Version   int
	AppliedAt time.Time
}

func appliedMigrations(t *testing.T, dsn string) []appliedMigration {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT version, applied_at FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[appliedMigration])
	if err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	return got
}

// wantEveryMigrationOnce fails t unless schema_migrations lists each
// embedded version exactly once.
func wantEveryMigrationOnce(t *testing.T, got []appliedMigration) {
	t.Helper()
	ms, err := migrations()
	if err != nil {
		t.Fatalf("migrations: %v", err)
	}
	if len(got) != len(ms) {
		t.Fatalf("schema_migrations has %d rows, want %d: %+v", len(got), len(ms), got)
	}
	for i, m := range ms {
		if got[i].Version != m.version {
			t.Fatalf("schema_migrations row %d is version %d, want %d", i, got[i].Version, m.version)
		}
	}
}

func TestMigrationsEmbedded(t *testing.T) {
	ms, err := migrations()
	if err != nil {
		t.Fatalf("migrations: %v", err)
	}
	if len(ms) == 0 || ms[0].name != "0001_init.sql" {
		t.Fatalf("embedded migrations start with %+v, want 0001_init.sql", ms)
	}
}

func TestMigrateTwiceIsNoOp(t *testing.T) {
	dsn := newDatabase(t)
	ctx := context.Background()
	s, err := Open(ctx, Options{DSN: dsn})
	if err != nil {
		t.Fatalf("first Open: %v", err)
	}
	sn := bigSerial(0xabc)
	if err := s.Reserve(ctx, &store.CertRecord{Serial: sn}); err != nil {
		t.Fatalf("Reserve: %v", err)
	}
	s.Close()
	first := appliedMigrations(t, dsn)
	wantEveryMigrationOnce(t, first)

	s, err = Open(ctx, Options{DSN: dsn})
	if err != nil {
		t.Fatalf("second Open: %v", err)
	}
	defer s.Close()
	if second := appliedMigrations(t, dsn); !slices.Equal(second, first) {
		t.Fatalf("schema_migrations after the second Open = %+v, want it unchanged: %+v", second, first)
	}
	if _, err := s.Cert(ctx, sn); err != nil {
		t.Fatalf("Cert after the second Open: %v", err)
	}
}

func TestMigrateConcurrently(t *testing.T) {
	dsn := newDatabase(t)
	const openers = 5
	stores := make([]*Store, openers)
	errs := race(openers, func(i int) error {
		var err error
		stores[i], err = Open(context.Background(), Options{DSN: dsn})
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open %d: %v", i, err)
			continue
		}
		stores[i].Close()
	}
	wantEveryMigrationOnce(t, appliedMigrations(t, dsn))
}

func TestOpenRefuses(t *testing.T) {
	tests := []struct {
		name string
		// setup prepares the database and returns the DSN to open.
		setup func(t *testing.T, dsn string) string
		want  string
	}{
		{"fail/schema from a newer build", func(t *testing.T, dsn string) string {
			s, err := Open(context.Background(), Options{DSN: dsn})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			s.Close()
			adminExec(t, dsn, `INSERT INTO schema_migrations (version) VALUES (999)`)
			return dsn
		}, "the database has schema version 999, this build knows only up to"},
		{"fail/synchronous_commit off", func(t *testing.T, dsn string) string {
			return withParam(t, dsn, "options", "-c synchronous_commit=off")
		}, "synchronous_commit is off"},
		{"fail/database missing", func(t *testing.T, dsn string) string {
			return withDatabase(t, dsn, "certgate_test_missing_"+runID)
		}, "does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dsn := newDatabase(t)
			s, err := Open(context.Background(), Options{DSN: tt.setup(t, dsn)})
			if err == nil {
				s.Close()
				t.Fatalf("Open succeeded")
			}
			if !strings.HasPrefix(err.Error(), "store: postgres: open user=") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %q, want prefix %q and %q", err, "store: postgres: open user=", tt.want)
			}
		})
	}
}

func TestOpenInvalidOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"fail/empty DSN", Options{}, "store: postgres: open: empty DSN"},
		{"fail/negative MaxConns", Options{DSN: "postgres://localhost/x", MaxConns: -1}, "MaxConns is -1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Open(context.Background(), tc.opts)
			if !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want ErrInvalid and %q", err, tc.want)
			}
		})
	}
}

// TestMigrateFromVersion1 upgrades a database that an earlier build left
// at schema version 1, with data in it: Open must apply only what is
// missing, keep the data, and leave the new tables usable.
func TestMigrateFromVersion1(t *testing.T) {
	dsn := newDatabase(t)
	ctx := context.Background()
	ms, err := migrations()
	if err != nil {
		t.Fatalf("migrations: %v", err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	for _, sql := range []string{
		ms[0].sql,
		`CREATE TABLE schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
		`INSERT INTO schema_migrations (version) VALUES (1)`,
		`INSERT INTO sequences (name, last) VALUES ('crl'::bytea, 41)`,
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			conn.Close(ctx)
			t.Fatalf("set up version 1: %v", err)
		}
	}
	conn.Close(ctx)

	s, err := Open(ctx, Options{DSN: dsn})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	wantEveryMigrationOnce(t, appliedMigrations(t, dsn))
	if n, err := s.NextSequence(ctx, "crl"); err != nil || n != 42 {
		t.Fatalf("NextSequence after the upgrade = %d, %v; want 42 (the version 1 data kept)", n, err)
	}
	if err := s.CreateRequest(ctx, testPending("r1", "device", "scep:1")); err != nil {
		t.Fatalf("CreateRequest after the upgrade: %v", err)
	}
}
