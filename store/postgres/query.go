package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/certgate/certgate/store"
)

// queryOne runs a query for at most one row and decodes it with scan; no
// row is store.ErrNotFound. Errors are wrapped (and redacted) under op.
func queryOne[T any](ctx context.Context, s *Store, op string, scan func(pgx.Row) (T, error), sql string, args ...any) (T, error) {
	var out T
	err := s.do(ctx, func(pool *pgxpool.Pool) error {
		var err error
		out, err = scan(pool.QueryRow(ctx, sql, args...))
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrNotFound
		}
		return err
	})
	if err != nil {
		var zero T
		return zero, s.wrap(op, err)
	}
	return out, nil
}

// queryAll runs a query and decodes every row with scan, in the order the
// query gives; an empty sql is a query known to match nothing (the store
// is still checked to be open). Errors are wrapped (and redacted) under op.
func queryAll[T any](ctx context.Context, s *Store, op string, scan func(pgx.Row) (T, error), sql string, args ...any) ([]T, error) {
	var out []T
	err := s.do(ctx, func(pool *pgxpool.Pool) error {
		if sql == "" {
			return nil
		}
		rows, err := pool.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			v, err := scan(rows)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, s.wrap(op, err)
	}
	return out, nil
}
