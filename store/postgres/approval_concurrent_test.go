package postgres

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/certgate/certgate/store"
)

// isolatedReplicas opens n Stores on one new database, as replicas would,
// with default_transaction_isolation set on the database when isolation is
// not empty, as an operator may do. It checks that the setting took, so a
// test cannot pass without racing under it.
func isolatedReplicas(t *testing.T, n int, isolation string) []*Store {
	t.Helper()
	dsn := newDatabase(t)
	want := "read committed"
	if isolation != "" {
		adminExec(t, dsn, `DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET default_transaction_isolation = %L',
			current_database(), '`+isolation+`'); END $$`)
		want = isolation
	}
	out := make([]*Store, n)
	for i := range out {
		s, err := Open(context.Background(), Options{DSN: dsn})
		if err != nil {
			t.Fatalf("Open replica %d: %v", i, err)
		}
		t.Cleanup(func() { s.Close() })
		var got string
		if err := s.pool.QueryRow(context.Background(), `SHOW default_transaction_isolation`).Scan(&got); err != nil {
			t.Fatalf("replica %d: SHOW default_transaction_isolation: %v", i, err)
		}
		if got != want {
			t.Fatalf("replica %d: default_transaction_isolation = %q, want %q", i, got, want)
		}
		warm(t, s.pool, racers/n+1)
		out[i] = s
	}
	return out
}

// warm opens n connections in pool (or as many as it may hold) ahead of a
// race, so the racers' queries meet in the database instead of waiting for
// connections to be made.
func warm(t *testing.T, pool *pgxpool.Pool, n int) {
	t.Helper()
	n = min(n, int(pool.Config().MaxConns))
	conns := make([]*pgxpool.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Release()
		}
	}()
	for range n {
		c, err := pool.Acquire(context.Background())
		if err != nil {
			t.Fatalf("warm the pool: %v", err)
		}
		conns = append(conns, c)
	}
}

// oneWinner fails t unless exactly one error is nil and every other one is
// lose; it returns the winner's index.
func oneWinner(t *testing.T, errs []error, lose error) int {
	t.Helper()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("racers %d and %d both succeeded", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, lose):
			t.Fatalf("racer %d: error = %v, want nil or %v", i, err, lose)
		}
	}
	if winner < 0 {
		t.Fatalf("no racer succeeded")
	}
	return winner
}

const approvalHash = "f7e7c36e458e80e6b6a2c67d0a9ec09bd718dadd7bfa8d6bf6e7ad526e46c2f7"

