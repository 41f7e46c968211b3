package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/certgate/certgate/store"
)

// pgUniqueViolation is SQLSTATE unique_violation.
const pgUniqueViolation = "23505"

// maxRaceRetries bounds the retries of Issue and Revoke when another
// replica changed the record between their update and their re-read. A
// record's status only moves forward (reserved, valid, revoked), so one
// retry always settles it; the bound only guards against a bug.
const maxRaceRetries = 3

// Reserve implements store.Store. It stores a copy of r with status
// reserved, CreatedAt defaulting to Options.Now, and no revocation. The
// primary key is the gate: of several replicas reserving one serial, one
// insert commits and the others get store.ErrConflict.
func (s *Store) Reserve(ctx context.Context, r *store.CertRecord) error {
	if r == nil {
		return fmt.Errorf("store: postgres: reserve: nil record: %w", store.ErrInvalid)
	}
	label := serialLabel(r.Serial)
	sk, err := writableSerialKey(r.Serial)
	if err != nil {
		return fmt.Errorf("store: postgres: reserve %s: %w", label, err)
	}
	rec := *r
	rec.RevokedAt, rec.RevocationReason = time.Time{}, 0
	if rec.CreatedAt.IsZero() {
		rec.CreatedAt = s.now()
	}
	sql, args := writeSQL(&rec, sk, true)
	err = s.do(ctx, func(pool *pgxpool.Pool) error {
		_, err := pool.Exec(ctx, sql, args...)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == pgUniqueViolation {
			return fmt.Errorf("serial already recorded: %w", store.ErrConflict)
		}
		return err
	})
	return s.wrap("reserve "+label, err)
}

// Issue implements store.Store. It replaces the reservation with a copy of
// r, status valid, IssuedAt defaulting to Options.Now. CreatedAt is kept from
// the reservation, since it records when the serial was taken. r must carry
// the certificate's DER.
func (s *Store) Issue(ctx context.Context, r *store.CertRecord) error {
	if r == nil {
		return fmt.Errorf("store: postgres: issue: nil record: %w", store.ErrInvalid)
	}
	label := serialLabel(r.Serial)
	sk, err := writableSerialKey(r.Serial)
	if err != nil {
		return fmt.Errorf("store: postgres: issue %s: %w", label, err)
	}
	if len(r.DER) == 0 {
		return fmt.Errorf("store: postgres: issue %s: record has no DER: %w", label, store.ErrInvalid)
	}
	rec := *r
	rec.RevokedAt, rec.RevocationReason = time.Time{}, 0
	if rec.IssuedAt.IsZero() {
		rec.IssuedAt = s.now()
	}
	sql, args := writeSQL(&rec, sk, false)
	err = s.do(ctx, func(pool *pgxpool.Pool) error {
		for range maxRaceRetries {
			tag, err := pool.Exec(ctx, sql, args...)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 1 {
				return nil
			}
			// Not updated: find out why.
			status, err := recordStatus(ctx, pool, sk)
			switch {
			case err != nil:
				return err
			case status == "":
				return fmt.Errorf("no reservation: %w", store.ErrNotFound)
			case status != store.StatusReserved:
				return fmt.Errorf("record is %s, not reserved: %w", status, store.ErrConflict)
			}
			// Reserved after all: another replica reserved it after the
			// update looked. Try again.
		}
		return fmt.Errorf("record kept changing under the update: %w", store.ErrConflict)
	})
	return s.wrap("issue "+label, err)
}

// recordStatus returns the status of the record under sk, or "" if there
// is none.
func recordStatus(ctx context.Context, pool *pgxpool.Pool, sk []byte) (store.Status, error) {
	var status string
	err := pool.QueryRow(ctx, `SELECT status FROM certs WHERE serial = $1`, sk).Scan(&status)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return store.Status(status), err
}

// Cert implements store.Store.
func (s *Store) Cert(ctx context.Context, serial *big.Int) (*store.CertRecord, error) {
	label := serialLabel(serial)
	sk, err := readableSerialKey(serial)
	if err != nil {
		return nil, fmt.Errorf("store: postgres: cert %s: %w", label, err)
	}
	var rec *store.CertRecord
	err = s.do(ctx, func(pool *pgxpool.Pool) error {
		var err error
		rec, err = scanRecord(pool.QueryRow(ctx, `SELECT `+recordColumns+` FROM certs WHERE serial = $1`, sk))
		if errors.Is(err, pgx.ErrNoRows) {
			err = store.ErrNotFound
		}
		return err
	})
	if err != nil {
		return nil, s.wrap("cert "+label, err)
	}
	return rec, nil
}

