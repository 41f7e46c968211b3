package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/certgate/certgate/store"
)

var (
	_ store.Exporter = (*Store)(nil)
	_ store.Importer = (*Store)(nil)
)

// Challenges implements store.Exporter. The columns are COLLATE "C", so
// the order is byte order, as in the bbolt backend.
func (s *Store) Challenges(ctx context.Context) ([]*store.Challenge, error) {
	return queryAll(ctx, s, "list challenges", scanChallenge, `SELECT `+challengeColumns+` FROM challenges ORDER BY profile, hash`)
}

// StaticSecretProfiles implements store.Exporter.
func (s *Store) StaticSecretProfiles(ctx context.Context) ([]string, error) {
	var out []string
	err := s.do(ctx, func(pool *pgxpool.Pool) error {
		rows, err := pool.Query(ctx, `SELECT DISTINCT profile FROM static_secrets ORDER BY profile`)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		return nil, s.wrap("list static secret profiles", err)
	}
	return out, nil
}

// Sequences implements store.Exporter.
func (s *Store) Sequences(ctx context.Context) (map[string]uint64, error) {
	out := map[string]uint64{}
	err := s.do(ctx, func(pool *pgxpool.Pool) error {
		rows, err := pool.Query(ctx, `SELECT name, last FROM sequences`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				name []byte
				last int64
			)
			if err := rows.Scan(&name, &last); err != nil {
				return err
			}
			out[string(name)] = uint64(last)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, s.wrap("list sequences", err)
	}
	return out, nil
}

// importRecordSQL inserts every certs column, the status included, from
// $1 (serial), $2 (status) and recordFields in order from $3.
var importRecordSQL = func() string {
	cols := []string{"serial", "status"}
	params := []string{"$1", "$2"}
	for i, f := range recordFields {
		cols = append(cols, f.column)
		params = append(params, "$"+strconv.Itoa(i+3))
	}
	return "INSERT INTO certs (" + strings.Join(cols, ", ") + ") VALUES (" + strings.Join(params, ", ") + ")"
}()

// ImportRecords implements store.Importer in one transaction, its inserts
// sent as one batch: a migration pays one round trip and one commit per
// batch, not per record.
func (s *Store) ImportRecords(ctx context.Context, recs []*store.CertRecord) error {
	batch := &pgx.Batch{}
	seen := make(map[string]bool, len(recs))
	for _, r := range recs {
		sk, err := importableRecord(r)
		if err == nil && seen[string(sk)] {
			err = fmt.Errorf("twice in one batch: %w", store.ErrInvalid)
		}
		if err != nil {
			return fmt.Errorf("store: postgres: import record %s: %w", importLabel(r), err)
		}
		seen[string(sk)] = true
		args := []any{sk, string(r.Status)}
		for _, f := range recordFields {
			args = append(args, f.value(r))
		}
		batch.Queue(importRecordSQL, args...)
	}
	if len(recs) == 0 {
		return nil
	}
	err := s.do(ctx, func(pool *pgxpool.Pool) error {
		return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			results := tx.SendBatch(ctx, batch)
			var first error
			for _, r := range recs {
				_, err := results.Exec()
				if _, ok := uniqueViolation(err); ok {
					err = fmt.Errorf("record %s: serial already recorded: %w", serialLabel(r.Serial), store.ErrConflict)
				}
				if err != nil {
					first = err
					break
				}
			}
			return errors.Join(first, results.Close())
		})
	})
	return s.wrap("import records", err)
}

// importLabel names r in errors, even a nil r.
func importLabel(r *store.CertRecord) string {
	if r == nil {
		return "<nil record>"
	}
	return serialLabel(r.Serial)
}

// importableRecord checks r and returns its serial key.
func importableRecord(r *store.CertRecord) ([]byte, error) {
	if r == nil {
		return nil, fmt.Errorf("nil record: %w", store.ErrInvalid)
	}
	sk, err := writableSerialKey(r.Serial)
	if err != nil {
		return nil, err
	}
	switch r.Status {
	case store.StatusReserved:
	case store.StatusValid, store.StatusRevoked:
		if len(r.DER) == 0 {
			return nil, fmt.Errorf("%s record has no DER: %w", r.Status, store.ErrInvalid)
		}
	default:
		return nil, fmt.Errorf("unknown status %q: %w", r.Status, store.ErrInvalid)
	}
	if r.RevocationReason < math.MinInt16 || r.RevocationReason > math.MaxInt16 {
		return nil, fmt.Errorf("revocation reason %d does not fit the column: %w", r.RevocationReason, store.ErrInvalid)
	}
	return sk, nil
}

