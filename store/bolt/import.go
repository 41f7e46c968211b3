package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	bbolt "go.etcd.io/bbolt"

	"github.com/certgate/certgate/store"
)

var (
	_ store.Exporter = (*Store)(nil)
	_ store.Importer = (*Store)(nil)
)

// Challenges implements store.Exporter. The bucket is ordered by the
// length-prefixed pair, not by profile, so the result is sorted here.
func (s *Store) Challenges(ctx context.Context) ([]*store.Challenge, error) {
	var out []*store.Challenge
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketChallenges).ForEach(func(k, v []byte) error {
			c := new(store.Challenge)
			if err := json.Unmarshal(v, c); err != nil {
				return fmt.Errorf("decode challenge: %w", err)
			}
			out = append(out, c)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: bolt: list challenges: %w", err)
	}
	slices.SortFunc(out, func(a, b *store.Challenge) int {
		if c := strings.Compare(a.Profile, b.Profile); c != 0 {
			return c
		}
		return strings.Compare(a.Hash, b.Hash)
	})
	return out, nil
}

// StaticSecretProfiles implements store.Exporter.
func (s *Store) StaticSecretProfiles(ctx context.Context) ([]string, error) {
	var out []string
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketStaticSecrets).ForEach(func(k, _ []byte) error {
			out = append(out, string(k))
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: bolt: list static secret profiles: %w", err)
	}
	return out, nil
}

// Sequences implements store.Exporter.
func (s *Store) Sequences(ctx context.Context) (map[string]uint64, error) {
	out := map[string]uint64{}
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketSequences).ForEach(func(k, v []byte) error {
			n, err := decodeSequence(v)
			if err != nil {
				return fmt.Errorf("sequence %q: %w", k, err)
			}
			out[string(k)] = n
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: bolt: list sequences: %w", err)
	}
	return out, nil
}

// ImportRecords implements store.Importer in one write transaction, so an
// interrupted import leaves whole batches.
func (s *Store) ImportRecords(ctx context.Context, recs []*store.CertRecord) error {
	keys := make([][]byte, len(recs))
	for i, r := range recs {
		sk, err := importableRecord(r)
		if err != nil {
			return fmt.Errorf("store: bolt: import record %s: %w", importLabel(r), err)
		}
		for _, other := range keys[:i] {
			if bytes.Equal(other, sk) {
				return fmt.Errorf("store: bolt: import record %s: twice in one batch: %w", serialLabel(r.Serial), store.ErrInvalid)
			}
		}
		keys[i] = sk
	}
	if len(recs) == 0 {
		return nil
	}
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		for i, r := range recs {
			if tx.Bucket(bucketCerts).Get(keys[i]) != nil {
				return fmt.Errorf("record %s: serial already recorded: %w", serialLabel(r.Serial), store.ErrConflict)
			}
			rec := *r
			rec.SerialHex = store.SerialHex(r.Serial)
			if err := putRecord(tx, keys[i], nil, &rec); err != nil {
				return fmt.Errorf("record %s: %w", serialLabel(r.Serial), err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: bolt: import records: %w", err)
	}
	return nil
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
	return sk, nil
}

// ImportRequest implements store.Importer.
func (s *Store) ImportRequest(ctx context.Context, r *store.PendingRequest) error {
	if r == nil {
		return fmt.Errorf("store: bolt: import request: nil request: %w", store.ErrInvalid)
	}
	label := idLabel(r.ID)
	pk, err := newRequestKey(r)
	if err == nil {
		_, err = store.ParseRequestStatus(string(r.Status))
	}
	if err != nil {
		return fmt.Errorf("store: bolt: import request %s: %w", label, err)
	}
	rec := *r
	err = s.update(ctx, func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketRequests).Get([]byte(rec.ID)) != nil {
			return fmt.Errorf("request ID already taken: %w", store.ErrConflict)
		}
		keys := tx.Bucket(bucketIdxRequestKey)
		if other := keys.Get(pk); other != nil {
			return fmt.Errorf("profile %q already has request %s for this key: %w", rec.Profile, idLabel(string(other)), store.ErrConflict)
		}
		if err := keys.Put(pk, []byte(rec.ID)); err != nil {
			return fmt.Errorf("put idx_request_key entry: %w", err)
		}
		return putRequest(tx, nil, &rec)
	})
	if err != nil {
		return fmt.Errorf("store: bolt: import request %s: %w", label, err)
	}
	return nil
}

// ImportStaticSecret implements store.Importer. The secret is appended to
// the profile's list, which keeps its order of creation for entries
// imported in that order.
func (s *Store) ImportStaticSecret(ctx context.Context, profile string, sec store.StaticSecret) error {
	if profile == "" || sec.Hash == "" {
		return fmt.Errorf("store: bolt: import static secret: empty profile or hash: %w", store.ErrInvalid)
	}
	err := checkKey("profile", profile)
	if err == nil {
		err = s.update(ctx, func(tx *bbolt.Tx) error {
			b := tx.Bucket(bucketStaticSecrets)
			var list []store.StaticSecret
			if v := b.Get([]byte(profile)); v != nil {
				if err := json.Unmarshal(v, &list); err != nil {
					return err
				}
			}
			for _, e := range list {
				if e.Hash == sec.Hash {
					return fmt.Errorf("the profile already lists that secret: %w", store.ErrConflict)
				}
			}
			v, err := json.Marshal(append(list, sec))
			if err != nil {
				return err
			}
			return b.Put([]byte(profile), v)
		})
	}
	if err != nil {
		return fmt.Errorf("store: bolt: import static secret (profile %q): %w", profile, err)
	}
	return nil
}

// RaiseSequence implements store.Importer.
func (s *Store) RaiseSequence(ctx context.Context, name string, last uint64) error {
	if err := checkKey("sequence name", name); err != nil {
		return fmt.Errorf("store: bolt: raise sequence %q: %w", name, err)
	}
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketSequences)
		cur, err := decodeSequence(b.Get([]byte(name)))
		if err != nil || cur >= last {
			return err
		}
		v := make([]byte, 8)
		binary.BigEndian.PutUint64(v, last)
		return b.Put([]byte(name), v)
	})
	if err != nil {
		return fmt.Errorf("store: bolt: raise sequence %q: %w", name, err)
	}
	return nil
}
