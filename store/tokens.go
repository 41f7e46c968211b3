package store

import (
	"context"
	"time"
)

// APIToken is an admin API bearer token, stored by the hash of its secret:
// the secret itself is shown once, when the token is created.
type APIToken struct {
	// ID is random (hex); it names the token in lists and deletion.
	ID   string `json:"id"`
	Name string `json:"name"`
	// Role is viewer, operator or admin.
	Role string `json:"role"`
	// Hash is the hex SHA-256 of the secret; unique.
	Hash      string    `json:"hash"`
	CreatedAt time.Time `json:"created_at"`
}

// Tokens keeps admin API tokens.
type Tokens interface {
	// PutToken stores t; ErrConflict when its ID or Hash exists.
	PutToken(ctx context.Context, t *APIToken) error
	// TokenByHash returns the token with that hash, or ErrNotFound.
	TokenByHash(ctx context.Context, hash string) (*APIToken, error)
	// ListTokens returns every token, ordered by ID.
	ListTokens(ctx context.Context) ([]*APIToken, error)
	// DeleteToken removes a token; ErrNotFound when there is none.
	DeleteToken(ctx context.Context, id string) error
}

// StaticSecret is a static challenge set through the admin API, stored by
// the hash of its secret.
type StaticSecret struct {
	// Hash is the hex SHA-256 of the secret.
	Hash      string    `json:"hash"`
	CreatedAt time.Time `json:"created_at"`
	// ExpiresAt is zero for the current secret; a rotation gives the
	// secrets it replaces (including the config's) an expiry, the end of
	// their grace period.
	ExpiresAt time.Time `json:"expires_at,omitempty"`
}

// Secrets keeps the static challenges rotated through the admin API, so
// every replica honours a rotation and it survives restarts.
type Secrets interface {
	// StaticSecrets returns the profile's managed secrets (none: empty).
	StaticSecrets(ctx context.Context, profile string) ([]StaticSecret, error)
	// RotateStaticSecret makes hash the profile's current secret, in one
	// step: every earlier current secret, and each hash in retire not yet
	// listed (the config's secrets), gets ExpiresAt graceUntil. Entries
	// whose grace ended before now are dropped, except those in retire:
	// a retired config secret must stay listed, or it would count again.
	RotateStaticSecret(ctx context.Context, profile, hash string, retire []string, graceUntil, now time.Time) error
}
