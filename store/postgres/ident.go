package postgres

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/certgate/certgate/store"
)

// Requests, challenges and tokens are filed under text columns (IDs,
// profile and key, profile and hash, token hash), kept readable for an
// operator in psql. Unlike free text, which cleanText makes storable, an
// identifying string is never altered: two different keys cleaned to one
// would find each other's records. So a string that text cannot hold is
// refused on write (store.ErrInvalid) and finds nothing on read
// (store.ErrNotFound), as is one longer than a btree entry allows. certgate
// makes IDs and hashes of hex, and clients send SCEP transaction IDs in
// printable ASCII, so only a malformed or hostile request meets these
// limits; the bbolt backend, which keeps bytes, would accept it.

// idMax caps request and token IDs, as in the bbolt backend: certgate makes
// 32 hex characters.
const idMax = 256

// storableText reports whether s fits a text column unchanged: PostgreSQL
// text holds neither NUL nor invalid UTF-8.
func storableText(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// writableIdent refuses an identifying string a new record cannot have:
// empty, over limit bytes, or not storable unchanged.
func writableIdent(what, s string, limit int) error {
	switch {
	case s == "":
		return fmt.Errorf("empty %s: %w", what, store.ErrInvalid)
	case len(s) > limit:
		return fmt.Errorf("%s is %d bytes, the limit is %d: %w", what, len(s), limit, store.ErrInvalid)
	case !storableText(s):
		return fmt.Errorf("%s is not valid UTF-8 or contains NUL, which PostgreSQL text cannot hold: %w", what, store.ErrInvalid)
	}
	return nil
}

// readableIdent is like writableIdent, except that a string no record can
// have is store.ErrNotFound: it is well-formed, there is just no such
// record. It must not reach the server either, which would fail the query
// on invalid UTF-8.
func readableIdent(what, s string, limit int) error {
	switch {
	case s == "":
		return fmt.Errorf("empty %s: %w", what, store.ErrInvalid)
	case len(s) > limit || !storableText(s):
		return store.ErrNotFound
	}
	return nil
}

// writablePair checks the two strings a record is filed under (profile and
// key, profile and hash): each as writableIdent, and together within
// maxKeyLen, since they make one btree entry.
func writablePair(whatA, a, whatB, b string) error {
	if err := writableIdent(whatA, a, maxKeyLen); err != nil {
		return err
	}
	if err := writableIdent(whatB, b, maxKeyLen); err != nil {
		return err
	}
	if len(a)+len(b) > maxKeyLen {
		return fmt.Errorf("%s and %s are %d bytes, the limit is %d: %w", whatA, whatB, len(a)+len(b), maxKeyLen, store.ErrInvalid)
	}
	return nil
}

// readablePair is writablePair for a lookup, as readableIdent.
func readablePair(whatA, a, whatB, b string) error {
	if err := readableIdent(whatA, a, maxKeyLen); err != nil {
		return err
	}
	if err := readableIdent(whatB, b, maxKeyLen); err != nil {
		return err
	}
	if len(a)+len(b) > maxKeyLen {
		return store.ErrNotFound
	}
	return nil
}

// label is how error messages name an ID or a profile: quoted, and cut
// short so a hostile one cannot flood the log.
func label(s string) string {
	if len(s) > idMax {
		return fmt.Sprintf("%q...", s[:idMax])
	}
	return fmt.Sprintf("%q", s)
}

// pgSerializationFailure is SQLSTATE serialization_failure.
const pgSerializationFailure = "40001"

// retryConcurrent runs fn, one autocommit statement, again when the server
// rolled it back because of a concurrent transaction. Under READ COMMITTED,
// PostgreSQL's default, that never happens: a statement that finds a row
// locked waits for the other transaction and re-checks the row. But a role
// or database may set default_transaction_isolation higher, and then the
// losers of a race (19 of 20 replicas consuming one challenge) would get a
// serialization error instead of store.ErrNotFound or store.ErrConflict. A
// retried statement takes a new snapshot, in which the winner's commit is
// visible, so one retry settles it; the bound only guards against a bug.
func retryConcurrent(fn func() error) error {
	var err error
	for range maxRaceRetries {
		err = fn()
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != pgSerializationFailure {
			return err
		}
	}
	return err
}

// uniqueViolation returns the constraint a unique_violation names, or ""
// and false for any other error.
func uniqueViolation(err error) (constraint string, ok bool) {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == pgUniqueViolation {
		return pgErr.ConstraintName, true
	}
	return "", false
}
