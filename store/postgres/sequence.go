package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/certgate/certgate/store"
)

// pgNumericOutOfRange is SQLSTATE numeric_value_out_of_range.
const pgNumericOutOfRange = "22003"

// NextSequence implements store.Sequencer. The first number of a name is 1.
// It is one upsert: the row lock it takes orders concurrent callers, in
// this process or in other replicas, and the number is returned only once
// the increment has committed, so no number is ever handed out twice. The
// column is a bigint, so a name is exhausted at 2^63-1 (bbolt's at 2^64-1):
// one CRL a second would take 292 billion years to get there.
func (s *Store) NextSequence(ctx context.Context, name string) (uint64, error) {
	if err := checkKey("sequence name", name); err != nil {
		return 0, fmt.Errorf("store: postgres: next sequence %q: %w", name, err)
	}
	var n int64
	err := s.do(ctx, func(pool *pgxpool.Pool) error {
		err := pool.QueryRow(ctx, `INSERT INTO sequences (name, last) VALUES ($1, 1)
			ON CONFLICT (name) DO UPDATE SET last = sequences.last + 1
			RETURNING last`, []byte(name)).Scan(&n)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == pgNumericOutOfRange {
			return fmt.Errorf("sequence exhausted: %w", store.ErrConflict)
		}
		return err
	})
	if err != nil {
		return 0, s.wrap(fmt.Sprintf("next sequence %q", name), err)
	}
	return uint64(n), nil
}
