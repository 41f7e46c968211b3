package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/certgate/certgate/store"
)

// ChallengeStore is what RunChallenges checks: a backend's
// store.Challenges, and Close.
type ChallengeStore interface {
	store.Challenges
	Close() error
}

// RunChallenges runs the suite for store.Challenges. open follows the
// RunCache convention: a db not opened before in this RunChallenges is
// empty, and opening a db again after closing it must show what was
// written to it. RunChallenges closes every store it opens.
//
// Contract checked here, beyond the store.Challenges doc comments:
//   - A challenge is valid up to and including its ExpiresAt instant.
//   - A zero now in ConsumeChallenge means the backend's now; a zero
//     CreatedAt in PutChallenge too.
//   - A nil challenge, an empty profile or hash, and a zero ExpiresAt
//     (a challenge no one could ever consume) are ErrInvalid.
//   - Consuming with the wrong profile is ErrNotFound and leaves the
//     challenge in place.
//   - Neither the challenge passed in nor one returned is shared with the
//     store.
//   - Times survive to the second; instants are compared, not zones.
//   - A cancelled context fails the call with the context's error and
//     writes nothing (a challenge is not consumed); after Close every call
//     fails with ErrClosed; puts, consumptions and the removal of an
//     expired challenge survive Close and reopening.
func RunChallenges(t *testing.T, open func(t *testing.T, db string) ChallengeStore) {
	c := challengeSuite{open: open}
	t.Run("consume", c.testConsume)
	t.Run("errors", c.testErrors)
	t.Run("concurrent", c.testConcurrent)
	t.Run("restart", c.testRestart)
	t.Run("closed", c.testClosed)
}

type challengeSuite struct {
	open func(t *testing.T, db string) ChallengeStore
}

func (c challengeSuite) fresh(t *testing.T) ChallengeStore {
	t.Helper()
	return openFresh(t, c.open)
}

// hash1 and hash2 are the hex SHA-256 of "secret-1" and "secret-2", as
// the API stores them.
const (
	hash1 = "f7e7c36e458e80e6b6a2c67d0a9ec09bd718dadd7bfa8d6bf6e7ad526e46c2f7"
	hash2 = "f4b6bb6548129dacf11c1a9c4dffffefd4aa6b21fcf4e9754cc03b731cbe7c25"
)

// testChallenge is a challenge valid for an hour from base, with every
// field set.
func testChallenge(profile, hash string) *store.Challenge {
	return &store.Challenge{
		Hash:     hash,
		Profile:  profile,
		Subject:  "Laptop-0042",
		DeviceID: "device-7f3e",
		// A zone other than UTC: backends must keep the instant.
		CreatedAt: base.In(time.FixedZone("CET", 3600)),
		ExpiresAt: base.Add(time.Hour),
	}
}

func mustPutChallenge(t *testing.T, st store.Challenges, ch *store.Challenge) {
	t.Helper()
	if err := st.PutChallenge(context.Background(), ch); err != nil {
		t.Fatalf("PutChallenge %s: %v", ch.Profile, err)
	}
}

func mustConsume(t *testing.T, st store.Challenges, profile, hash string, now time.Time) *store.Challenge {
	t.Helper()
	ch, err := st.ConsumeChallenge(context.Background(), profile, hash, now)
	if err != nil {
		t.Fatalf("ConsumeChallenge %s: %v", profile, err)
	}
	return ch
}

func wantNoChallenge(t *testing.T, st store.Challenges, profile, hash string) {
	t.Helper()
	// base is before every test challenge's expiry, so only absence gives
	// ErrNotFound here.
	if _, err := st.ConsumeChallenge(context.Background(), profile, hash, base); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ConsumeChallenge %s: error = %v, want ErrNotFound", profile, err)
	}
}

