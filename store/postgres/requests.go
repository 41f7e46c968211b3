package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/certgate/certgate/store"
)

var _ store.Requests = (*Store)(nil)

// requestColumns are the requests columns in the order scanRequest reads
// them.
const requestColumns = `id, profile, key, protocol, transaction_id, subject, csr,
	device_id, requester_addr, status, created_at, decided_at, decided_by, reason, serial`

// CreateRequest implements store.Requests. It stores a copy of r with
// status pending and no decision or serial, CreatedAt defaulting to
// Options.Now; r itself is not modified. ID, Profile and Key are required.
// The primary key and the (profile, key) unique constraint are the gate:
// of several replicas creating the same request, one insert commits and
// the others get store.ErrConflict.
func (s *Store) CreateRequest(ctx context.Context, r *store.PendingRequest) error {
	if r == nil {
		return fmt.Errorf("store: postgres: create request: nil request: %w", store.ErrInvalid)
	}
	op := "create request " + label(r.ID)
	err := writableIdent("request ID", r.ID, idMax)
	if err == nil {
		err = writablePair("profile", r.Profile, "key", r.Key)
	}
	if err != nil {
		return fmt.Errorf("store: postgres: %s: %w", op, err)
	}
	created := r.CreatedAt
	if created.IsZero() {
		created = s.now()
	}
	csr := r.CSR
	if csr == nil {
		// pgx sends a nil slice as NULL; the column is NOT NULL.
		csr = []byte{}
	}
	err = s.do(ctx, func(pool *pgxpool.Pool) error {
		return retryConcurrent(func() error {
			_, err := pool.Exec(ctx, `INSERT INTO requests (id, profile, key, protocol, transaction_id,
				subject, csr, device_id, requester_addr, status, created_at, decided_by, reason, serial)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', $10, '', '', '')`,
				r.ID, r.Profile, r.Key, cleanText(r.Protocol), cleanText(r.TransactionID),
				cleanText(r.Subject), csr, cleanText(r.DeviceID), cleanText(r.RequesterAddr), created)
			switch constraint, ok := uniqueViolation(err); {
			case ok && constraint == "requests_pkey":
				return fmt.Errorf("request ID already taken: %w", store.ErrConflict)
			case ok:
				return fmt.Errorf("profile %s already has a request for this key: %w", label(r.Profile), store.ErrConflict)
			}
			return err
		})
	})
	return s.wrap(op, err)
}

// Request implements store.Requests.
func (s *Store) Request(ctx context.Context, id string) (*store.PendingRequest, error) {
	op := "request " + label(id)
	if err := readableIdent("request ID", id, idMax); err != nil {
		return nil, fmt.Errorf("store: postgres: %s: %w", op, err)
	}
	return queryOne(ctx, s, op, scanRequest, `SELECT `+requestColumns+` FROM requests WHERE id = $1`, id)
}

// RequestByKey implements store.Requests. It finds the request through the
// (profile, key) unique index, whatever its status.
func (s *Store) RequestByKey(ctx context.Context, profile, key string) (*store.PendingRequest, error) {
	op := "request by key (profile " + label(profile) + ")"
	if err := readablePair("profile", profile, "key", key); err != nil {
		return nil, fmt.Errorf("store: postgres: %s: %w", op, err)
	}
	return queryOne(ctx, s, op, scanRequest, `SELECT `+requestColumns+` FROM requests WHERE profile = $1 AND key = $2`, profile, key)
}

