package bolt

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/certgate/certgate/store"
)

var _ store.Requests = (*Store)(nil)

// CreateRequest implements store.Requests. It stores a copy of r with
// status pending and no decision or serial, CreatedAt defaulting to
// Options.Now; r itself is not modified. ID, Profile and Key are required.
func (s *Store) CreateRequest(ctx context.Context, r *store.PendingRequest) error {
	if r == nil {
		return fmt.Errorf("store: bolt: create request: nil request: %w", store.ErrInvalid)
	}
	label := idLabel(r.ID)
	pk, err := newRequestKey(r)
	if err != nil {
		return fmt.Errorf("store: bolt: create request %s: %w", label, err)
	}
	rec := *r
	rec.Status = store.RequestPending
	rec.DecidedAt, rec.DecidedBy, rec.Reason, rec.Serial = time.Time{}, "", "", ""
	if rec.CreatedAt.IsZero() {
		rec.CreatedAt = s.now()
	}
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
		return fmt.Errorf("store: bolt: create request %s: %w", label, err)
	}
	return nil
}

// Request implements store.Requests.
func (s *Store) Request(ctx context.Context, id string) (*store.PendingRequest, error) {
	var rec *store.PendingRequest
	err := readableID("request ID", id)
	if err == nil {
		err = s.view(ctx, func(tx *bbolt.Tx) error {
			var err error
			rec, err = getRequest(tx, id)
			if err == nil && rec == nil {
				err = store.ErrNotFound
			}
			return err
		})
	}
	if err != nil {
		return nil, fmt.Errorf("store: bolt: request %s: %w", idLabel(id), err)
	}
	return rec, nil
}

// RequestByKey implements store.Requests. It finds the request through
// idx_request_key, whatever its status.
func (s *Store) RequestByKey(ctx context.Context, profile, key string) (*store.PendingRequest, error) {
	var rec *store.PendingRequest
	err := checkProfileKey(profile, key)
	if err == nil {
		err = s.view(ctx, func(tx *bbolt.Tx) error {
			// A pair too long to store is well-formed; there is just no
			// request filed under it.
			pk, ok := pairKey(profile, key)
			if !ok {
				return store.ErrNotFound
			}
			id := tx.Bucket(bucketIdxRequestKey).Get(pk)
			if id == nil {
				return store.ErrNotFound
			}
			var err error
			if rec, err = getRequest(tx, string(id)); err == nil && rec == nil {
				err = fmt.Errorf("idx_request_key names request %s, which does not exist", idLabel(string(id)))
			}
			return err
		})
	}
	if err != nil {
		return nil, fmt.Errorf("store: bolt: request by key (profile %q): %w", profile, err)
	}
	return rec, nil
}

// DecideRequest implements store.Requests. A zero at means Options.Now.
func (s *Store) DecideRequest(ctx context.Context, id string, approve bool, by, reason string, at time.Time) (*store.PendingRequest, error) {
	if err := readableID("request ID", id); err != nil {
		return nil, fmt.Errorf("store: bolt: decide request %s: %w", idLabel(id), err)
	}
	if at.IsZero() {
		at = s.now()
	}
	status := store.RequestRejected
	if approve {
		status = store.RequestApproved
	}
	var rec *store.PendingRequest
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		// Reset on every run: group commit may run this twice.
		rec = nil
		old, err := loadRequest(tx, id, store.RequestPending)
		if err != nil {
			return err
		}
		next := *old
		next.Status, next.DecidedAt, next.DecidedBy, next.Reason = status, at, by, reason
		if err := putRequest(tx, old, &next); err != nil {
			return err
		}
		rec = &next
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: bolt: decide request %s: %w", idLabel(id), err)
	}
	return rec, nil
}

// CompleteRequest implements store.Requests. serialHex is parsed like
// store.ParseSerial and stored as store.SerialHex prints it, so it matches
// the certificate record's SerialHex.
func (s *Store) CompleteRequest(ctx context.Context, id, serialHex string) error {
	label := idLabel(id)
	if err := readableID("request ID", id); err != nil {
		return fmt.Errorf("store: bolt: complete request %s: %w", label, err)
	}
	serial, err := store.ParseSerial(serialHex)
	if err != nil {
		return fmt.Errorf("store: bolt: complete request %s: %w: %w", label, err, store.ErrInvalid)
	}
	err = s.update(ctx, func(tx *bbolt.Tx) error {
		old, err := loadRequest(tx, id, store.RequestApproved)
		if err != nil {
			return err
		}
		next := *old
		next.Status, next.Serial = store.RequestIssued, store.SerialHex(serial)
		return putRequest(tx, old, &next)
	})
	if err != nil {
		return fmt.Errorf("store: bolt: complete request %s: %w", label, err)
	}
	return nil
}

