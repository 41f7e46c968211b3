package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/certgate/certgate/store"
)

// Options configures Open. Only DSN is required.
type Options struct {
	// DSN is a libpq connection string, as a URL
	// (postgres://user:password@host:5432/certgate?sslmode=verify-full) or as
	// key=value pairs. It may carry a password; it never appears in errors.
	// pgxpool's pool_* parameters are honoured. The tables (and
	// schema_migrations) go in the first schema of the search_path, so a
	// database shared with other applications should give certgate its own
	// schema: options=-csearch_path=certgate.
	DSN string
	// MaxConns caps the pool. Zero means the DSN's pool_max_conns, or else
	// pgxpool's default, the greater of 4 and the number of CPUs. Each
	// replica holds up to this many server connections, so replicas times
	// MaxConns must stay below the server's max_connections. Negative is
	// refused.
	MaxConns int32
	// Now supplies CreatedAt, IssuedAt, RevokedAt and DecidedAt when the
	// caller leaves them zero, and the now of a ConsumeChallenge given a
	// zero one. Nil means time.Now; tests inject a fixed clock.
	Now func() time.Time
}

// Store is a store.Store, store.Cache, store.Sequencer, store.Requests,
// store.Challenges and store.Tokens on a PostgreSQL database. It is safe for concurrent use, and several Stores (in one
// process or in several replicas) may share one database.
type Store struct {
	// mu is held for reading by every call for its whole duration, and for
	// writing by Close, so Close waits for calls in flight and no call
	// starts on a closed pool.
	mu   sync.RWMutex
	pool *pgxpool.Pool // nil once closed
	now  func() time.Time
	// secrets are the strings (password, DSN) no returned error may show.
	secrets []string
}

var (
	_ store.Store     = (*Store)(nil)
	_ store.Cache     = (*Store)(nil)
	_ store.Sequencer = (*Store)(nil)
)

// Open connects to the database, checks that the session is durable and
// UTF-8, and applies the embedded schema migrations it lacks. ctx bounds all
// of it, including waiting for another replica's migration. The error never
// contains the DSN's password.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.DSN == "" {
		return nil, fmt.Errorf("store: postgres: open: empty DSN: %w", store.ErrInvalid)
	}
	if opts.MaxConns < 0 {
		return nil, fmt.Errorf("store: postgres: open: MaxConns is %d, want 0 (default) or more: %w", opts.MaxConns, store.ErrInvalid)
	}
	cfg, err := pgxpool.ParseConfig(opts.DSN)
	if err != nil {
		return nil, parseError(err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	// pgx's default answer to a cancelled context is to drop the
	// connection, which leaves the server running the statement: a Revoke
	// waiting on a row lock would still commit after the caller gave up.
	// A cancel request stops the statement on the server first.
	cfg.ConnConfig.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: c, DeadlineDelay: cancelGrace}
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	s := &Store{now: now, secrets: dsnSecrets(opts.DSN, cfg)}
	where := redactedTarget(cfg)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, s.wrap("open "+where, err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, s.wrap("open "+where, err)
	}
	s.pool = pool
	return s, nil
}

// Close waits for calls in flight and closes the pool. Closing again is a
// no-op; every other call on a closed Store returns store.ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pool != nil {
		s.pool.Close()
		s.pool = nil
	}
	return nil
}

// cancelGrace is how long a call whose context is done waits for the
// server to confirm the cancel request before it drops the connection and
// returns anyway.
const cancelGrace = time.Second

// do runs fn with the pool, unless ctx is already done or the store is
// closed. Every query in fn must use ctx, so the caller's deadline bounds
// the call.
func (s *Store) do(ctx context.Context, fn func(pool *pgxpool.Pool) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.pool == nil {
		return store.ErrClosed
	}
	err := fn(s.pool)
	if cerr := ctx.Err(); err != nil && cerr != nil && !errors.Is(err, cerr) {
		// The server reports a cancelled statement as SQLSTATE 57014;
		// callers test for the context's error.
		err = fmt.Errorf("%w: %w", cerr, err)
	}
	return err
}
