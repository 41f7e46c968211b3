package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/certgate/certgate/store"
)

var (
	_ store.DeviceStates = (*Store)(nil)
	_ store.Holds        = (*Store)(nil)
)

// deviceStateColumns are the device_states columns in scanDeviceState's
// order.
const deviceStateColumns = `source, device_key, state, detail, confirmed_at, checked_at, enrolled_at, held`

// DeviceState implements store.DeviceStates.
func (s *Store) DeviceState(ctx context.Context, source, key string) (*store.DeviceState, error) {
	op := "device state " + label(source) + "/" + label(key)
	if err := store.CheckDeviceStateKey(source, key); err != nil {
		return nil, fmt.Errorf("store: postgres: %s: %w", op, err)
	}
	if err := readablePair("source", source, "device key", key); err != nil {
		return nil, fmt.Errorf("store: postgres: %s: %w", op, err)
	}
	return queryOne(ctx, s, op, scanDeviceState, `SELECT `+deviceStateColumns+` FROM device_states WHERE source = $1 AND device_key = $2`, source, key)
}

// PutDeviceState implements store.DeviceStates as an update that
// replaces the whole state.
func (s *Store) PutDeviceState(ctx context.Context, d *store.DeviceState) error {
	if d == nil {
		return fmt.Errorf("store: postgres: put device state: nil state: %w", store.ErrInvalid)
	}
	_, err := s.UpdateDeviceState(ctx, d.Source, d.Key, func(cur *store.DeviceState) { *cur = *d })
	return err
}

// UpdateDeviceState implements store.DeviceStates in one transaction: the
// row is created if missing, then locked (FOR UPDATE), so a replica
// updating the same device waits and then reads this one's result.
func (s *Store) UpdateDeviceState(ctx context.Context, source, key string, fn func(d *store.DeviceState)) (*store.DeviceState, error) {
	op := "update device state " + label(source) + "/" + label(key)
	if err := store.CheckDeviceStateKey(source, key); err != nil {
		return nil, fmt.Errorf("store: postgres: %s: %w", op, err)
	}
	if err := writablePair("source", source, "device key", key); err != nil {
		return nil, fmt.Errorf("store: postgres: %s: %w", op, err)
	}
	var out *store.DeviceState
	err := s.do(ctx, func(pool *pgxpool.Pool) error {
		return retryConcurrent(func() error {
			return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, `INSERT INTO device_states (`+deviceStateColumns+`) VALUES ($1, $2, $3, '', NULL, $4, NULL, '{}')
					ON CONFLICT (source, device_key) DO NOTHING`, source, key, store.DeviceUnknown, s.now()); err != nil {
					return err
				}
				d, err := scanDeviceState(tx.QueryRow(ctx, `SELECT `+deviceStateColumns+` FROM device_states WHERE source = $1 AND device_key = $2 FOR UPDATE`, source, key))
				if err != nil {
					return err
				}
				fn(d)
				d.Source, d.Key = source, key
				held := d.Held
				if held == nil {
					held = []string{}
				}
				if _, err := tx.Exec(ctx, `UPDATE device_states SET state = $3, detail = $4, confirmed_at = $5, checked_at = $6, enrolled_at = $7, held = $8
					WHERE source = $1 AND device_key = $2`,
					source, key, cleanText(d.State), cleanText(d.Detail), nullTime(d.ConfirmedAt), d.CheckedAt, nullTime(d.EnrolledAt), cleanList(held)); err != nil {
					return err
				}
				out = d
				return nil
			})
		})
	})
	if err != nil {
		return nil, s.wrap(op, err)
	}
	return out, nil
}

// DeviceStates implements store.DeviceStates.
func (s *Store) DeviceStates(ctx context.Context) ([]*store.DeviceState, error) {
	return queryAll(ctx, s, "device states", scanDeviceState, `SELECT `+deviceStateColumns+` FROM device_states ORDER BY source, device_key`)
}

func scanDeviceState(row pgx.Row) (*store.DeviceState, error) {
	d := new(store.DeviceState)
	var confirmed, enrolled *time.Time
	if err := row.Scan(&d.Source, &d.Key, &d.State, &d.Detail, &confirmed, &d.CheckedAt, &enrolled, &d.Held); err != nil {
		return nil, err
	}
	if confirmed != nil {
		d.ConfirmedAt = *confirmed
	}
	if enrolled != nil {
		d.EnrolledAt = *enrolled
	}
	if len(d.Held) == 0 {
		d.Held = nil
	}
	return d, nil
}
