package postgres

import (
	"context"
	"sync"
	"testing"

	"github.com/certgate/certgate/store"
	"github.com/certgate/certgate/store/storetest"
)

// The suites run in parallel with each other (each of their cases
// still runs alone): most of their time is the server creating and
// dropping databases.

func TestConformance(t *testing.T) {
	adminDSN(t)
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store {
		return openTest(t, Options{})
	})
}

func TestCacheConformance(t *testing.T) {
	adminDSN(t)
	t.Parallel()
	open := openNamed(t)
	storetest.RunCache(t, func(st *testing.T, db string) storetest.CacheStore { return open(st, db) })
}

// openNamed returns a factory for the suites that reopen a db by name
// (RunCache, RunRequests, RunChallenges, RunTokens): each name maps to one
// database for the whole of t, dropped when t ends.
func openNamed(t *testing.T) func(st *testing.T, db string) *Store {
	var mu sync.Mutex
	dsns := map[string]string{}
	return func(st *testing.T, db string) *Store {
		mu.Lock()
		dsn, ok := dsns[db]
		if !ok {
			var drop func(testing.TB)
			dsn, drop = createDatabase(st)
			t.Cleanup(func() { drop(t) })
			dsns[db] = dsn
		}
		mu.Unlock()
		s, err := Open(context.Background(), Options{DSN: dsn})
		if err != nil {
			st.Fatalf("Open %s: %v", db, err)
		}
		return s
	}
}
