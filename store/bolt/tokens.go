package bolt

import (
	"context"
	"encoding/json"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/certgate/certgate/store"
)

var _ store.Tokens = (*Store)(nil)

// Error messages about tokens name the ID, never the hash, for the reason
// given in challenges.go.

// PutToken implements store.Tokens. It stores a copy of t, CreatedAt
// defaulting to Options.Now. ID and Hash are required; Name and Role are
// the API's to check.
func (s *Store) PutToken(ctx context.Context, t *store.APIToken) error {
	if t == nil {
		return fmt.Errorf("store: bolt: put token: nil token: %w", store.ErrInvalid)
	}
	label := idLabel(t.ID)
	err := writableID("token ID", t.ID)
	if err == nil {
		err = checkKey("hash", t.Hash)
	}
	if err != nil {
		return fmt.Errorf("store: bolt: put token %s: %w", label, err)
	}
	rec := *t
	if rec.CreatedAt.IsZero() {
		rec.CreatedAt = s.now()
	}
	v, err := json.Marshal(&rec)
	if err != nil {
		return fmt.Errorf("store: bolt: put token %s: encode: %w", label, err)
	}
	err = s.update(ctx, func(tx *bbolt.Tx) error {
		tokens, hashes := tx.Bucket(bucketTokens), tx.Bucket(bucketIdxTokenHash)
		if tokens.Get([]byte(rec.ID)) != nil {
			return fmt.Errorf("token ID already taken: %w", store.ErrConflict)
		}
		if other := hashes.Get([]byte(rec.Hash)); other != nil {
			return fmt.Errorf("token %s has the same hash: %w", idLabel(string(other)), store.ErrConflict)
		}
		if err := hashes.Put([]byte(rec.Hash), []byte(rec.ID)); err != nil {
			return fmt.Errorf("put idx_token_hash entry: %w", err)
		}
		return tokens.Put([]byte(rec.ID), v)
	})
	if err != nil {
		return fmt.Errorf("store: bolt: put token %s: %w", label, err)
	}
	return nil
}

// TokenByHash implements store.Tokens. It is on the path of every admin API
// call, so it is one read transaction and two key lookups.
func (s *Store) TokenByHash(ctx context.Context, hash string) (*store.APIToken, error) {
	var tok *store.APIToken
	err := readableKey("hash", hash)
	if err == nil {
		err = s.view(ctx, func(tx *bbolt.Tx) error {
			id := tx.Bucket(bucketIdxTokenHash).Get([]byte(hash))
			if id == nil {
				return store.ErrNotFound
			}
			v := tx.Bucket(bucketTokens).Get(id)
			if v == nil {
				return fmt.Errorf("idx_token_hash names token %s, which does not exist", idLabel(string(id)))
			}
			var err error
			tok, err = decodeToken(id, v)
			return err
		})
	}
	if err != nil {
		return nil, fmt.Errorf("store: bolt: token by hash: %w", err)
	}
	return tok, nil
}

// ListTokens implements store.Tokens. IDs are ordered as bytes.
func (s *Store) ListTokens(ctx context.Context) ([]*store.APIToken, error) {
	var out []*store.APIToken
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketTokens).ForEach(func(k, v []byte) error {
			t, err := decodeToken(k, v)
			if err != nil {
				return err
			}
			out = append(out, t)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: bolt: list tokens: %w", err)
	}
	return out, nil
}

// DeleteToken implements store.Tokens. The token and its hash index entry
// go in one transaction, so a deleted token stops working at once.
func (s *Store) DeleteToken(ctx context.Context, id string) error {
	label := idLabel(id)
	if err := readableID("token ID", id); err != nil {
		return fmt.Errorf("store: bolt: delete token %s: %w", label, err)
	}
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		tokens := tx.Bucket(bucketTokens)
		v := tokens.Get([]byte(id))
		if v == nil {
			return store.ErrNotFound
		}
		t, err := decodeToken([]byte(id), v)
		if err != nil {
			return err
		}
		if err := tx.Bucket(bucketIdxTokenHash).Delete([]byte(t.Hash)); err != nil {
			return fmt.Errorf("delete idx_token_hash entry: %w", err)
		}
		return tokens.Delete([]byte(id))
	})
	if err != nil {
		return fmt.Errorf("store: bolt: delete token %s: %w", label, err)
	}
	return nil
}

// decodeToken parses a tokens value; the ID comes from the key.
func decodeToken(k, v []byte) (*store.APIToken, error) {
	t := new(store.APIToken)
	if err := json.Unmarshal(v, t); err != nil {
		return nil, fmt.Errorf("decode token %s: %w", idLabel(string(k)), err)
	}
	t.ID = string(k)
	return t, nil
}

// readableKey is like checkKey, except that a key too long to store is
// ErrNotFound: it is well-formed, there is just no such record.
func readableKey(what, key string) error {
	if len(key) > bbolt.MaxKeySize {
		return store.ErrNotFound
	}
	return checkKey(what, key)
}
