package store

import (
	"context"
	"time"
)

// BlobKind names a family of cached blobs.
type BlobKind string

// Blob families.
const (
	// BlobOCSP holds pre-signed OCSP responses, keyed by issuer name and
	// serial (see ocsp).
	BlobOCSP BlobKind = "ocsp"
	// BlobCRL holds the current CRL of each CA, keyed by CA name.
	BlobCRL BlobKind = "crl"
)

// Blob is a derived, re-creatable artefact: losing one costs a re-sign,
// never a fact. The certificate records stay the source of truth.
type Blob struct {
	Data []byte `json:"data"`
	// ThisUpdate and NextUpdate are the validity the blob itself states.
	ThisUpdate time.Time `json:"this_update"`
	NextUpdate time.Time `json:"next_update"`
	// RefreshAt is when a background refresher should replace it.
	RefreshAt time.Time `json:"refresh_at"`
	// Status is what the blob asserts (e.g. "good", "revoked"), so a
	// reader can check it against the record without parsing Data.
	Status string `json:"status,omitempty"`
}

// Cache keeps blobs. Backends that implement it alongside Store let OCSP
// and CRL answers survive restarts without re-signing.
type Cache interface {
	// GetBlob returns the blob or ErrNotFound.
	GetBlob(ctx context.Context, kind BlobKind, key string) (*Blob, error)
	// PutBlob stores (replaces) a blob.
	PutBlob(ctx context.Context, kind BlobKind, key string, b *Blob) error
	// DeleteBlob removes a blob; a missing one is not an error.
	DeleteBlob(ctx context.Context, kind BlobKind, key string) error
	// RangeBlobs calls fn for every blob of kind, in key order, until fn
	// returns false. fn must not call back into the cache.
	RangeBlobs(ctx context.Context, kind BlobKind, fn func(key string, b *Blob) bool) error
}

// Sequencer hands out durable, strictly increasing numbers (CRL numbers,
// RFC 5280 §5.2.3): a number once returned is never returned again, even
// across a crash.
type Sequencer interface {
	NextSequence(ctx context.Context, name string) (uint64, error)
}
