package store

import "context"

// Exporter lists what the narrower interfaces cannot enumerate, so that a
// store can be copied whole (store/migrate). Challenges are normally only
// consumed, static secrets read per profile and sequences advanced, none of
// which tells what exists.
type Exporter interface {
	// Challenges returns every challenge, expired ones included, ordered
	// by profile and then hash.
	Challenges(ctx context.Context) ([]*Challenge, error)
	// StaticSecretProfiles returns the profiles that have managed static
	// secrets, in byte order.
	StaticSecretProfiles(ctx context.Context) ([]string, error)
	// Sequences returns the last number handed out by every sequence.
	Sequences(ctx context.Context) (map[string]uint64, error)
}

// Importer writes records exactly as another store holds them. Reserve,
// Issue and Revoke cannot: they fix the status, and a revoked record
// without a revocation time would get the importer's clock. Importing is
// for a migration while no server uses the target; it skips the checks and
// notifications of the regular methods, beyond those that keep the store
// readable.
type Importer interface {
	// ImportRecords stores every record as given (status, times and
	// revocation included) in one all-or-nothing write: ErrConflict, and
	// nothing written, when any serial is already recorded. A record that
	// is not reserved must carry DER; an unknown status is ErrInvalid.
	ImportRecords(ctx context.Context, recs []*CertRecord) error
	// ImportRequest stores r as given, whatever its status: ErrConflict
	// when its ID, or its (Profile, Key), is taken.
	ImportRequest(ctx context.Context, r *PendingRequest) error
	// ImportStaticSecret adds sec to the profile's managed secrets as
	// given: ErrConflict when the profile already lists that hash.
	ImportStaticSecret(ctx context.Context, profile string, sec StaticSecret) error
	// RaiseSequence makes the last number of the sequence at least last,
	// never lowering it, so no number already handed out on either side
	// is handed out again.
	RaiseSequence(ctx context.Context, name string, last uint64) error
}
