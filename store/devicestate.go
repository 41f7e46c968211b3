package store

import (
	"context"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"
)

// Holds lifts certificate holds. RFC 5280 §5.3.1 makes certificateHold the
// one reversible reason: a held certificate becomes valid again (it drops
// off the next complete CRL) or is revoked for good with another reason,
// which Store.Revoke records by replacing the reason.
type Holds interface {
	// ReleaseHold makes a certificate revoked with reason certificateHold
	// valid again (no revocation time or reason), and returns the record
	// as stored. ErrNotFound for an unknown serial; ErrConflict for any
	// record that is not on hold, so a permanent revocation can never be
	// undone through it.
	ReleaseHold(ctx context.Context, serial *big.Int) (*CertRecord, error)
}

// Device-state verdicts as DeviceState.State records them.
const (
	// DeviceGood: the MDM confirmed the device exists and is in good
	// standing.
	DeviceGood = "good"
	// DeviceHeld: the device is in a reversible bad state (disabled,
	// non-compliant), or was not confirmed for too long (fail_closed).
	DeviceHeld = "held"
	// DeviceRevoked: the device is gone for good (deleted, wiped,
	// retired).
	DeviceRevoked = "revoked"
	// DeviceUnknown: the MDM has not answered yet.
	DeviceUnknown = "unknown"
)

// DeviceState is the last known state of one device in one MDM, as the
// device-state checker (validate/devicestate) keeps it between checks and
// across restarts.
type DeviceState struct {
	// Source is the MDM asked: intune, entra, jamf or workspaceone.
	Source string `json:"source"`
	// Key is the device ID recorded on its certificates
	// (CertRecord.DeviceID). At most 1024 bytes.
	Key string `json:"key"`
	// State is DeviceGood, DeviceHeld, DeviceRevoked or DeviceUnknown.
	State string `json:"state"`
	// Detail is what the MDM said, for operators (e.g. "managementState
	// wipePending", "accountEnabled false"); never a secret.
	Detail string `json:"detail,omitempty"`
	// ConfirmedAt is when the MDM last gave a definitive answer; zero
	// when it never has.
	ConfirmedAt time.Time `json:"confirmed_at,omitempty"`
	// CheckedAt is when the device was last looked up, answered or not.
	CheckedAt time.Time `json:"checked_at"`
	// EnrolledAt is the enrollment time the MDM reported, if any; the
	// compliance grace period counts from it.
	EnrolledAt time.Time `json:"enrolled_at,omitempty"`
	// Held lists the serials (hex) the checker itself put on hold, so it
	// lifts only those and never an operator's hold.
	Held []string `json:"held,omitempty"`
}

// MaxDeviceKey caps DeviceState.Key in bytes; a longer key is ErrInvalid.
const MaxDeviceKey = 1024

// DeviceStates keeps the last known state of devices.
type DeviceStates interface {
	// DeviceState returns the state of (source, key), or ErrNotFound.
	DeviceState(ctx context.Context, source, key string) (*DeviceState, error)
	// PutDeviceState stores a copy of d, replacing any state of its
	// (Source, Key). Empty Source or Key, or a Key longer than
	// MaxDeviceKey, is ErrInvalid.
	PutDeviceState(ctx context.Context, d *DeviceState) error
	// UpdateDeviceState changes the state of (source, key) atomically:
	// fn gets the stored state (or, when there is none, a new one with
	// Source, Key and State DeviceUnknown) and changes it in place, and
	// the result is stored and returned. No other update of that device
	// runs between the read and the write, so replicas checking one
	// device at once merge their changes instead of losing one. fn may
	// run more than once; it must not change Source or Key.
	UpdateDeviceState(ctx context.Context, source, key string, fn func(d *DeviceState)) (*DeviceState, error)
	// DeviceStates returns every stored state, ordered by source and
	// then key, for store/migrate.
	DeviceStates(ctx context.Context) ([]*DeviceState, error)
}

// CheckDeviceStateKey returns nil if (source, key) can name a stored
// DeviceState; the error wraps ErrInvalid. Backends call it so that both
// refuse the same keys.
func CheckDeviceStateKey(source, key string) error {
	switch {
	case source == "" || key == "":
		return fmt.Errorf("store: device state needs a source and a key: %w", ErrInvalid)
	case len(source) > 64 || len(key) > MaxDeviceKey:
		return fmt.Errorf("store: device state source or key too long (at most 64 and %d bytes): %w", MaxDeviceKey, ErrInvalid)
	}
	return nil
}

// SortDeviceStates orders states by source and then key, byte-wise.
func SortDeviceStates(list []*DeviceState) {
	slices.SortFunc(list, func(a, b *DeviceState) int {
		if c := strings.Compare(a.Source, b.Source); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
}
