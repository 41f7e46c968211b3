package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"

	"github.com/certgate/certgate/store"
)

// LeaseOptions configures Store.Lease. Zero values take the defaults.
type LeaseOptions struct {
	// Retry is how often a replica that does not hold the lease tries to
	// take it, so it bounds the takeover after the holder dies. Zero
	// means DefaultLeaseRetry.
	Retry time.Duration
	// Check is how often the holder confirms its session. A confirmation
	// that fails, or takes longer than twice Check, ends the leadership
	// at once. Zero means DefaultLeaseCheck.
	Check time.Duration
	// OnChange, if set, is called when this process starts leading (true,
	// nil) and when it has stopped (false, and why: nil when Lead's
	// context ended). It is called from Lead's goroutine.
	OnChange func(leading bool, why error)
}

// Lease defaults.
const (
	DefaultLeaseRetry = 2 * time.Second
	DefaultLeaseCheck = time.Second
)

// idleChecks is the lease session's idle_session_timeout in Checks. A
// holder that stops confirming (a network partition, a frozen process)
// has stopped leading after at most 3 Checks, by its own clock; the server
// ends the session, and so frees the lock for another replica, no sooner
// than idleChecks after the last confirmation was sent.
const idleChecks = 10

// Lease is leadership among the replicas sharing a database: whoever holds
// a session-level advisory lock leads. The lock lives on a connection of
// the lease's own, outside the pool, so pool churn never drops it, and it
// goes when that session ends: a holder that exits, is killed or loses its
// connection frees it, and another replica's next attempt takes it.
//
// The lease needs a real session: a pooler in transaction mode (PgBouncer
// pool_mode=transaction) between certgate and PostgreSQL would hand the
// lock to whichever client uses the server connection next.
type Lease struct {
	name  string
	key   int64
	cfg   *pgx.ConnConfig
	opts  LeaseOptions
	wrap  func(op string, err error) error
	after func(time.Duration) <-chan time.Time
}

// Lease returns the lease called name (one per task that must run on one
// replica at a time); nothing is taken until Lead. It may be called on a
// closed Store: the lease keeps its own copy of the connection settings.
func (s *Store) Lease(name string, opts LeaseOptions) (*Lease, error) {
	if err := checkKey("lease name", name); err != nil {
		return nil, fmt.Errorf("store: postgres: lease: %w", err)
	}
	if opts.Retry == 0 {
		opts.Retry = DefaultLeaseRetry
	}
	if opts.Check == 0 {
		opts.Check = DefaultLeaseCheck
	}
	if opts.Retry < 0 || opts.Check < 0 {
		return nil, errors.New("store: postgres: lease: negative Retry or Check")
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.pool == nil {
		return nil, fmt.Errorf("store: postgres: lease %s: %w", name, store.ErrClosed)
	}
	cfg := s.pool.Config().ConnConfig.Copy()
	// Give up on a statement at its deadline, without the pool's cancel
	// request and grace: a confirmation that is late already means the
	// lease is lost, and the connection is closed anyway.
	cfg.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.DeadlineContextWatcherHandler{Conn: c.Conn()}
	}
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	// Operators find the holder in pg_stat_activity by this name.
	cfg.RuntimeParams["application_name"] = "certgate lease " + name
	h := fnv.New64a()
	_, _ = h.Write([]byte("certgate/lease/" + name))
	return &Lease{
		name: name, key: int64(h.Sum64()), cfg: cfg, opts: opts,
		wrap: s.wrap, after: time.After,
	}, nil
}

// Lead runs fn whenever this process holds the lease, until ctx ends: it
// tries to take the lock every Retry and, once it has it, calls fn with a
// context that is cancelled as soon as the lease is lost or ctx ends. fn
// must return promptly then; the lock is released (the session closed)
// only after fn has returned, so two replicas never run fn at once as long
// as the holder notices a lost session before the server frees the lock
// (see idleChecks). fn returning early also gives the lease up.
func (l *Lease) Lead(ctx context.Context, fn func(ctx context.Context)) {
	var conn *pgx.Conn
	defer func() { closeLeaseConn(conn) }()
	for ctx.Err() == nil {
		if conn == nil {
			conn, _ = l.connect(ctx) // unreachable: try again at the next Retry
		}
		if conn != nil {
			held, err := l.tryLock(ctx, conn)
			if err != nil {
				closeLeaseConn(conn)
				conn = nil
			}
			if held {
				why := l.hold(ctx, conn, fn)
				// Closing the session releases the lock, whatever state
				// the connection is in.
				closeLeaseConn(conn)
				conn = nil
				if l.opts.OnChange != nil {
					l.opts.OnChange(false, why)
				}
			}
		}
		select {
		case <-ctx.Done():
		case <-l.after(l.opts.Retry):
		}
	}
}

// connect opens the lease's own session and bounds how long it may idle.
func (l *Lease) connect(ctx context.Context) (*pgx.Conn, error) {
	cctx, cancel := context.WithTimeout(ctx, l.opts.Retry+2*l.opts.Check)
	defer cancel()
	// A copy each time, as pgxpool does: connecting may fill in the config.
	conn, err := pgx.ConnectConfig(cctx, l.cfg.Copy())
	if err != nil {
		return nil, l.wrap("lease "+l.name+": connect", err)
	}
	// If the holder stops confirming, the server ends the session, and
	// frees the lock, after this long. PostgreSQL before 14 lacks the
	// setting (SQLSTATE 42704): there a partitioned holder keeps the lock
	// until TCP gives up on the connection.
	idle := strconv.FormatInt((idleChecks * l.opts.Check).Milliseconds(), 10)
	if _, err := conn.Exec(cctx, "SET idle_session_timeout = "+idle); err != nil {
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "42704" {
			closeLeaseConn(conn)
			return nil, l.wrap("lease "+l.name+": set idle_session_timeout", err)
		}
	}
	return conn, nil
}

// tryLock takes the lock if nobody holds it; it never waits for it.
func (l *Lease) tryLock(ctx context.Context, conn *pgx.Conn) (bool, error) {
	cctx, cancel := context.WithTimeout(ctx, 2*l.opts.Check)
	defer cancel()
	var held bool
	if err := conn.QueryRow(cctx, `SELECT pg_try_advisory_lock($1)`, l.key).Scan(&held); err != nil {
		return false, l.wrap("lease "+l.name+": try lock", err)
	}
	return held, nil
}

// hold runs fn while the session answers, and returns why it stopped
// (nil when ctx ended or fn returned) once fn has returned.
func (l *Lease) hold(ctx context.Context, conn *pgx.Conn, fn func(context.Context)) (why error) {
	lctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	if l.opts.OnChange != nil {
		l.opts.OnChange(true, nil)
	}
	go func() {
		defer close(done)
		fn(lctx)
	}()
	defer func() {
		cancel()
		<-done
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-done:
			return nil
		case <-l.after(l.opts.Check):
		}
		// The session-level lock lasts as long as the session, and only
		// Lead releases it, so a session that answers still holds it.
		pctx, pcancel := context.WithTimeout(ctx, 2*l.opts.Check)
		_, err := conn.Exec(pctx, "SELECT 1")
		pcancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return l.wrap("lease "+l.name+": session lost", err)
		}
	}
}

// closeLeaseConn ends the session, which releases its locks on the server.
func closeLeaseConn(conn *pgx.Conn) {
	if conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = conn.Close(ctx)
}