// ImportRequest implements store.Importer. Free text is cleaned as
// CreateRequest cleans it; identifying strings must be storable unchanged.
func (s *Store) ImportRequest(ctx context.Context, r *store.PendingRequest) error {
	if r == nil {
		return fmt.Errorf("store: postgres: import request: nil request: %w", store.ErrInvalid)
	}
	op := "import request " + label(r.ID)
	err := writableIdent("request ID", r.ID, idMax)
	if err == nil {
		err = writablePair("profile", r.Profile, "key", r.Key)
	}
	if err == nil {
		_, err = store.ParseRequestStatus(string(r.Status))
	}
	if err != nil {
		return fmt.Errorf("store: postgres: %s: %w", op, err)
	}
	csr := r.CSR
	if csr == nil {
		// pgx sends a nil slice as NULL; the column is NOT NULL.
		csr = []byte{}
	}
	err = s.do(ctx, func(pool *pgxpool.Pool) error {
		_, err := pool.Exec(ctx, `INSERT INTO requests (`+requestColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
			r.ID, r.Profile, r.Key, cleanText(r.Protocol), cleanText(r.TransactionID), cleanText(r.Subject), csr,
			cleanText(r.DeviceID), cleanText(r.RequesterAddr), string(r.Status), r.CreatedAt, nullTime(r.DecidedAt),
			cleanText(r.DecidedBy), cleanText(r.Reason), cleanText(r.Serial))
		switch constraint, ok := uniqueViolation(err); {
		case ok && constraint == "requests_pkey":
			return fmt.Errorf("request ID already taken: %w", store.ErrConflict)
		case ok:
			return fmt.Errorf("profile %s already has a request for this key: %w", label(r.Profile), store.ErrConflict)
		}
		return err
	})
	return s.wrap(op, err)
}

// ImportStaticSecret implements store.Importer.
func (s *Store) ImportStaticSecret(ctx context.Context, profile string, sec store.StaticSecret) error {
	op := "import static secret " + label(profile)
	if err := writablePair("profile", profile, "hash", sec.Hash); err != nil {
		return fmt.Errorf("store: postgres: %s: %w", op, err)
	}
	err := s.do(ctx, func(pool *pgxpool.Pool) error {
		_, err := pool.Exec(ctx, `INSERT INTO static_secrets (profile, hash, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
			profile, sec.Hash, sec.CreatedAt, nullTime(sec.ExpiresAt))
		if _, ok := uniqueViolation(err); ok {
			return fmt.Errorf("the profile already lists that secret: %w", store.ErrConflict)
		}
		return err
	})
	return s.wrap(op, err)
}

// RaiseSequence implements store.Importer. The column is a bigint, so a
// number above 2^63-1 is store.ErrInvalid; zero leaves the sequence as it
// is, since its first number is 1 anyway.
func (s *Store) RaiseSequence(ctx context.Context, name string, last uint64) error {
	op := fmt.Sprintf("raise sequence %q", name)
	if err := checkKey("sequence name", name); err != nil {
		return fmt.Errorf("store: postgres: %s: %w", op, err)
	}
	if last > math.MaxInt64 {
		return fmt.Errorf("store: postgres: %s: %d is above the column's maximum %d: %w", op, last, int64(math.MaxInt64), store.ErrInvalid)
	}
	if last == 0 {
		return nil
	}
	err := s.do(ctx, func(pool *pgxpool.Pool) error {
		_, err := pool.Exec(ctx, `INSERT INTO sequences (name, last) VALUES ($1, $2)
			ON CONFLICT (name) DO UPDATE SET last = GREATEST(sequences.last, EXCLUDED.last)`, []byte(name), int64(last))
		return err
	})
	return s.wrap(op, err)
}

// Analyze refreshes the query planner's statistics of every table. store
// migrate runs it after a bulk copy: until then PostgreSQL plans as for the
// empty tables it last saw, and a lookup such as the duplicate-subject
// check scans a profile's rows (15 ms at 50,000) instead of using its
// index (0.06 ms), until autovacuum gets to it.
func (s *Store) Analyze(ctx context.Context) error {
	err := s.do(ctx, func(pool *pgxpool.Pool) error {
		_, err := pool.Exec(ctx, "ANALYZE")
		return err
	})
	return s.wrap("analyze", err)
}
