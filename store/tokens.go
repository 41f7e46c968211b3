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