func (c challengeSuite) testConsume(t *testing.T) {
	t.Run("ok/put then consume returns every field", func(t *testing.T) {
		st := c.fresh(t)
		mustPutChallenge(t, st, testChallenge("device", hash1))
		checkFields(t, "ConsumeChallenge", mustConsume(t, st, "device", hash1, base), testChallenge("device", hash1))
	})

	t.Run("ok/consume at the expiry instant", func(t *testing.T) {
		st := c.fresh(t)
		mustPutChallenge(t, st, testChallenge("device", hash1))
		mustConsume(t, st, "device", hash1, base.Add(time.Hour))
	})

	t.Run("ok/consume with zero now before expiry", func(t *testing.T) {
		st := c.fresh(t)
		ch := testChallenge("device", hash1)
		ch.ExpiresAt = time.Now().Add(time.Hour)
		mustPutChallenge(t, st, ch)
		mustConsume(t, st, "device", hash1, time.Time{})
	})

	t.Run("ok/put fills a zero CreatedAt", func(t *testing.T) {
		st := c.fresh(t)
		ch := testChallenge("device", hash1)
		ch.CreatedAt = time.Time{}
		mustPutChallenge(t, st, ch)
		if got := mustConsume(t, st, "device", hash1, base); got.CreatedAt.IsZero() {
			t.Fatalf("CreatedAt is zero, want it set by PutChallenge")
		}
	})

	t.Run("ok/one hash in two profiles is two challenges", func(t *testing.T) {
		st := c.fresh(t)
		a, b := testChallenge("device", hash1), testChallenge("user", hash1)
		b.Subject = "alice"
		mustPutChallenge(t, st, a)
		mustPutChallenge(t, st, b)
		checkFields(t, "device", mustConsume(t, st, "device", hash1, base), a)
		checkFields(t, "user", mustConsume(t, st, "user", hash1, base), b)
	})

	t.Run("ok/consuming one challenge leaves the others", func(t *testing.T) {
		st := c.fresh(t)
		mustPutChallenge(t, st, testChallenge("device", hash1))
		mustPutChallenge(t, st, testChallenge("device", hash2))
		mustConsume(t, st, "device", hash1, base)
		mustConsume(t, st, "device", hash2, base)
	})

	t.Run("ok/store keeps no reference to challenges passed in or out", func(t *testing.T) {
		st := c.fresh(t)
		in := testChallenge("device", hash1)
		mustPutChallenge(t, st, in)
		in.Subject = "changed after PutChallenge"
		checkFields(t, "ConsumeChallenge", mustConsume(t, st, "device", hash1, base), testChallenge("device", hash1))
	})
}

