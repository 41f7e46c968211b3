package ocsptest

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/certgate/certgate/store"
)

// ErrInjected is what a call fails with when its failure knob is set.
var ErrInjected = errors.New("ocsptest: injected failure")

// Op names a Cache method, for failure knobs and counters.
type Op int

// Cache operations.
const (
	OpGet Op = iota
	OpPut
	OpDelete
	OpRange
	numOps
)

// Cache is an in-memory store.Cache. Like a real backend it stores
// copies, so neither the caller's blob nor a returned one is shared. The
// zero value is ready to use and safe for concurrent use.
type Cache struct {
	mu    sync.Mutex
	blobs map[store.BlobKind]map[string]store.Blob
	fail  [numOps]bool
	calls [numOps]int
}

var _ store.Cache = (*Cache)(nil)

// Fail makes op fail with ErrInjected (or succeed again, with false).
func (c *Cache) Fail(op Op, fail bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fail[op] = fail
}

// Calls returns how often op was called, failed calls included.
func (c *Cache) Calls(op Op) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[op]
}

// Len returns the number of blobs of kind.
func (c *Cache) Len(kind store.BlobKind) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.blobs[kind])
}

// enter counts op and reports whether it is to fail; c.mu is held.
func (c *Cache) enter(ctx context.Context, op Op) error {
	c.calls[op]++
	if err := ctx.Err(); err != nil {
		return err
	}
	if c.fail[op] {
		return ErrInjected
	}
	return nil
}

// GetBlob implements store.Cache.
func (c *Cache) GetBlob(ctx context.Context, kind store.BlobKind, key string) (*store.Blob, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.enter(ctx, OpGet); err != nil {
		return nil, err
	}
	b, ok := c.blobs[kind][key]
	if !ok {
		return nil, store.ErrNotFound
	}
	return clone(&b), nil
}

// PutBlob implements store.Cache.
func (c *Cache) PutBlob(ctx context.Context, kind store.BlobKind, key string, b *store.Blob) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.enter(ctx, OpPut); err != nil {
		return err
	}
	if key == "" || b == nil {
		return store.ErrInvalid
	}
	if c.blobs == nil {
		c.blobs = make(map[store.BlobKind]map[string]store.Blob)
	}
	if c.blobs[kind] == nil {
		c.blobs[kind] = make(map[string]store.Blob)
	}
	c.blobs[kind][key] = *clone(b)
	return nil
}

// DeleteBlob implements store.Cache.
func (c *Cache) DeleteBlob(ctx context.Context, kind store.BlobKind, key string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.enter(ctx, OpDelete); err != nil {
		return err
	}
	delete(c.blobs[kind], key)
	return nil
}

// RangeBlobs implements store.Cache. fn runs with the Cache locked, so,
// as the interface says, it must not call back into it.
func (c *Cache) RangeBlobs(ctx context.Context, kind store.BlobKind, fn func(key string, b *store.Blob) bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.enter(ctx, OpRange); err != nil {
		return err
	}
	keys := make([]string, 0, len(c.blobs[kind]))
	for k := range c.blobs[kind] {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		b := c.blobs[kind][k]
		if !fn(k, clone(&b)) {
			break
		}
	}
	return nil
}

func clone(b *store.Blob) *store.Blob {
	c := *b
	c.Data = slices.Clone(b.Data)
	return &c
}
