package bolt

import (
	"bytes"
	"context"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/certgate/certgate/store"
)

// SearchRequests implements store.Requests. IDs are ordered, and the
// cursor q.After compared, as bytes. With q.Status set it walks that
// status's run of idx_request_status, which is in ID order too, so listing
// the pending requests never reads the finished ones; a profile is matched
// on each request read, since no index leads to it.
func (s *Store) SearchRequests(ctx context.Context, q store.RequestQuery) ([]*store.PendingRequest, error) {
	if q.Status != "" {
		if _, err := store.ParseRequestStatus(string(q.Status)); err != nil {
			return nil, fmt.Errorf("store: bolt: search requests: %w", err)
		}
	}
	limit := q.Limit
	if limit == 0 {
		limit = store.DefaultLimit
	}
	var out []*store.PendingRequest
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		var err error
		if q.Status != "" {
			out, err = searchRequestStatus(ctx, tx, q, limit)
		} else {
			out, err = searchRequests(ctx, tx, q, limit)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: bolt: search requests: %w", err)
	}
	return out, nil
}

// searchRequests walks requests in ID order from just after the cursor.
func searchRequests(ctx context.Context, tx *bbolt.Tx, q store.RequestQuery, limit int) ([]*store.PendingRequest, error) {
	var out []*store.PendingRequest
	c := tx.Bucket(bucketRequests).Cursor()
	k, v := seekAfter(c, nil, q.After)
	for n := 1; k != nil && (limit < 0 || len(out) < limit); n++ {
		if n%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		r, err := decodeRequest(k, v)
		if err != nil {
			return nil, err
		}
		if q.Profile == "" || r.Profile == q.Profile {
			out = append(out, r)
		}
		k, v = c.Next()
	}
	return out, nil
}

// searchRequestStatus walks the q.Status entries of idx_request_status in
// ID order from just after the cursor.
func searchRequestStatus(ctx context.Context, tx *bbolt.Tx, q store.RequestQuery, limit int) ([]*store.PendingRequest, error) {
	var out []*store.PendingRequest
	requests := tx.Bucket(bucketRequests)
	prefix := requestStatusPrefix(q.Status)
	c := tx.Bucket(bucketIdxRequestStatus).Cursor()
	k, _ := seekAfter(c, prefix, q.After)
	for n := 1; bytes.HasPrefix(k, prefix) && (limit < 0 || len(out) < limit); n++ {
		if n%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		id := k[len(prefix):]
		v := requests.Get(id)
		if v == nil {
			return nil, fmt.Errorf("idx_request_status entry %q has no request", k)
		}
		r, err := decodeRequest(id, v)
		if err != nil {
			return nil, err
		}
		if r.Status != q.Status {
			return nil, fmt.Errorf("idx_request_status files request %s under %s, but it is %s", idLabel(r.ID), q.Status, r.Status)
		}
		if q.Profile == "" || r.Profile == q.Profile {
			out = append(out, r)
		}
		k, _ = c.Next()
	}
	return out, nil
}

// seekAfter positions c on the first key that starts with prefix and whose
// remainder sorts after the cursor after (all of them when after is empty).
// The caller checks that the key it gets still has the prefix.
func seekAfter(c *bbolt.Cursor, prefix []byte, after string) (k, v []byte) {
	from := append(bytes.Clone(prefix), after...)
	if len(from) == 0 {
		return c.First()
	}
	k, v = c.Seek(from)
	if after != "" && bytes.Equal(k, from) {
		k, v = c.Next()
	}
	return k, v
}
