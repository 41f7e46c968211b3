package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/certgate/certgate/store"
)

// password is in every DSN below; no error may show it, raw or escaped.
const password = "s3cr3t-PW/@:?#"

func passwordForms() []string {
	return []string{password, url.QueryEscape(password), url.PathEscape(password), "s3cr3t-PW"}
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	return port
}

// silentServer accepts one connection and never answers it, and cancels
// the returned context once the connection is in, so Open is cancelled
// while it waits for the server.
func silentServer(t *testing.T) (port string, ctx context.Context) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			accepted <- c
		}
		cancel()
	}()
	t.Cleanup(func() {
		cancel()
		l.Close()
		select {
		case c := <-accepted:
			c.Close()
		default:
		}
	})
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port), ctx
}

func TestErrorsHideThePassword(t *testing.T) {
	escaped := url.UserPassword("alice", password).String()
	refused := closedPort(t)
	silent, silentCtx := silentServer(t)
	tests := []struct {
		name string
		ctx  context.Context
		dsn  string
		// want is errors.Is-matched; text must appear in the message.
		want error
		text string
	}{
		{"fail/URL with a bad port", nil, "postgres://" + escaped + "@db.example:notaport/certgate", store.ErrInvalid, "the DSN does not parse"},
		{"fail/URL with the password unescaped", nil, "postgres://alice:" + password + "@db.example:5432/certgate", store.ErrInvalid, "the DSN does not parse"},
		{"fail/URL with a bad sslmode", nil, "postgres://" + escaped + "@db.example/certgate?sslmode=bogus", store.ErrInvalid, "the DSN does not parse"},
		{"fail/key=value with a bad port", nil, "host=db.example password='" + password + "' port=notaport", store.ErrInvalid, "the DSN does not parse"},
		{"fail/key=value with an unterminated quote", nil, "host=db.example password='" + password, store.ErrInvalid, "the DSN does not parse"},
		{"fail/URL, connection refused", nil, "postgres://" + escaped + "@127.0.0.1:" + refused + "/certgate?sslmode=disable", nil, "host=127.0.0.1 port=" + refused + " database=certgate"},
		{"fail/key=value, connection refused", nil, "host=127.0.0.1 port=" + refused + " user=alice password='" + password + "' dbname=certgate sslmode=disable", nil, "connect"},
		{"fail/cancelled while the server is silent", silentCtx, "postgres://" + escaped + "@127.0.0.1:" + silent + "/certgate?sslmode=disable", context.Canceled, "open user=alice host=127.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := tt.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			s, err := Open(ctx, Options{DSN: tt.dsn})
			if err == nil {
				s.Close()
				t.Fatalf("Open succeeded")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("error = %v, want %v", err, tt.want)
			}
			msg := err.Error()
			t.Logf("error: %s", msg)
			if !strings.HasPrefix(msg, "store: postgres: open") || !strings.Contains(msg, tt.text) {
				t.Errorf("error = %q, want prefix %q and %q", msg, "store: postgres: open", tt.text)
			}
			for _, pw := range passwordForms() {
				if strings.Contains(msg, pw) {
					t.Fatalf("error %q contains the password as %q", msg, pw)
				}
			}
		})
	}
}

// TestServerErrorsHideThePassword goes through a real server: the test
// cluster trusts local connections, so the password is ignored, and the
// error comes from the server.
func TestServerErrorsHideThePassword(t *testing.T) {
	dsn := withParam(t, newDatabase(t), "password", password)
	missing := withDatabase(t, dsn, "certgate_test_missing_"+runID)
	s, err := Open(context.Background(), Options{DSN: missing})
	if err == nil {
		s.Close()
		t.Fatalf("Open of a missing database succeeded")
	}
	for _, pw := range passwordForms() {
		if strings.Contains(err.Error(), pw) {
			t.Fatalf("error %q contains the password as %q", err, pw)
		}
	}
	// And a working DSN with a password opens.
	s, err = Open(context.Background(), Options{DSN: dsn})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	s.Close()
}

func TestWrapMasksSecrets(t *testing.T) {
	dsn := "postgres://alice:" + url.QueryEscape(password) + "@db.example/certgate"
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	s := &Store{secrets: dsnSecrets(dsn, cfg)}
	tests := []struct {
		name   string
		err    error
		want   string
		masked bool
	}{
		{"ok/password masked", fmt.Errorf("server said %s: %w", password, context.Canceled), "store: postgres: op: server said xxxxx: context canceled", true},
		{"ok/DSN masked whole", fmt.Errorf("dialing %s: %w", dsn, context.DeadlineExceeded), "store: postgres: op: dialing xxxxx: context deadline exceeded", true},
		{"ok/escaped password masked", fmt.Errorf("saw %s: %w", url.QueryEscape(password), context.Canceled), "store: postgres: op: saw xxxxx: context canceled", true},
		{"ok/no secret, chain kept", fmt.Errorf("plain: %w", context.Canceled), "store: postgres: op: plain: context canceled", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := s.wrap("op", tt.err)
			if got.Error() != tt.want {
				t.Fatalf("wrap = %q, want %q", got, tt.want)
			}
			if !errors.Is(got, context.Canceled) && !errors.Is(got, context.DeadlineExceeded) {
				t.Fatalf("wrap lost the cause: %v", got)
			}
			// A masked error must not hand out the unmasked one.
			if hidden := errors.Unwrap(got) == nil; hidden != tt.masked {
				t.Fatalf("Unwrap hidden = %v, want %v", hidden, tt.masked)
			}
		})
	}
}