// newRequestKey checks what a new request is filed under and returns its
// idx_request_key key.
func newRequestKey(r *store.PendingRequest) ([]byte, error) {
	if err := writableID("request ID", r.ID); err != nil {
		return nil, err
	}
	if err := checkProfileKey(r.Profile, r.Key); err != nil {
		return nil, err
	}
	pk, ok := pairKey(r.Profile, r.Key)
	if !ok {
		return nil, fmt.Errorf("profile and key are %d bytes, the limit is %d: %w", len(r.Profile)+len(r.Key), bbolt.MaxKeySize-2, store.ErrInvalid)
	}
	return pk, nil
}

func checkProfileKey(profile, key string) error {
	switch {
	case profile == "":
		return fmt.Errorf("empty profile: %w", store.ErrInvalid)
	case key == "":
		return fmt.Errorf("empty key: %w", store.ErrInvalid)
	}
	return nil
}

// loadRequest returns the request id, which must be in state want:
// ErrNotFound if there is none, ErrConflict if it is in another state.
func loadRequest(tx *bbolt.Tx, id string, want store.RequestStatus) (*store.PendingRequest, error) {
	r, err := getRequest(tx, id)
	switch {
	case err != nil:
		return nil, err
	case r == nil:
		return nil, store.ErrNotFound
	case r.Status != want:
		return nil, fmt.Errorf("request is %s, not %s: %w", r.Status, want, store.ErrConflict)
	}
	return r, nil
}

// getRequest loads request id; nil, nil if there is none.
func getRequest(tx *bbolt.Tx, id string) (*store.PendingRequest, error) {
	v := tx.Bucket(bucketRequests).Get([]byte(id))
	if v == nil {
		return nil, nil
	}
	return decodeRequest([]byte(id), v)
}

// decodeRequest parses a requests value; the ID comes from the key, which
// is what the request is filed under.
func decodeRequest(k, v []byte) (*store.PendingRequest, error) {
	r := new(store.PendingRequest)
	if err := json.Unmarshal(v, r); err != nil {
		return nil, fmt.Errorf("decode request %s: %w", idLabel(string(k)), err)
	}
	r.ID = string(k)
	return r, nil
}

// putRequest writes r and moves its status index entry from old (nil for a
// new request). The key index never moves: Profile and Key do not change.
func putRequest(tx *bbolt.Tx, old, r *store.PendingRequest) error {
	v, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode request: %w", err)
	}
	idx := tx.Bucket(bucketIdxRequestStatus)
	if old != nil {
		if err := idx.Delete(requestStatusKey(old.Status, old.ID)); err != nil {
			return fmt.Errorf("delete idx_request_status entry: %w", err)
		}
	}
	if err := tx.Bucket(bucketRequests).Put([]byte(r.ID), v); err != nil {
		return fmt.Errorf("put request: %w", err)
	}
	if err := idx.Put(requestStatusKey(r.Status, r.ID), []byte{}); err != nil {
		return fmt.Errorf("put idx_request_status entry: %w", err)
	}
	return nil
}

// writableID refuses an ID a new request or token cannot have.
func writableID(what, id string) error {
	switch {
	case id == "":
		return fmt.Errorf("empty %s: %w", what, store.ErrInvalid)
	case len(id) > idMax:
		return fmt.Errorf("%s is %d bytes, the limit is %d: %w", what, len(id), idMax, store.ErrInvalid)
	}
	return nil
}

// readableID is like writableID, except that an ID too long to store is
// ErrNotFound: it is well-formed, there is just no such record.
func readableID(what, id string) error {
	switch {
	case id == "":
		return fmt.Errorf("empty %s: %w", what, store.ErrInvalid)
	case len(id) > idMax:
		return store.ErrNotFound
	}
	return nil
}

// idLabel is how error messages name an ID: quoted, and cut short so a
// hostile one cannot flood the log.
func idLabel(id string) string {
	if len(id) > idMax {
		return fmt.Sprintf("%q...", id[:idMax])
	}
	return fmt.Sprintf("%q", id)
}
