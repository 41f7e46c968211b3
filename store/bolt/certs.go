package bolt

import (
	"context"
	"fmt"
	"math/big"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/certgate/certgate/store"
)

// Reserve implements store.Store. It stores a copy of r with status
// reserved, CreatedAt defaulting to Options.Now, and no revocation; r itself
// is not modified.
func (s *Store) Reserve(ctx context.Context, r *store.CertRecord) error {
	if r == nil {
		return fmt.Errorf("store: bolt: reserve: nil record: %w", store.ErrInvalid)
	}
	label := serialLabel(r.Serial)
	sk, err := writableSerialKey(r.Serial)
	if err != nil {
		return fmt.Errorf("store: bolt: reserve %s: %w", label, err)
	}
	rec := *r
	rec.SerialHex = store.SerialHex(r.Serial)
	rec.Status = store.StatusReserved
	rec.RevokedAt, rec.RevocationReason = time.Time{}, 0
	if rec.CreatedAt.IsZero() {
		rec.CreatedAt = s.now()
	}
	err = s.update(ctx, func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketCerts).Get(sk) != nil {
			return fmt.Errorf("serial already recorded: %w", store.ErrConflict)
		}
		return putRecord(tx, sk, nil, &rec)
	})
	if err != nil {
		return fmt.Errorf("store: bolt: reserve %s: %w", label, err)
	}
	return nil
}

// Issue implements store.Store. It replaces the reservation with a copy of
// r, status valid, IssuedAt defaulting to Options.Now. CreatedAt is kept from
// the reservation, since it records when the serial was taken. r must carry
// the certificate's DER.
func (s *Store) Issue(ctx context.Context, r *store.CertRecord) error {
	if r == nil {
		return fmt.Errorf("store: bolt: issue: nil record: %w", store.ErrInvalid)
	}
	label := serialLabel(r.Serial)
	sk, err := writableSerialKey(r.Serial)
	if err != nil {
		return fmt.Errorf("store: bolt: issue %s: %w", label, err)
	}
	if len(r.DER) == 0 {
		return fmt.Errorf("store: bolt: issue %s: record has no DER: %w", label, store.ErrInvalid)
	}
	rec := *r
	rec.SerialHex = store.SerialHex(r.Serial)
	rec.Status = store.StatusValid
	rec.RevokedAt, rec.RevocationReason = time.Time{}, 0
	if rec.IssuedAt.IsZero() {
		rec.IssuedAt = s.now()
	}
	err = s.update(ctx, func(tx *bbolt.Tx) error {
		old, err := getRecord(tx, sk)
		if err != nil {
			return err
		}
		if old == nil {
			return fmt.Errorf("no reservation: %w", store.ErrNotFound)
		}
		if old.Status != store.StatusReserved {
			return fmt.Errorf("record is %s, not reserved: %w", old.Status, store.ErrConflict)
		}
		rec.CreatedAt = old.CreatedAt
		return putRecord(tx, sk, old, &rec)
	})
	if err != nil {
		return fmt.Errorf("store: bolt: issue %s: %w", label, err)
	}
	return nil
}

