package bolt

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"

	bbolt "go.etcd.io/bbolt"

	"github.com/certgate/certgate/store"
)

// ctxCheckEvery is how many records a scan reads between context checks,
// so a cancelled export stops without paying for a check per record.
const ctxCheckEvery = 256

// Search implements store.Query semantics. The cursor q.After is compared by
// numeric value. A common name or device ID is looked up in its index, and
// status revoked (a CRL build) walks idx_revoked; with ExpiresBefore set
// and no cursor it walks idx_expiry (the "what expires soon" question
// touches only the expiring records); otherwise it walks certs in serial
// order and stops at the limit.
func (s *Store) Search(ctx context.Context, q store.Query) ([]*store.CertRecord, error) {
	if q.Status != "" {
		if _, err := store.ParseStatus(string(q.Status)); err != nil {
			return nil, fmt.Errorf("store: bolt: search: %w: %w", err, store.ErrInvalid)
		}
	}
	var after []byte
	pastEnd := false
	if q.After != "" {
		serial, err := store.ParseSerial(q.After)
		if err != nil {
			return nil, fmt.Errorf("store: bolt: search: cursor: %w: %w", err, store.ErrInvalid)
		}
		// A cursor beyond the largest storable serial has nothing after it.
		var ok bool
		after, ok = serialKey(serial)
		pastEnd = !ok
	}
	limit := q.Limit
	if limit == 0 {
		limit = store.DefaultLimit
	}
	m := newMatcher(q)

	var out []*store.CertRecord
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		var err error
		switch {
		case pastEnd:
		case q.CommonName != "":
			out, err = searchIndex(ctx, tx, bucketIdxSubject, strings.ToLower(q.CommonName), after, m, limit)
		case q.DeviceID != "":
			out, err = searchIndex(ctx, tx, bucketIdxDevice, q.DeviceID, after, m, limit)
		case q.Status == store.StatusRevoked:
			out, err = searchRevoked(ctx, tx, after, m, limit)
		case !q.ExpiresBefore.IsZero() && after == nil:
			out, err = searchExpiry(ctx, tx, q, m, limit)
		default:
			out, err = searchCerts(ctx, tx, after, m, limit)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: bolt: search: %w", err)
	}
	return out, nil
}

// walk gathers the records an index or bucket walk reaches that m
// accepts, and checks ctx every ctxCheckEvery steps.
type walk struct {
	ctx   context.Context
	certs *bbolt.Bucket
	m     matcher
	steps int
	out   []*store.CertRecord
}

func newWalk(ctx context.Context, tx *bbolt.Tx, m matcher) *walk {
	return &walk{ctx: ctx, certs: tx.Bucket(bucketCerts), m: m}
}

// step counts one key visited; it fails once ctx has ended.
func (w *walk) step() error {
	if w.steps++; w.steps%ctxCheckEvery == 0 {
		return w.ctx.Err()
	}
	return nil
}

// consider decodes the record stored under serial key sk (v, or read
// from certs when nil, naming the index key ik that led there) and keeps
// it if it matches.
func (w *walk) consider(sk, v, ik, index []byte) error {
	if v == nil {
		if v = w.certs.Get(sk); v == nil {
			return fmt.Errorf("%s entry %x has no record", index, ik)
		}
	}
	rec, err := decodeRecord(sk, v)
	if err != nil {
		return err
	}
	if w.m.match(rec) {
		w.out = append(w.out, rec)
	}
	return nil
}

// searchCerts walks certs in serial order from just after the cursor.
func searchCerts(ctx context.Context, tx *bbolt.Tx, after []byte, m matcher, limit int) ([]*store.CertRecord, error) {
	w := newWalk(ctx, tx, m)
	c := tx.Bucket(bucketCerts).Cursor()
	k, v := c.First()
	if after != nil {
		k, v = c.Seek(after)
		if bytes.Equal(k, after) {
			k, v = c.Next()
		}
	}
	for ; k != nil && (limit < 0 || len(w.out) < limit); k, v = c.Next() {
		if err := w.step(); err != nil {
			return nil, err
		}
		if err := w.consider(k, v, nil, nil); err != nil {
			return nil, err
		}
	}
	return w.out, nil
}

