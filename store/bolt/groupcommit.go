package bolt

import (
	"errors"
	"sync"

	bbolt "go.etcd.io/bbolt"
)

// groupCommit runs write functions in shared transactions so that
// concurrent writers pay for one fsync between them (group commit).
//
// bbolt's own DB.Batch does the same but waits up to MaxBatchDelay for a
// batch to fill, which a lone enrollment would pay on every write. Here the
// first writer commits at once; writers that arrive while a commit is in
// progress queue up and go together in the next one. Every caller returns
// only after the transaction holding its write is committed and synced.
type groupCommit struct {
	db *bbolt.DB

	mu      sync.Mutex
	queue   []*writeCall
	running bool
}

type writeCall struct {
	fn   func(*bbolt.Tx) error
	err  error
	done chan struct{}
}

// do runs fn in a committed read-write transaction, possibly shared.
func (g *groupCommit) do(fn func(*bbolt.Tx) error) error {
	c := &writeCall{fn: fn, done: make(chan struct{})}
	g.mu.Lock()
	g.queue = append(g.queue, c)
	lead := !g.running
	g.running = true
	g.mu.Unlock()
	if lead {
		g.drain()
	}
	<-c.done
	return c.err
}

// drain commits queued calls until the queue is empty. The caller that
// found no commit running leads; the others wait for their done channel.
func (g *groupCommit) drain() {
	for {
		g.mu.Lock()
		batch := g.queue
		g.queue = nil
		if len(batch) == 0 {
			g.running = false
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()
		g.commit(batch)
	}
}

// errRetrySolo aborts a shared transaction in which one call failed.
var errRetrySolo = errors.New("bolt: group commit: retry calls one by one")

// commit runs the batch in one transaction. If any call fails, the whole
// transaction is rolled back and each call runs alone, so one writer's
// error (a serial conflict, say) never undoes or fails another's write.
func (g *groupCommit) commit(batch []*writeCall) {
	if len(batch) > 1 {
		err := g.db.Update(func(tx *bbolt.Tx) error {
			for _, c := range batch {
				if err := c.fn(tx); err != nil {
					return errRetrySolo
				}
			}
			return nil
		})
		if err == nil {
			for _, c := range batch {
				close(c.done)
			}
			return
		}
		if !errors.Is(err, errRetrySolo) {
			// The commit itself failed (disk full, I/O error): every write
			// in it is lost, and every caller must hear so.
			for _, c := range batch {
				c.err = err
				close(c.done)
			}
			return
		}
	}
	for _, c := range batch {
		c.err = g.db.Update(c.fn)
		close(c.done)
	}
}
