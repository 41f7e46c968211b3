package postgres

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/certgate/certgate/store"
)

// redactedError is an error whose text had a secret removed. It matches
// with errors.Is what its cause matches (store.ErrInvalid, context errors),
// but has no Unwrap, so the unredacted text cannot be reached through it.
type redactedError struct {
	msg   string
	cause error
}

func (e *redactedError) Error() string { return e.msg }

func (e *redactedError) Is(target error) bool { return errors.Is(e.cause, target) }

// mask replaces a secret in error text.
const mask = "xxxxx"

// parseError reports a DSN that pgx cannot parse. pgx redacts the password
// from its message only as far as it can find it in a malformed string, so
// no part of that message is passed on.
func parseError(error) error {
	return &redactedError{
		msg: "store: postgres: open: the DSN does not parse (its text is withheld because it may contain a password); " +
			"want postgres://user:password@host:port/dbname?param=value or key=value pairs such as host=... dbname=...: " +
			store.ErrInvalid.Error(),
		cause: store.ErrInvalid,
	}
}

// dsnSecrets lists what must not appear in an error: every password the
// parsed config holds, as given and as it may be escaped in a URL, and the
// DSN itself (fallback hosts share the password). Longest first, so a string is masked before its substrings.
func dsnSecrets(dsn string, cfg *pgxpool.Config) []string {
	secrets := []string{dsn}
	add := func(pw string) {
		if pw != "" {
			secrets = append(secrets, pw, url.QueryEscape(pw), url.PathEscape(pw), url.UserPassword("", pw).String()[1:])
		}
	}
	add(cfg.ConnConfig.Password)
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	return slices.Compact(secrets)
}

// redactedTarget names the server and database for error messages, without
// the password.
func redactedTarget(cfg *pgxpool.Config) string {
	c := cfg.ConnConfig
	return fmt.Sprintf("user=%s host=%s port=%d database=%s", c.User, c.Host, c.Port, c.Database)
}

// wrap prefixes err with the package and op, masking any secret in its
// text. Errors without a secret keep their chain, so callers can still
// errors.As them (a *pgconn.PgError, say).
func (s *Store) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	msg := "store: postgres: " + op + ": " + err.Error()
	redacted := msg
	for _, secret := range s.secrets {
		redacted = strings.ReplaceAll(redacted, secret, mask)
	}
	if redacted != msg {
		return &redactedError{msg: redacted, cause: err}
	}
	return fmt.Errorf("store: postgres: %s: %w", op, err)
}
