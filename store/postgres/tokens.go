package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/certgate/certgate/store"
)

var _ store.Tokens = (*Store)(nil)

// Error messages about tokens name the ID, never the hash, for the reason
// given in challenges.go.

// tokenColumns are the tokens columns in the order scanToken reads them.
const tokenColumns = `id, name, role, hash, created_at`

// PutToken implements store.Tokens. It stores a copy of t, CreatedAt
// defaulting to Options.Now. ID and Hash are required; Name and Role are
// the API's to check.
func (s *Store) PutToken(ctx context.Context, t *store.APIToken) error {
	if t == nil {
		return fmt.Errorf("store: postgres: put token: nil token: %w", store.ErrInvalid)
	}
	op := "put token " + label(t.ID)
	err := writableIdent("token ID", t.ID, idMax)
	if err == nil {
		err = writableIdent("hash", t.Hash, maxKeyLen)
	}
	if err != nil {
		return fmt.Errorf("store: postgres: %s: %w", op, err)
	}
	created := t.CreatedAt
	if created.IsZero() {
		created = s.now()
	}
	err = s.do(ctx, func(pool *pgxpool.Pool) error {
		return retryConcurrent(func() error {
			_, err := pool.Exec(ctx, `INSERT INTO tokens (`+tokenColumns+`) VALUES ($1, $2, $3, $4, $5)`,
				t.ID, cleanText(t.Name), cleanText(t.Role), t.Hash, created)
			switch constraint, ok := uniqueViolation(err); {
			case ok && constraint == "tokens_pkey":
				return fmt.Errorf("token ID already taken: %w", store.ErrConflict)
			case ok:
				return fmt.Errorf("another token has the same hash: %w", store.ErrConflict)
			}
			return err
		})
	})
	return s.wrap(op, err)
}

// TokenByHash implements store.Tokens. It is on the path of every admin API
// call, so it is one lookup in the hash's unique index.
func (s *Store) TokenByHash(ctx context.Context, hash string) (*store.APIToken, error) {
	if err := readableIdent("hash", hash, maxKeyLen); err != nil {
		return nil, fmt.Errorf("store: postgres: token by hash: %w", err)
	}
	return queryOne(ctx, s, "token by hash", scanToken, `SELECT `+tokenColumns+` FROM tokens WHERE hash = $1`, hash)
}

// ListTokens implements store.Tokens. IDs are ordered as bytes (the id
// column is COLLATE "C").
func (s *Store) ListTokens(ctx context.Context) ([]*store.APIToken, error) {
	return queryAll(ctx, s, "list tokens", scanToken, `SELECT `+tokenColumns+` FROM tokens ORDER BY id`)
}

// DeleteToken implements store.Tokens. The row and its hash index entry go
// in one statement, so a deleted token stops working at once on every
// replica.
func (s *Store) DeleteToken(ctx context.Context, id string) error {
	op := "delete token " + label(id)
	if err := readableIdent("token ID", id, idMax); err != nil {
		return fmt.Errorf("store: postgres: %s: %w", op, err)
	}
	err := s.do(ctx, func(pool *pgxpool.Pool) error {
		return retryConcurrent(func() error {
			tag, err := pool.Exec(ctx, `DELETE FROM tokens WHERE id = $1`, id)
			if err == nil && tag.RowsAffected() == 0 {
				return store.ErrNotFound
			}
			return err
		})
	})
	return s.wrap(op, err)
}

// scanToken reads one row of tokenColumns.
func scanToken(row pgx.Row) (*store.APIToken, error) {
	var (
		tok     store.APIToken
		created time.Time
	)
	if err := row.Scan(&tok.ID, &tok.Name, &tok.Role, &tok.Hash, &created); err != nil {
		return nil, err
	}
	tok.CreatedAt = created.UTC()
	return &tok, nil
}
