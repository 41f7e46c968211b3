package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/certgate/certgate/store"
)

// TokenStore is what RunTokens checks: a backend's store.Tokens, and
// Close.
type TokenStore interface {
	store.Tokens
	Close() error
}

// RunTokens runs the suite for store.Tokens. open follows the RunCache
// convention: a db not opened before in this RunTokens is empty, and
// opening a db again after closing it must show what was written to it.
// RunTokens closes every store it opens.
//
// Contract checked here, beyond the store.Tokens doc comments:
//   - A nil token and an empty ID or hash are ErrInvalid; a zero CreatedAt
//     becomes the backend's now. Name and Role are stored as given.
//   - IDs are ordered as bytes ("B" before "a"; in PostgreSQL, COLLATE
//     "C"), and ListTokens on an empty store returns no token and no error.
//   - Once a token is deleted its hash finds nothing and may be stored
//     again.
//   - Neither the token passed in nor one returned is shared with the
//     store.
//   - Times survive to the second; instants are compared, not zones.
//   - A cancelled context fails the call with the context's error and
//     writes nothing; after Close every call fails with ErrClosed; puts and
//     deletions survive Close and reopening.
func RunTokens(t *testing.T, open func(t *testing.T, db string) TokenStore) {
	k := tokenSuite{open: open}
	t.Run("lifecycle", k.testLifecycle)
	t.Run("errors", k.testErrors)
	t.Run("restart", k.testRestart)
	t.Run("closed", k.testClosed)
}

type tokenSuite struct {
	open func(t *testing.T, db string) TokenStore
}

func (k tokenSuite) fresh(t *testing.T) TokenStore {
	t.Helper()
	return openFresh(t, k.open)
}

// testToken is a token with every field set; hash is hash1 or hash2 of
// challenges.go, or any other string.
func testToken(id, hash string) *store.APIToken {
	return &store.APIToken{
		ID:   id,
		Name: "ci-pipeline " + id,
		Role: "operator",
		Hash: hash,
		// A zone other than UTC: backends must keep the instant.
		CreatedAt: base.In(time.FixedZone("CET", 3600)),
	}
}

func mustPutToken(t *testing.T, st store.Tokens, tok *store.APIToken) {
	t.Helper()
	if err := st.PutToken(context.Background(), tok); err != nil {
		t.Fatalf("PutToken %q: %v", tok.ID, err)
	}
}

func mustTokenByHash(t *testing.T, st store.Tokens, hash string) *store.APIToken {
	t.Helper()
	tok, err := st.TokenByHash(context.Background(), hash)
	if err != nil {
		t.Fatalf("TokenByHash: %v", err)
	}
	return tok
}

func wantNoToken(t *testing.T, st store.Tokens, hash string) {
	t.Helper()
	if _, err := st.TokenByHash(context.Background(), hash); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("TokenByHash: error = %v, want ErrNotFound", err)
	}
}

// checkTokenIDs fails t unless ListTokens returns exactly the IDs want, in
// that order.
func checkTokenIDs(t *testing.T, st store.Tokens, want []string) {
	t.Helper()
	toks, err := st.ListTokens(context.Background())
	if err != nil {
		t.Fatalf("ListTokens: %v", err)
	}
	var ids []string
	for _, tok := range toks {
		ids = append(ids, tok.ID)
	}
	if !slices.Equal(ids, want) {
		t.Fatalf("ListTokens = %q, want %q", ids, want)
	}
}