// Revoke implements store.Store. A zero at means Options.Now. The reason
// must pass store.CheckRevokeReason. The update only touches a valid
// record, or a revoked one whose reason store.ReasonReplaces lets change
// (the WHERE clause is that function in SQL); anything else is answered
// from a re-read, so an idempotent revocation writes nothing.
func (s *Store) Revoke(ctx context.Context, serial *big.Int, reason int, at time.Time) (*store.CertRecord, error) {
	label := serialLabel(serial)
	if err := store.CheckRevokeReason(reason); err != nil {
		return nil, fmt.Errorf("store: postgres: revoke %s: %w", label, err)
	}
	sk, err := readableSerialKey(serial)
	if err != nil {
		return nil, fmt.Errorf("store: postgres: revoke %s: %w", label, err)
	}
	if at.IsZero() {
		at = s.now()
	}
	var rec *store.CertRecord
	err = s.do(ctx, func(pool *pgxpool.Pool) error {
		for range maxRaceRetries {
			var err error
			rec, err = scanRecord(pool.QueryRow(ctx, `UPDATE certs SET
				status = 'revoked',
				revoked_at = CASE WHEN status = 'valid' THEN $2 ELSE revoked_at END,
				revocation_reason = $3
				WHERE serial = $1 AND (status = 'valid' OR (status = 'revoked'
					AND revocation_reason <> $3 AND revocation_reason <> $4::smallint
					AND ($3 = $4::smallint OR revocation_reason = $5::smallint)))
				RETURNING `+recordColumns, sk, at, reason, store.ReasonKeyCompromise, store.ReasonCertificateHold))
			if err == nil {
				// Tell the other replicas at once (their OCSP caches hold
				// "good"); RevokedSince catches what a listener misses.
				_, _ = pool.Exec(ctx, `SELECT pg_notify($1, $2)`, revocationChannel, rec.Issuer+" "+rec.SerialHex)
			}
			if !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
			// Not updated: unknown, a reservation, or revoked already.
			rec, err = scanRecord(pool.QueryRow(ctx, `SELECT `+recordColumns+` FROM certs WHERE serial = $1`, sk))
			switch {
			case errors.Is(err, pgx.ErrNoRows):
				return store.ErrNotFound
			case err != nil:
				return err
			case rec.Status == store.StatusRevoked:
				return nil
			case rec.Status == store.StatusReserved:
				return fmt.Errorf("a reservation has no certificate to revoke: %w", store.ErrConflict)
			case rec.Status != store.StatusValid:
				return fmt.Errorf("record has unknown status %q: %w", rec.Status, store.ErrConflict)
			}
			// Valid after all: another replica issued it after the update
			// looked. Try again.
		}
		return fmt.Errorf("record kept changing under the update: %w", store.ErrConflict)
	})
	if err != nil {
		return nil, s.wrap("revoke "+label, err)
	}
	return rec, nil
}

// ReleaseHold implements store.Holds. hold_released_at lets replicas that
// missed the notification find the change in RevokedSince.
func (s *Store) ReleaseHold(ctx context.Context, serial *big.Int) (*store.CertRecord, error) {
	label := serialLabel(serial)
	sk, err := readableSerialKey(serial)
	if err != nil {
		return nil, fmt.Errorf("store: postgres: release hold %s: %w", label, err)
	}
	var rec *store.CertRecord
	err = s.do(ctx, func(pool *pgxpool.Pool) error {
		var err error
		rec, err = scanRecord(pool.QueryRow(ctx, `UPDATE certs SET
			status = 'valid', revoked_at = NULL, revocation_reason = 0, hold_released_at = $2
			WHERE serial = $1 AND status = 'revoked' AND revocation_reason = $3
			RETURNING `+recordColumns, sk, s.now(), store.ReasonCertificateHold))
		if err == nil {
			// Other replicas hold a cached "revoked" to drop, as after
			// a revocation: same channel, same payload.
			_, _ = pool.Exec(ctx, `SELECT pg_notify($1, $2)`, revocationChannel, rec.Issuer+" "+rec.SerialHex)
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		status, err := recordStatus(ctx, pool, sk)
		switch {
		case err != nil:
			return err
		case status == "":
			return store.ErrNotFound
		}
		return fmt.Errorf("record is %s, not on hold: %w", status, store.ErrConflict)
	})
	if err != nil {
		return nil, s.wrap("release hold "+label, err)
	}
	return rec, nil
}
