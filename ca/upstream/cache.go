package upstream

import (
	"context"
	"sync"
	"time"
)

// cache holds one value fetched from the upstream (its chain, its SCEP
// capabilities). It is refreshed lazily, by the first call after it
// expired, so nothing runs in the background; callers that find a refresh
// in flight get the old value rather than wait, and a failed refresh
// serves the old value again (stale beats nothing: the chain rarely
// changes, and a device that cannot get it cannot enroll).
type cache[T any] struct {
	refresh time.Duration
	now     func() time.Time
	fetch   func(ctx context.Context) (T, error)

	mu       sync.Mutex
	val      T
	have     bool
	fetched  time.Time
	inflight chan struct{} // closed when the running fetch ends
}

func newCache[T any](refresh time.Duration, now func() time.Time, fetch func(context.Context) (T, error)) *cache[T] {
	if refresh <= 0 {
		refresh = DefaultChainRefresh
	}
	return &cache[T]{refresh: refresh, now: now, fetch: fetch}
}

// get returns the cached value, fetching it if it is missing or expired.
// Its error is the fetch's, or ctx's while waiting for another caller's
// fetch; it is returned only when no value was ever fetched.
func (c *cache[T]) get(ctx context.Context) (T, error) {
	for {
		c.mu.Lock()
		if c.have && c.now().Sub(c.fetched) < c.refresh {
			v := c.val
			c.mu.Unlock()
			return v, nil
		}
		if wait := c.inflight; wait != nil {
			if c.have {
				v := c.val
				c.mu.Unlock()
				return v, nil
			}
			c.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				var zero T
				return zero, ctx.Err()
			}
		}
		done := make(chan struct{})
		c.inflight = done
		c.mu.Unlock()

		v, err := c.fetch(ctx)

		c.mu.Lock()
		c.inflight = nil
		close(done)
		if err == nil {
			c.val, c.have, c.fetched = v, true, c.now()
		} else if c.have {
			v, err = c.val, nil
		}
		c.mu.Unlock()
		return v, err
	}
}

// invalidate makes the next get fetch again; the old value stays as the
// fallback.
func (c *cache[T]) invalidate() {
	c.mu.Lock()
	c.fetched = time.Time{}
	c.mu.Unlock()
}