func (k tokenSuite) testLifecycle(t *testing.T) {
	ctx := context.Background()

	t.Run("ok/put then get by hash keeps every field", func(t *testing.T) {
		st := k.fresh(t)
		mustPutToken(t, st, testToken("7a01", hash1))
		checkFields(t, "TokenByHash", mustTokenByHash(t, st, hash1), testToken("7a01", hash1))
	})

	t.Run("ok/put fills a zero CreatedAt", func(t *testing.T) {
		st := k.fresh(t)
		tok := testToken("7a01", hash1)
		tok.CreatedAt = time.Time{}
		mustPutToken(t, st, tok)
		if got := mustTokenByHash(t, st, hash1); got.CreatedAt.IsZero() {
			t.Fatalf("CreatedAt is zero, want it set by PutToken")
		}
	})

	t.Run("ok/list is ordered by ID bytes", func(t *testing.T) {
		st := k.fresh(t)
		ids := []string{"B", "a", "a0", "a1", "b"}
		// Put in reverse, so insertion order cannot pass for ID order.
		for i := len(ids) - 1; i >= 0; i-- {
			mustPutToken(t, st, testToken(ids[i], "hash-"+ids[i]))
		}
		checkTokenIDs(t, st, ids)
		toks, err := st.ListTokens(ctx)
		if err != nil {
			t.Fatalf("ListTokens: %v", err)
		}
		checkFields(t, "ListTokens[0]", toks[0], testToken("B", "hash-B"))
	})

	t.Run("ok/list of no tokens", func(t *testing.T) {
		checkTokenIDs(t, k.fresh(t), nil)
	})

	t.Run("ok/delete removes the token and frees its hash", func(t *testing.T) {
		st := k.fresh(t)
		mustPutToken(t, st, testToken("7a01", hash1))
		mustPutToken(t, st, testToken("7a02", hash2))
		if err := st.DeleteToken(ctx, "7a01"); err != nil {
			t.Fatalf("DeleteToken: %v", err)
		}
		wantNoToken(t, st, hash1)
		checkTokenIDs(t, st, []string{"7a02"})
		checkFields(t, "the other token", mustTokenByHash(t, st, hash2), testToken("7a02", hash2))
		mustPutToken(t, st, testToken("7a03", hash1))
		checkFields(t, "a new token with the freed hash", mustTokenByHash(t, st, hash1), testToken("7a03", hash1))
	})

	t.Run("ok/store keeps no reference to tokens passed in or out", func(t *testing.T) {
		st := k.fresh(t)
		in := testToken("7a01", hash1)
		mustPutToken(t, st, in)
		in.Role = "changed after PutToken"
		out := mustTokenByHash(t, st, hash1)
		out.Role = "changed after TokenByHash"
		checkFields(t, "TokenByHash after changing both copies", mustTokenByHash(t, st, hash1), testToken("7a01", hash1))
	})
}