// testErrors checks ErrNotFound, ErrConflict, ErrInvalid and cancellation,
// and what each failed call leaves behind.
func (c challengeSuite) testErrors(t *testing.T) {
	put := func(ch *store.Challenge) func(ctx context.Context, st ChallengeStore) error {
		return func(ctx context.Context, st ChallengeStore) error { return st.PutChallenge(ctx, ch) }
	}
	consume := func(profile, hash string, now time.Time) func(ctx context.Context, st ChallengeStore) error {
		return func(ctx context.Context, st ChallengeStore) error {
			_, err := st.ConsumeChallenge(ctx, profile, hash, now)
			return err
		}
	}
	cancelled := func(call func(ctx context.Context, st ChallengeStore) error) func(ctx context.Context, st ChallengeStore) error {
		return func(ctx context.Context, st ChallengeStore) error {
			ctx, cancel := context.WithCancel(ctx)
			cancel()
			return call(ctx, st)
		}
	}
	stored := func(t *testing.T, st ChallengeStore) { mustPutChallenge(t, st, testChallenge("device", hash1)) }
	consumed := func(t *testing.T, st ChallengeStore) { stored(t, st); mustConsume(t, st, "device", hash1, base) }
	// still checks the challenge is there, unchanged, by consuming it.
	still := func(t *testing.T, st ChallengeStore) {
		checkFields(t, "ConsumeChallenge after the failed call", mustConsume(t, st, "device", hash1, base), testChallenge("device", hash1))
	}
	gone := func(t *testing.T, st ChallengeStore) { wantNoChallenge(t, st, "device", hash1) }
	noExpiry := testChallenge("device", hash1)
	noExpiry.ExpiresAt = time.Time{}
	other := testChallenge("device", hash1)
	other.Subject = "second put"

	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, st ChallengeStore)
		call  func(ctx context.Context, st ChallengeStore) error
		want  error
		check func(t *testing.T, st ChallengeStore)
	}{
		{name: "fail/consume twice", setup: consumed, call: consume("device", hash1, base), want: store.ErrNotFound, check: gone},
		{name: "fail/consume unknown", setup: stored, call: consume("device", hash2, base), want: store.ErrNotFound, check: still},
		{name: "fail/consume in the wrong profile", setup: stored, call: consume("user", hash1, base), want: store.ErrNotFound, check: still},
		{name: "fail/consume a second after expiry removes it", setup: stored, call: consume("device", hash1, base.Add(time.Hour+time.Second)), want: store.ErrNotFound, check: gone},
		{name: "fail/put twice", setup: stored, call: put(other), want: store.ErrConflict, check: still},
		{name: "fail/put nil", call: put(nil), want: store.ErrInvalid},
		{name: "fail/put empty profile", call: put(testChallenge("", hash1)), want: store.ErrInvalid, check: gone},
		{name: "fail/put empty hash", call: put(testChallenge("device", "")), want: store.ErrInvalid, check: gone},
		{name: "fail/put without expiry", call: put(noExpiry), want: store.ErrInvalid, check: gone},
		{name: "fail/consume empty profile", setup: stored, call: consume("", hash1, base), want: store.ErrInvalid, check: still},
		{name: "fail/consume empty hash", setup: stored, call: consume("device", "", base), want: store.ErrInvalid, check: still},
		{name: "fail/put with cancelled context", call: cancelled(put(testChallenge("device", hash1))), want: context.Canceled, check: gone},
		{name: "fail/consume with cancelled context", setup: stored, call: cancelled(consume("device", hash1, base)), want: context.Canceled, check: still},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := c.fresh(t)
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

// testConcurrent races 20 consumers on one challenge: a one-time
// challenge that enrolls two devices is a broken one.
func (c challengeSuite) testConcurrent(t *testing.T) {
	t.Run("ok/one of 20 consumers gets the challenge", func(t *testing.T) {
		st := c.fresh(t)
		mustPutChallenge(t, st, testChallenge("device", hash1))
		got := make([]*store.Challenge, 20)
		errs := race(len(got), func(i int) error {
			var err error
			got[i], err = st.ConsumeChallenge(context.Background(), "device", hash1, base)
			return err
		})
		winner := oneWinner(t, errs, store.ErrNotFound)
		checkFields(t, "the winner's challenge", got[winner], testChallenge("device", hash1))
	})
}

// testRestart checks that a consumed or expired challenge stays gone, and
// an unused one stays usable, across Close.
func (c challengeSuite) testRestart(t *testing.T) {
	db := dbName(t)
	st := c.open(t, db)
	mustPutChallenge(t, st, testChallenge("device", hash1))
	mustPutChallenge(t, st, testChallenge("device", hash2))
	mustPutChallenge(t, st, testChallenge("user", hash1))
	mustConsume(t, st, "device", hash1, base)
	// Expired when consumed: the removal must be durable although the
	// call failed.
	if _, err := st.ConsumeChallenge(context.Background(), "user", hash1, base.Add(2*time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ConsumeChallenge of an expired challenge: error = %v, want ErrNotFound", err)
	}
	st = reopen(t, c.open, st, db)

	wantNoChallenge(t, st, "device", hash1)
	wantNoChallenge(t, st, "user", hash1)
	checkFields(t, "unused challenge after reopen", mustConsume(t, st, "device", hash2, base), testChallenge("device", hash2))
}

// testClosed checks that every call after Close fails with ErrClosed.
func (c challengeSuite) testClosed(t *testing.T) {
	st := c.open(t, dbName(t))
	mustPutChallenge(t, st, testChallenge("device", hash1))
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for _, tc := range []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"fail/put", func(ctx context.Context) error { return st.PutChallenge(ctx, testChallenge("device", hash2)) }},
		{"fail/consume", func(ctx context.Context) error {
			_, err := st.ConsumeChallenge(ctx, "device", hash1, base)
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(context.Background()); !errors.Is(err, store.ErrClosed) {
				t.Fatalf("error = %v, want ErrClosed", err)
			}
		})
	}
}