// Cert implements store.Store.
func (s *Store) Cert(ctx context.Context, serial *big.Int) (*store.CertRecord, error) {
	label := serialLabel(serial)
	sk, err := readableSerialKey(serial)
	if err != nil {
		return nil, fmt.Errorf("store: bolt: cert %s: %w", label, err)
	}
	var rec *store.CertRecord
	err = s.view(ctx, func(tx *bbolt.Tx) error {
		var err error
		rec, err = getRecord(tx, sk)
		if err == nil && rec == nil {
			err = store.ErrNotFound
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: bolt: cert %s: %w", label, err)
	}
	return rec, nil
}

// Revoke implements store.Store. A zero at means Options.Now. The reason
// must pass store.CheckRevokeReason.
func (s *Store) Revoke(ctx context.Context, serial *big.Int, reason int, at time.Time) (*store.CertRecord, error) {
	label := serialLabel(serial)
	if err := store.CheckRevokeReason(reason); err != nil {
		return nil, fmt.Errorf("store: bolt: revoke %s: %w", label, err)
	}
	sk, err := readableSerialKey(serial)
	if err != nil {
		return nil, fmt.Errorf("store: bolt: revoke %s: %w", label, err)
	}
	if at.IsZero() {
		at = s.now()
	}
	var rec *store.CertRecord
	err = s.update(ctx, func(tx *bbolt.Tx) error {
		old, err := getRecord(tx, sk)
		if err != nil {
			return err
		}
		if old == nil {
			return store.ErrNotFound
		}
		next := *old
		switch old.Status {
		case store.StatusValid:
			next.Status = store.StatusRevoked
			next.RevokedAt, next.RevocationReason = at, reason
		case store.StatusRevoked:
			if !store.ReasonReplaces(old.RevocationReason, reason) {
				rec = old
				return nil
			}
			next.RevocationReason = reason
		case store.StatusReserved:
			return fmt.Errorf("a reservation has no certificate to revoke: %w", store.ErrConflict)
		default:
			return fmt.Errorf("record has unknown status %q: %w", old.Status, store.ErrConflict)
		}
		rec = &next
		return putRecord(tx, sk, old, &next)
	})
	if err != nil {
		return nil, fmt.Errorf("store: bolt: revoke %s: %w", label, err)
	}
	return rec, nil
}

// ReleaseHold implements store.Holds.
func (s *Store) ReleaseHold(ctx context.Context, serial *big.Int) (*store.CertRecord, error) {
	label := serialLabel(serial)
	sk, err := readableSerialKey(serial)
	if err != nil {
		return nil, fmt.Errorf("store: bolt: release hold %s: %w", label, err)
	}
	var rec *store.CertRecord
	err = s.update(ctx, func(tx *bbolt.Tx) error {
		old, err := getRecord(tx, sk)
		if err != nil {
			return err
		}
		if old == nil {
			return store.ErrNotFound
		}
		if old.Status != store.StatusRevoked || old.RevocationReason != store.ReasonCertificateHold {
			return fmt.Errorf("record is %s, not on hold: %w", old.Status, store.ErrConflict)
		}
		next := *old
		next.Status = store.StatusValid
		next.RevokedAt, next.RevocationReason = time.Time{}, 0
		rec = &next
		return putRecord(tx, sk, old, &next)
	})
	if err != nil {
		return nil, fmt.Errorf("store: bolt: release hold %s: %w", label, err)
	}
	return rec, nil
}

// serialLabel is how error messages name a serial, including a missing one.
func serialLabel(serial *big.Int) string {
	if serial == nil {
		return "<nil serial>"
	}
	return serial.Text(16)
}

// writableSerialKey is the key a new record is filed under; any serial that
// cannot be stored is ErrInvalid.
func writableSerialKey(serial *big.Int) ([]byte, error) {
	if serial == nil || serial.Sign() <= 0 {
		return nil, fmt.Errorf("serial must be a positive integer: %w", store.ErrInvalid)
	}
	sk, ok := serialKey(serial)
	if !ok {
		return nil, fmt.Errorf("serial is %d bytes, RFC 5280 allows at most %d: %w", (serial.BitLen()+7)/8, serialKeyLen, store.ErrInvalid)
	}
	return sk, nil
}

// readableSerialKey is like writableSerialKey, except that a serial too long
// to store is ErrNotFound: it is well-formed, there is just no such record.
func readableSerialKey(serial *big.Int) ([]byte, error) {
	if serial == nil || serial.Sign() <= 0 {
		return nil, fmt.Errorf("serial must be a positive integer: %w", store.ErrInvalid)
	}
	sk, ok := serialKey(serial)
	if !ok {
		return nil, store.ErrNotFound
	}
	return sk, nil
}
