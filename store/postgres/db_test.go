package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
)

// dsnEnv names the admin DSN of the server the tests create their
// databases on; scripts/pg-test-cluster start prints one.
const dsnEnv = "CERTGATE_TEST_POSTGRES_DSN"

// adminDSN returns the server's DSN, or skips tb when there is none: locally
// a missing server is a skip, in CI (CI=true) a failure, as for the
// integration tests' tools.
func adminDSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(dsnEnv)
	if dsn != "" {
		return dsn
	}
	const hint = "; run: export " + dsnEnv + "=$(scripts/pg-test-cluster start /tmp/certgate-pg)"
	if os.Getenv("CI") == "true" {
		tb.Fatalf("%s is not set; CI must run the PostgreSQL tests%s", dsnEnv, hint)
	}
	tb.Skipf("%s is not set%s", dsnEnv, hint)
	return ""
}

// runID keeps concurrent `go test` runs on one server apart; dbCount keeps
// the databases of one run apart.
var (
	runID   = randomHex(4)
	dbCount atomic.Int64
)

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newDatabase creates an empty database on the test server, dropped when
// tb ends, and returns its DSN.
func newDatabase(tb testing.TB) string {
	tb.Helper()
	dsn, drop := createDatabase(tb)
	tb.Cleanup(func() { drop(tb) })
	return dsn
}

// createDatabase creates an empty database on the test server and returns
// its DSN and the function that drops it. Failures go to tb; the drop
// reports to the test it is given, so a database can outlive the subtest
// that created it.
func createDatabase(tb testing.TB) (dsn string, drop func(testing.TB)) {
	tb.Helper()
	admin := adminDSN(tb)
	name := "certgate_test_" + runID + "_" + strconv.FormatInt(dbCount.Add(1), 10)
	adminExec(tb, admin, `CREATE DATABASE `+name)
	return withDatabase(tb, admin, name), func(tb testing.TB) {
		adminExec(tb, admin, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
	}
}

// adminExec runs one statement on the admin connection.
func adminExec(tb testing.TB, dsn, sql string) {
	tb.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatalf("connect to %s: %v", dsnEnv, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
}

// withDatabase returns dsn pointing at database name instead.
func withDatabase(tb testing.TB, dsn, name string) string {
	tb.Helper()
	return withParam(tb, dsn, "dbname", name)
}

// withParam returns dsn with one more connection parameter, in either DSN
// form; a URL's database is its path.
func withParam(tb testing.TB, dsn, key, value string) string {
	tb.Helper()
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		// key=value form: a later key wins.
		return dsn + " " + key + "='" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(value) + "'"
	}
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatalf("%s does not parse as a URL: %v", dsnEnv, err)
	}
	if key == "dbname" {
		u.Path = "/" + value
		return u.String()
	}
	q := u.Query()
	q.Set(key, value)
	// %20, not +: pgx unescapes the query as a path, not as a form.
	u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
	return u.String()
}

// openTest opens a store on a new database; the caller closes it.
func openTest(tb testing.TB, opts Options) *Store {
	tb.Helper()
	opts.DSN = newDatabase(tb)
	s, err := Open(context.Background(), opts)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	return s
}
