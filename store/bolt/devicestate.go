package bolt

import (
	"context"
	"encoding/json"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/certgate/certgate/store"
)

var (
	_ store.DeviceStates = (*Store)(nil)
	_ store.Holds        = (*Store)(nil)
)

// DeviceState implements store.DeviceStates.
func (s *Store) DeviceState(ctx context.Context, source, key string) (*store.DeviceState, error) {
	if err := store.CheckDeviceStateKey(source, key); err != nil {
		return nil, fmt.Errorf("store: bolt: device state: %w", err)
	}
	k, _ := pairKey(source, key) // CheckDeviceStateKey bounds the length
	var out *store.DeviceState
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketDeviceStates).Get(k)
		if v == nil {
			return store.ErrNotFound
		}
		out = new(store.DeviceState)
		return json.Unmarshal(v, out)
	})
	if err != nil {
		return nil, fmt.Errorf("store: bolt: device state %s/%q: %w", source, key, err)
	}
	return out, nil
}

// PutDeviceState implements store.DeviceStates as an update that
// replaces the whole state.
func (s *Store) PutDeviceState(ctx context.Context, d *store.DeviceState) error {
	if d == nil {
		return fmt.Errorf("store: bolt: put device state: nil state: %w", store.ErrInvalid)
	}
	_, err := s.UpdateDeviceState(ctx, d.Source, d.Key, func(cur *store.DeviceState) { *cur = *d })
	return err
}

// UpdateDeviceState implements store.DeviceStates in one write
// transaction; bbolt runs one at a time.
func (s *Store) UpdateDeviceState(ctx context.Context, source, key string, fn func(d *store.DeviceState)) (*store.DeviceState, error) {
	if err := store.CheckDeviceStateKey(source, key); err != nil {
		return nil, fmt.Errorf("store: bolt: update device state: %w", err)
	}
	k, _ := pairKey(source, key)
	var out *store.DeviceState
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketDeviceStates)
		d := &store.DeviceState{Source: source, Key: key, State: store.DeviceUnknown}
		if v := b.Get(k); v != nil {
			d = new(store.DeviceState)
			if err := json.Unmarshal(v, d); err != nil {
				return err
			}
		}
		fn(d)
		d.Source, d.Key = source, key
		v, err := json.Marshal(d)
		if err != nil {
			return err
		}
		out = d
		return b.Put(k, v)
	})
	if err != nil {
		return nil, fmt.Errorf("store: bolt: update device state %s/%q: %w", source, key, err)
	}
	return out, nil
}

// DeviceStates implements store.DeviceStates. pairKey's length prefix
// orders by source length before source; the result is sorted as the
// interface promises.
func (s *Store) DeviceStates(ctx context.Context) ([]*store.DeviceState, error) {
	var out []*store.DeviceState
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketDeviceStates).ForEach(func(_, v []byte) error {
			d := new(store.DeviceState)
			if err := json.Unmarshal(v, d); err != nil {
				return err
			}
			out = append(out, d)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: bolt: device states: %w", err)
	}
	store.SortDeviceStates(out)
	return out, nil
}