// DecideRequest implements store.Requests. A zero at means Options.Now.
// The decision is one conditional update of a pending row: of several
// replicas deciding one request, the first to commit wins and the others,
// finding it no longer pending, get store.ErrConflict. Only a failed update
// reads the row, to tell an unknown ID from a decided request.
func (s *Store) DecideRequest(ctx context.Context, id string, approve bool, by, reason string, at time.Time) (*store.PendingRequest, error) {
	op := "decide request " + label(id)
	if err := readableIdent("request ID", id, idMax); err != nil {
		return nil, fmt.Errorf("store: postgres: %s: %w", op, err)
	}
	if at.IsZero() {
		at = s.now()
	}
	status := store.RequestRejected
	if approve {
		status = store.RequestApproved
	}
	var rec *store.PendingRequest
	err := s.do(ctx, func(pool *pgxpool.Pool) error {
		for range maxRaceRetries {
			err := retryConcurrent(func() error {
				var err error
				rec, err = scanRequest(pool.QueryRow(ctx, `UPDATE requests
					SET status = $2, decided_at = $3, decided_by = $4, reason = $5
					WHERE id = $1 AND status = 'pending'
					RETURNING `+requestColumns, id, string(status), at, cleanText(by), cleanText(reason)))
				return err
			})
			if !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
			if err := whyNotUpdated(ctx, pool, id, store.RequestPending); err != nil {
				return err
			}
			// Pending after all: another replica created it after the
			// update looked. Try again.
		}
		return fmt.Errorf("request kept changing under the update: %w", store.ErrConflict)
	})
	if err != nil {
		return nil, s.wrap(op, err)
	}
	return rec, nil
}

// CompleteRequest implements store.Requests. serialHex is parsed like
// store.ParseSerial and stored as store.SerialHex prints it, so it matches
// the certificate record's SerialHex. Like DecideRequest it is one
// conditional update, here of an approved row.
func (s *Store) CompleteRequest(ctx context.Context, id, serialHex string) error {
	op := "complete request " + label(id)
	if err := readableIdent("request ID", id, idMax); err != nil {
		return fmt.Errorf("store: postgres: %s: %w", op, err)
	}
	serial, err := store.ParseSerial(serialHex)
	if err != nil {
		return fmt.Errorf("store: postgres: %s: %w: %w", op, err, store.ErrInvalid)
	}
	err = s.do(ctx, func(pool *pgxpool.Pool) error {
		for range maxRaceRetries {
			var n int64
			err := retryConcurrent(func() error {
				tag, err := pool.Exec(ctx, `UPDATE requests SET status = 'issued', serial = $2
					WHERE id = $1 AND status = 'approved'`, id, store.SerialHex(serial))
				n = tag.RowsAffected()
				return err
			})
			if err != nil || n == 1 {
				return err
			}
			if err := whyNotUpdated(ctx, pool, id, store.RequestApproved); err != nil {
				return err
			}
			// Approved after all: another replica approved it after the
			// update looked. Try again.
		}
		return fmt.Errorf("request kept changing under the update: %w", store.ErrConflict)
	})
	return s.wrap(op, err)
}

// whyNotUpdated explains an update of request id, conditional on status
// want, that changed no row: store.ErrNotFound if there is no such request,
// store.ErrConflict if it is in another state, nil if it is in state want
// now (it got there after the update looked, so the caller tries again).
func whyNotUpdated(ctx context.Context, pool *pgxpool.Pool, id string, want store.RequestStatus) error {
	var status string
	err := pool.QueryRow(ctx, `SELECT status FROM requests WHERE id = $1`, id).Scan(&status)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return store.ErrNotFound
	case err != nil:
		return err
	case store.RequestStatus(status) != want:
		return fmt.Errorf("request is %s, not %s: %w", status, want, store.ErrConflict)
	}
	return nil
}

// scanRequest reads one row of requestColumns.
func scanRequest(row pgx.Row) (*store.PendingRequest, error) {
	var (
		r       store.PendingRequest
		status  string
		created time.Time
		decided *time.Time
	)
	err := row.Scan(&r.ID, &r.Profile, &r.Key, &r.Protocol, &r.TransactionID, &r.Subject, &r.CSR,
		&r.DeviceID, &r.RequesterAddr, &status, &created, &decided, &r.DecidedBy, &r.Reason, &r.Serial)
	if err != nil {
		return nil, err
	}
	r.Status = store.RequestStatus(status)
	r.CreatedAt, r.DecidedAt = created.UTC(), fromNull(decided)
	if len(r.CSR) == 0 {
		r.CSR = nil
	}
	return &r, nil
}