// searchIndex walks the entries of a text index (idx_subject or
// idx_device) for value, in serial order from just after the cursor. The
// index keeps at most indexValueMax bytes of a value and lower-cases common
// names, so every candidate is confirmed on the record by m.
func searchIndex(ctx context.Context, tx *bbolt.Tx, index []byte, value string, after []byte, m matcher, limit int) ([]*store.CertRecord, error) {
	w := newWalk(ctx, tx, m)
	prefix := textIndexKey(value, nil)
	c := tx.Bucket(index).Cursor()
	k, _ := c.Seek(prefix)
	if after != nil {
		from := append(bytes.Clone(prefix), after...)
		if k, _ = c.Seek(from); bytes.Equal(k, from) {
			k, _ = c.Next()
		}
	}
	for ; bytes.HasPrefix(k, prefix) && (limit < 0 || len(w.out) < limit); k, _ = c.Next() {
		if err := w.step(); err != nil {
			return nil, err
		}
		// A longer key is a longer value that starts with this one.
		if len(k) != len(prefix)+serialKeyLen {
			continue
		}
		if err := w.consider(k[len(prefix):], nil, k, index); err != nil {
			return nil, err
		}
	}
	return w.out, nil
}

// searchRevoked walks idx_revoked in serial order from just after the
// cursor: what a CRL build asks, touching the revoked records only.
func searchRevoked(ctx context.Context, tx *bbolt.Tx, after []byte, m matcher, limit int) ([]*store.CertRecord, error) {
	w := newWalk(ctx, tx, m)
	c := tx.Bucket(bucketIdxRevoked).Cursor()
	k, _ := c.First()
	if after != nil {
		if k, _ = c.Seek(after); bytes.Equal(k, after) {
			k, _ = c.Next()
		}
	}
	for ; k != nil && (limit < 0 || len(w.out) < limit); k, _ = c.Next() {
		if err := w.step(); err != nil {
			return nil, err
		}
		if len(k) != serialKeyLen {
			return nil, fmt.Errorf("idx_revoked key %x has the wrong length", k)
		}
		if err := w.consider(k, nil, k, bucketIdxRevoked); err != nil {
			return nil, err
		}
	}
	return w.out, nil
}

// searchExpiry walks idx_expiry over [ExpiresAfter, ExpiresBefore] in whole
// seconds, then sorts by serial: the index is in expiry order, so every
// candidate must be read before the first page is known.
func searchExpiry(ctx context.Context, tx *bbolt.Tx, q store.Query, m matcher, limit int) ([]*store.CertRecord, error) {
	w := newWalk(ctx, tx, m)
	c := tx.Bucket(bucketIdxExpiry).Cursor()
	end := expirySeconds(q.ExpiresBefore)
	k, _ := c.First()
	if !q.ExpiresAfter.IsZero() {
		k, _ = c.Seek(expirySeconds(q.ExpiresAfter))
	}
	for ; k != nil && bytes.Compare(k[:len(end)], end) <= 0; k, _ = c.Next() {
		if err := w.step(); err != nil {
			return nil, err
		}
		if len(k) != len(end)+serialKeyLen {
			return nil, fmt.Errorf("idx_expiry key %x has the wrong length", k)
		}
		if err := w.consider(k[len(end):], nil, k, bucketIdxExpiry); err != nil {
			return nil, err
		}
	}
	out := w.out
	slices.SortFunc(out, func(a, b *store.CertRecord) int { return a.Serial.Cmp(b.Serial) })
	if limit >= 0 && len(out) > limit {
		out = out[:limit:limit]
	}
	return out, nil
}

// matcher applies every Query filter except the cursor and limit to one
// record; index walks only narrow the candidates, this decides.
type matcher struct {
	q       store.Query
	subject string // q.Subject lower-cased once
}

func newMatcher(q store.Query) matcher {
	return matcher{q: q, subject: strings.ToLower(q.Subject)}
}

func (m matcher) match(r *store.CertRecord) bool {
	q := m.q
	switch {
	case q.Status == "" && r.Status == store.StatusReserved:
		return false
	case q.Status != "" && r.Status != q.Status:
		return false
	case q.Profile != "" && r.Profile != q.Profile:
		return false
	case q.DeviceID != "" && r.DeviceID != q.DeviceID:
		return false
	case q.CommonName != "" && r.CommonName != q.CommonName:
		return false
	case !q.ExpiresBefore.IsZero() && !r.NotAfter.Before(q.ExpiresBefore):
		return false
	case !q.ExpiresAfter.IsZero() && r.NotAfter.Before(q.ExpiresAfter):
		return false
	case m.subject != "" && !strings.Contains(strings.ToLower(r.Subject), m.subject):
		return false
	}
	return true
}