// TestConcurrentApprovalOneWins races 20 callers, spread over 4 replicas,
// on each one-time gate of the approval flow: exactly one must win, every
// other one must lose with the documented error (not a serialization
// failure, whatever the isolation level), and the stored row must be the
// winner's.
func TestConcurrentApprovalOneWins(t *testing.T) {
	adminDSN(t)
	t.Parallel()
	const replicaCount = 4
	ctx := context.Background()
	races := []struct {
		name  string
		setup func(t *testing.T, st *Store)
		call  func(st *Store, i int) error
		lose  error
		check func(t *testing.T, st *Store, winner int)
	}{{
		name: "consume one challenge",
		setup: func(t *testing.T, st *Store) {
			if err := st.PutChallenge(ctx, &store.Challenge{Profile: "device", Hash: approvalHash, Subject: "laptop", ExpiresAt: t0}); err != nil {
				t.Fatalf("PutChallenge: %v", err)
			}
		},
		call: func(st *Store, i int) error {
			c, err := st.ConsumeChallenge(ctx, "device", approvalHash, t0)
			if err == nil && c.Subject != "laptop" {
				return fmt.Errorf("consumed challenge has Subject %q, want laptop", c.Subject)
			}
			return err
		},
		lose: store.ErrNotFound,
		check: func(t *testing.T, st *Store, _ int) {
			if _, err := st.ConsumeChallenge(ctx, "device", approvalHash, t0); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("ConsumeChallenge after the race: error = %v, want ErrNotFound", err)
			}
		},
	}, {
		name: "decide one request",
		setup: func(t *testing.T, st *Store) {
			if err := st.CreateRequest(ctx, testPending("r1", "device", "scep:1")); err != nil {
				t.Fatalf("CreateRequest: %v", err)
			}
		},
		call: func(st *Store, i int) error {
			r, err := st.DecideRequest(ctx, "r1", i%2 == 0, racerName(i), "", t0)
			if err == nil && r.DecidedBy != racerName(i) {
				return fmt.Errorf("DecideRequest returned DecidedBy %q, want %q", r.DecidedBy, racerName(i))
			}
			return err
		},
		lose: store.ErrConflict,
		check: func(t *testing.T, st *Store, winner int) {
			r, err := st.Request(ctx, "r1")
			if err != nil {
				t.Fatalf("Request: %v", err)
			}
			want := map[bool]store.RequestStatus{true: store.RequestApproved, false: store.RequestRejected}[winner%2 == 0]
			if r.Status != want || r.DecidedBy != racerName(winner) {
				t.Fatalf("stored Status, DecidedBy = %q, %q; want the winner's %q, %q", r.Status, r.DecidedBy, want, racerName(winner))
			}
		},
	}, {
		name: "complete one request",
		setup: func(t *testing.T, st *Store) {
			if err := st.CreateRequest(ctx, testPending("r1", "device", "scep:1")); err != nil {
				t.Fatalf("CreateRequest: %v", err)
			}
			if _, err := st.DecideRequest(ctx, "r1", true, "alice", "", t0); err != nil {
				t.Fatalf("DecideRequest: %v", err)
			}
		},
		call: func(st *Store, i int) error { return st.CompleteRequest(ctx, "r1", fmt.Sprintf("%x", 0x100+i)) },
		lose: store.ErrConflict,
		check: func(t *testing.T, st *Store, winner int) {
			r, err := st.Request(ctx, "r1")
			if err != nil {
				t.Fatalf("Request: %v", err)
			}
			if want := fmt.Sprintf("%x", 0x100+winner); r.Status != store.RequestIssued || r.Serial != want {
				t.Fatalf("stored Status, Serial = %q, %q; want issued, the winner's %q", r.Status, r.Serial, want)
			}
		},
	}, {
		name: "create one profile and key",
		call: func(st *Store, i int) error {
			return st.CreateRequest(ctx, testPending(racerName(i), "device", "scep:1"))
		},
		lose: store.ErrConflict,
		check: func(t *testing.T, st *Store, winner int) {
			r, err := st.RequestByKey(ctx, "device", "scep:1")
			if err != nil {
				t.Fatalf("RequestByKey: %v", err)
			}
			if r.ID != racerName(winner) {
				t.Fatalf("RequestByKey = %q, want the winner %q", r.ID, racerName(winner))
			}
		},
	}, {
		name: "put one token hash",
		call: func(st *Store, i int) error {
			return st.PutToken(ctx, &store.APIToken{ID: racerName(i), Hash: approvalHash})
		},
		lose: store.ErrConflict,
		check: func(t *testing.T, st *Store, winner int) {
			tok, err := st.TokenByHash(ctx, approvalHash)
			if err != nil {
				t.Fatalf("TokenByHash: %v", err)
			}
			if tok.ID != racerName(winner) {
				t.Fatalf("TokenByHash = %q, want the winner %q", tok.ID, racerName(winner))
			}
		},
	}}
	for _, isolation := range []string{"", "repeatable read", "serializable"} {
		for _, rc := range races {
			name := "ok/" + rc.name
			if isolation != "" {
				name += " under " + isolation
			}
			t.Run(name, func(t *testing.T) {
				stores := isolatedReplicas(t, replicaCount, isolation)
				if rc.setup != nil {
					rc.setup(t, stores[0])
				}
				errs := race(racers, func(i int) error { return rc.call(stores[i%len(stores)], i) })
				winner := oneWinner(t, errs, rc.lose)
				// Read back through another replica than the winner's.
				rc.check(t, stores[(winner+1)%len(stores)], winner)
			})
		}
	}
}

// TestConcurrentConsumeExpired races 20 consumers, over 4 replicas, on an
// expired challenge: every one must get ErrNotFound, and the challenge must
// be gone, since the consumer whose delete found it committed the removal.
func TestConcurrentConsumeExpired(t *testing.T) {
	adminDSN(t)
	t.Parallel()
	ctx := context.Background()
	stores := isolatedReplicas(t, 4, "")
	if err := stores[0].PutChallenge(ctx, &store.Challenge{Profile: "device", Hash: approvalHash, ExpiresAt: t0}); err != nil {
		t.Fatalf("PutChallenge: %v", err)
	}
	errs := race(racers, func(i int) error {
		_, err := stores[i%len(stores)].ConsumeChallenge(ctx, "device", approvalHash, t0.Add(time.Second))
		return err
	})
	for i, err := range errs {
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("racer %d: error = %v, want ErrNotFound", i, err)
		}
	}
	var left int
	if err := stores[1].pool.QueryRow(ctx, `SELECT count(*) FROM challenges`).Scan(&left); err != nil {
		t.Fatalf("count challenges: %v", err)
	}
	if left != 0 {
		t.Fatalf("%d challenges left after consuming the expired one, want 0", left)
	}
}

// racerName is racer i's ID and decider name, distinct per racer.
func racerName(i int) string { return fmt.Sprintf("racer-%02d", i) }