func (k tokenSuite) testErrors(t *testing.T) {
	put := func(tok *store.APIToken) func(ctx context.Context, st TokenStore) error {
		return func(ctx context.Context, st TokenStore) error { return st.PutToken(ctx, tok) }
	}
	byHash := func(hash string) func(ctx context.Context, st TokenStore) error {
		return func(ctx context.Context, st TokenStore) error {
			_, err := st.TokenByHash(ctx, hash)
			return err
		}
	}
	list := func(ctx context.Context, st TokenStore) error {
		_, err := st.ListTokens(ctx)
		return err
	}
	del := func(id string) func(ctx context.Context, st TokenStore) error {
		return func(ctx context.Context, st TokenStore) error { return st.DeleteToken(ctx, id) }
	}
	cancelled := func(call func(ctx context.Context, st TokenStore) error) func(ctx context.Context, st TokenStore) error {
		return func(ctx context.Context, st TokenStore) error {
			ctx, cancel := context.WithCancel(ctx)
			cancel()
			return call(ctx, st)
		}
	}
	stored := func(t *testing.T, st TokenStore) { mustPutToken(t, st, testToken("7a01", hash1)) }
	// onlyFirst checks that the token of stored is the only one, as stored.
	onlyFirst := func(t *testing.T, st TokenStore) {
		checkTokenIDs(t, st, []string{"7a01"})
		checkFields(t, "TokenByHash after the failed call", mustTokenByHash(t, st, hash1), testToken("7a01", hash1))
	}
	none := func(t *testing.T, st TokenStore) { checkTokenIDs(t, st, nil) }
	sameHash := testToken("7a02", hash1)
	sameID := testToken("7a01", hash2)

	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, st TokenStore)
		call  func(ctx context.Context, st TokenStore) error
		want  error
		check func(t *testing.T, st TokenStore)
	}{
		{name: "fail/put a taken hash", setup: stored, call: put(sameHash), want: store.ErrConflict, check: onlyFirst},
		{name: "fail/put a taken ID", setup: stored, call: put(sameID), want: store.ErrConflict, check: func(t *testing.T, st TokenStore) {
			onlyFirst(t, st)
			wantNoToken(t, st, hash2)
		}},
		{name: "fail/get by unknown hash", setup: stored, call: byHash(hash2), want: store.ErrNotFound},
		{name: "fail/delete unknown", setup: stored, call: del("7a02"), want: store.ErrNotFound, check: onlyFirst},
		{name: "fail/delete twice", setup: func(t *testing.T, st TokenStore) {
			stored(t, st)
			if err := st.DeleteToken(context.Background(), "7a01"); err != nil {
				t.Fatalf("DeleteToken: %v", err)
			}
		}, call: del("7a01"), want: store.ErrNotFound, check: none},
		{name: "fail/put nil", call: put(nil), want: store.ErrInvalid, check: none},
		{name: "fail/put empty ID", call: put(testToken("", hash1)), want: store.ErrInvalid, check: none},
		{name: "fail/put empty hash", call: put(testToken("7a01", "")), want: store.ErrInvalid, check: none},
		{name: "fail/get by empty hash", setup: stored, call: byHash(""), want: store.ErrInvalid},
		{name: "fail/delete empty ID", setup: stored, call: del(""), want: store.ErrInvalid, check: onlyFirst},
		{name: "fail/put with cancelled context", call: cancelled(put(testToken("7a01", hash1))), want: context.Canceled, check: none},
		{name: "fail/get with cancelled context", setup: stored, call: cancelled(byHash(hash1)), want: context.Canceled},
		{name: "fail/list with cancelled context", setup: stored, call: cancelled(list), want: context.Canceled},
		{name: "fail/delete with cancelled context", setup: stored, call: cancelled(del("7a01")), want: context.Canceled, check: onlyFirst},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := k.fresh(t)
			if tc.setup != nil {
				tc.setup(t, st)
			}
			if err := tc.call(context.Background(), st); !errors.Is(err, tc.want) {
				t.Fatalf("error = %v, want %v", err, tc.want)
			}
			if tc.check != nil {
				tc.check(t, st)
			}
		})
	}
}

// testRestart checks that tokens, their hash index and deletions outlive
// Close.
func (k tokenSuite) testRestart(t *testing.T) {
	db := dbName(t)
	st := k.open(t, db)
	mustPutToken(t, st, testToken("7a01", hash1))
	mustPutToken(t, st, testToken("7a02", hash2))
	if err := st.DeleteToken(context.Background(), "7a01"); err != nil {
		t.Fatalf("DeleteToken: %v", err)
	}
	st = reopen(t, k.open, st, db)

	wantNoToken(t, st, hash1)
	checkTokenIDs(t, st, []string{"7a02"})
	checkFields(t, "TokenByHash after reopen", mustTokenByHash(t, st, hash2), testToken("7a02", hash2))
	if err := st.PutToken(context.Background(), testToken("7a03", hash2)); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("PutToken of a taken hash after reopen: error = %v, want ErrConflict", err)
	}
}

// testClosed checks that every call after Close fails with ErrClosed.
func (k tokenSuite) testClosed(t *testing.T) {
	st := k.open(t, dbName(t))
	mustPutToken(t, st, testToken("7a01", hash1))
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"fail/put", func() error { return st.PutToken(ctx, testToken("7a02", hash2)) }},
		{"fail/get by hash", func() error { _, err := st.TokenByHash(ctx, hash1); return err }},
		{"fail/list", func() error { _, err := st.ListTokens(ctx); return err }},
		{"fail/delete", func() error { return st.DeleteToken(ctx, "7a01") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); !errors.Is(err, store.ErrClosed) {
				t.Fatalf("error = %v, want ErrClosed", err)
			}
		})
	}
}
