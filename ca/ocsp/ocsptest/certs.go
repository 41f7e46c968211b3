package ocsptest

import (
	"context"
	"math/big"
	"sync"
	"time"

	"github.com/certgate/certgate/store"
)

// Certs is an in-memory ocsp.CertSource. The zero value is ready to use
// and safe for concurrent use.
type Certs struct {
	mu      sync.Mutex
	recs    map[string]store.CertRecord
	err     error
	lookups int
	// hook, when set, runs in every lookup after the record is read and
	// before it is returned, so a test can change the store in between.
	hook func(serial *big.Int)
}

// Add records rec (a copy), replacing any record with its serial, and
// returns the copy's SerialHex.
func (c *Certs) Add(rec store.CertRecord) string {
	rec.Serial = new(big.Int).Set(rec.Serial)
	rec.SerialHex = store.SerialHex(rec.Serial)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.recs == nil {
		c.recs = make(map[string]store.CertRecord)
	}
	c.recs[rec.SerialHex] = rec
	return rec.SerialHex
}

// Revoke marks serial revoked, as store.Store.Revoke would; it returns
// store.ErrNotFound for an unknown serial.
func (c *Certs) Revoke(serial *big.Int, reason int, at time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	rec, ok := c.recs[store.SerialHex(serial)]
	if !ok {
		return store.ErrNotFound
	}
	rec.Status, rec.RevocationReason, rec.RevokedAt = store.StatusRevoked, reason, at
	c.recs[rec.SerialHex] = rec
	return nil
}

// Fail makes every lookup fail with err; nil restores them.
func (c *Certs) Fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.err = err
}

// OnLookup sets a function run in every lookup between reading the
// record and returning it (nil: none).
func (c *Certs) OnLookup(fn func(serial *big.Int)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hook = fn
}

// Lookups returns the number of Cert calls so far.
func (c *Certs) Lookups() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lookups
}

// Cert returns a copy of the record with serial, or store.ErrNotFound.
func (c *Certs) Cert(ctx context.Context, serial *big.Int) (*store.CertRecord, error) {
	c.mu.Lock()
	c.lookups++
	rec, ok := c.recs[store.SerialHex(serial)]
	err, hook := c.err, c.hook
	c.mu.Unlock()
	if hook != nil {
		hook(serial)
	}
	switch {
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case err != nil:
		return nil, err
	case !ok:
		return nil, store.ErrNotFound
	}
	return &rec, nil
}
