package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certgate/certgate/store"
	"github.com/certgate/certgate/store/storetest"
)

func TestRequestsConformance(t *testing.T) {
	adminDSN(t)
	t.Parallel()
	open := openNamed(t)
	storetest.RunRequests(t, func(st *testing.T, db string) storetest.RequestStore { return open(st, db) })
}

func TestChallengesConformance(t *testing.T) {
	adminDSN(t)
	t.Parallel()
	open := openNamed(t)
	storetest.RunChallenges(t, func(st *testing.T, db string) storetest.ChallengeStore { return open(st, db) })
}

func TestSecretsConformance(t *testing.T) {
	open := openNamed(t)
	storetest.RunSecrets(t, func(st *testing.T, db string) storetest.SecretStore { return open(st, db) })
}

func TestTokensConformance(t *testing.T) {
	adminDSN(t)
	t.Parallel()
	open := openNamed(t)
	storetest.RunTokens(t, func(st *testing.T, db string) storetest.TokenStore { return open(st, db) })
}

func testPending(id, profile, key string) *store.PendingRequest {
	return &store.PendingRequest{ID: id, Profile: profile, Key: key, Protocol: "est", CSR: []byte{0x30, 0}, CreatedAt: t0}
}

// TestApprovalLimits covers what only this backend refuses (identifiers
// text cannot hold, and ones too long for a btree entry) and how its
// errors read: prefixed, naming the state or the holder, and never naming
// a challenge or token hash.
func TestApprovalLimits(t *testing.T) {
	s := openTest(t, Options{})
	defer s.Close()
	ctx := context.Background()
	const secretHash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	longID := strings.Repeat("i", idMax+1)
	longKey := strings.Repeat("k", maxKeyLen-len("device")+1)
	if err := s.CreateRequest(ctx, testPending("r1", "device", "scep:1")); err != nil {
		t.Fatalf("CreateRequest: %v", err)
	}
	if err := s.PutChallenge(ctx, &store.Challenge{Profile: "device", Hash: secretHash, ExpiresAt: t0}); err != nil {
		t.Fatalf("PutChallenge: %v", err)
	}
	if err := s.PutToken(ctx, &store.APIToken{ID: "t1", Hash: secretHash}); err != nil {
		t.Fatalf("PutToken: %v", err)
	}
	for _, tc := range []struct {
		name    string
		call    func() error
		want    error
		wantMsg string
	}{
		{"fail/create with an ID over idMax", func() error { return s.CreateRequest(ctx, testPending(longID, "device", "scep:2")) },
			store.ErrInvalid, "request ID is 257 bytes, the limit is 256"},
		{"fail/get an ID over idMax", func() error { _, err := s.Request(ctx, longID); return err },
			store.ErrNotFound, `store: postgres: request "iii`},
		{"fail/create with NUL in the key", func() error { return s.CreateRequest(ctx, testPending("r2", "device", "scep:\x00")) },
			store.ErrInvalid, "key is not valid UTF-8 or contains NUL"},
		{"fail/create with invalid UTF-8 in the profile", func() error { return s.CreateRequest(ctx, testPending("r2", "dev\xff", "scep:2")) },
			store.ErrInvalid, "profile is not valid UTF-8 or contains NUL"},
		{"fail/create with invalid UTF-8 in the ID", func() error { return s.CreateRequest(ctx, testPending("r\xc3", "device", "scep:2")) },
			store.ErrInvalid, "request ID is not valid UTF-8 or contains NUL"},
		{"fail/get by a key with NUL", func() error { _, err := s.RequestByKey(ctx, "device", "scep:1\x00"); return err },
			store.ErrNotFound, `store: postgres: request by key (profile "device")`},
		{"fail/decide an ID with invalid UTF-8", func() error { _, err := s.DecideRequest(ctx, "r1\xff", true, "", "", t0); return err },
			store.ErrNotFound, `store: postgres: decide request "r1\xff"`},
		{"fail/create with profile and key over maxKeyLen", func() error { return s.CreateRequest(ctx, testPending("r2", "device", longKey)) },
			store.ErrInvalid, "profile and key are 2049 bytes, the limit is 2048"},
		{"fail/get by profile and key over maxKeyLen", func() error { _, err := s.RequestByKey(ctx, "device", longKey); return err },
			store.ErrNotFound, `store: postgres: request by key (profile "device")`},
		{"fail/create a taken ID", func() error { return s.CreateRequest(ctx, testPending("r1", "device", "scep:2")) },
			store.ErrConflict, `store: postgres: create request "r1": request ID already taken`},
		{"fail/create a taken key names the profile", func() error { return s.CreateRequest(ctx, testPending("r3", "device", "scep:1")) },
			store.ErrConflict, `store: postgres: create request "r3": profile "device" already has a request for this key`},
		{"fail/decide twice names the state", func() error {
			if _, err := s.DecideRequest(ctx, "r1", false, "alice", "", t0); err != nil {
				return err
			}
			_, err := s.DecideRequest(ctx, "r1", true, "bob", "", t0)
			return err
		}, store.ErrConflict, `store: postgres: decide request "r1": request is rejected, not pending`},
		{"fail/complete a rejected request names the state", func() error { return s.CompleteRequest(ctx, "r1", "1f") },
			store.ErrConflict, `store: postgres: complete request "r1": request is rejected, not approved`},
		{"fail/put a challenge with NUL in the hash", func() error {
			return s.PutChallenge(ctx, &store.Challenge{Profile: "device", Hash: secretHash + "\x00", ExpiresAt: t0})
		}, store.ErrInvalid, `store: postgres: put challenge (profile "device"): hash is not valid UTF-8`},
		{"fail/put a challenge with profile and hash over maxKeyLen", func() error {
			return s.PutChallenge(ctx, &store.Challenge{Profile: "device", Hash: longKey, ExpiresAt: t0})
		}, store.ErrInvalid, `store: postgres: put challenge (profile "device"): profile and hash are 2049 bytes`},
		{"fail/consume a hash with invalid UTF-8", func() error { _, err := s.ConsumeChallenge(ctx, "device", secretHash+"\xff", t0); return err },
			store.ErrNotFound, `store: postgres: consume challenge (profile "device")`},
		{"fail/put a challenge twice", func() error {
			return s.PutChallenge(ctx, &store.Challenge{Profile: "device", Hash: secretHash, ExpiresAt: t0})
		}, store.ErrConflict, `store: postgres: put challenge (profile "device"): challenge already exists`},
		{"fail/put a token with a hash over maxKeyLen", func() error {
			return s.PutToken(ctx, &store.APIToken{ID: "t2", Hash: strings.Repeat("h", maxKeyLen+1)})
		}, store.ErrInvalid, `store: postgres: put token "t2": hash is 2049 bytes, the limit is 2048`},
		{"fail/get a token by a hash with NUL", func() error { _, err := s.TokenByHash(ctx, "\x00"+secretHash); return err },
			store.ErrNotFound, "store: postgres: token by hash"},
		{"fail/delete a token ID with invalid UTF-8", func() error { return s.DeleteToken(ctx, "t1\xc3") },
			store.ErrNotFound, `store: postgres: delete token "t1\xc3"`},
		{"fail/put a token with a taken ID", func() error { return s.PutToken(ctx, &store.APIToken{ID: "t1", Hash: "other"}) },
			store.ErrConflict, `store: postgres: put token "t1": token ID already taken`},
		{"fail/put a token with a taken hash", func() error { return s.PutToken(ctx, &store.APIToken{ID: "t2", Hash: secretHash}) },
			store.ErrConflict, `store: postgres: put token "t2": another token has the same hash`},
		{"fail/consume an expired challenge says so", func() error {
			_, err := s.ConsumeChallenge(ctx, "device", secretHash, t0.Add(time.Second))
			return err
		}, store.ErrNotFound, `store: postgres: consume challenge (profile "device"): challenge expired at 2026-05-01T12:00:00Z`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if !errors.Is(err, tc.want) {
				t.Fatalf("error = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("error = %q, want it to contain %q", err, tc.wantMsg)
			}
			if strings.Contains(err.Error(), secretHash) {
				t.Fatalf("error %q names the hash", err)
			}
			if len(err.Error()) > 2*idMax+200 {
				t.Fatalf("error is %d bytes long; a long argument must be cut short", len(err.Error()))
			}
		})
	}
}

// TestRequestCursorBytes checks the cursor against IDs around the
// multi-byte UTF-8 sequences, with cursors PostgreSQL text cannot hold
// (NUL, invalid or cut-short UTF-8): the page must be exactly the IDs that
// sort after the cursor's bytes, as in the bbolt backend.
func TestRequestCursorBytes(t *testing.T) {
	s := openTest(t, Options{})
	defer s.Close()
	ctx := context.Background()
	ids := []string{"A", "a", "a\x01", "a\x7f", "a\u0080", "aé", "a\u20ac", "a\U0001F600", "b"}
	for _, id := range ids {
		if err := s.CreateRequest(ctx, testPending(id, "device", "scep:"+id)); err != nil {
			t.Fatalf("CreateRequest %q: %v", id, err)
		}
	}
	for _, after := range []string{
		"a", "aé", "a\x00", "a\x00\x01", "a\x7f\xff", "a\x80", "a\xc2", "a\xc3\x28", "a\xc3", "a\xe2\x82",
		"a\xf0\x9f\x98", "a\xf5", "a\xff", "\xff", "\x00",
	} {
		t.Run(fmt.Sprintf("ok/after %q", after), func(t *testing.T) {
			var want []string
			for _, id := range ids {
				if id > after {
					want = append(want, id)
				}
			}
			got, err := s.SearchRequests(ctx, store.RequestQuery{After: after, Status: store.RequestPending})
			if err != nil {
				t.Fatalf("SearchRequests: %v", err)
			}
			var gotIDs []string
			for _, r := range got {
				gotIDs = append(gotIDs, r.ID)
			}
			if !slices.Equal(gotIDs, want) {
				t.Fatalf("SearchRequests after %q = %q, want %q", after, gotIDs, want)
			}
		})
	}
	t.Run("ok/a profile text cannot hold matches nothing", func(t *testing.T) {
		got, err := s.SearchRequests(ctx, store.RequestQuery{Profile: "device\x00"})
		if err != nil || len(got) != 0 {
			t.Fatalf("SearchRequests = %d requests, %v; want none", len(got), err)
		}
	})
}

// TestApprovalOptionsNow checks that every defaulted time comes from
// Options.Now, including the now a challenge's expiry is judged by.
func TestApprovalOptionsNow(t *testing.T) {
	clock := t0.Add(42 * time.Minute)
	s := openTest(t, Options{Now: func() time.Time { return clock }})
	defer s.Close()
	ctx := context.Background()

	r := testPending("r1", "device", "scep:1")
	r.CreatedAt = time.Time{}
	if err := s.CreateRequest(ctx, r); err != nil {
		t.Fatalf("CreateRequest: %v", err)
	}
	decided, err := s.DecideRequest(ctx, "r1", true, "alice", "", time.Time{})
	if err != nil {
		t.Fatalf("DecideRequest: %v", err)
	}
	if err := s.PutChallenge(ctx, &store.Challenge{Profile: "device", Hash: "h1", ExpiresAt: clock}); err != nil {
		t.Fatalf("PutChallenge: %v", err)
	}
	if err := s.PutChallenge(ctx, &store.Challenge{Profile: "device", Hash: "h2", ExpiresAt: clock.Add(-time.Second)}); err != nil {
		t.Fatalf("PutChallenge: %v", err)
	}
	if err := s.PutToken(ctx, &store.APIToken{ID: "t1", Hash: "h1"}); err != nil {
		t.Fatalf("PutToken: %v", err)
	}
	ch, err := s.ConsumeChallenge(ctx, "device", "h1", time.Time{})
	if err != nil {
		t.Fatalf("ConsumeChallenge expiring at Options.Now: %v", err)
	}
	if _, err := s.ConsumeChallenge(ctx, "device", "h2", time.Time{}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ConsumeChallenge expired a second before Options.Now: error = %v, want ErrNotFound", err)
	}
	tok, err := s.TokenByHash(ctx, "h1")
	if err != nil {
		t.Fatalf("TokenByHash: %v", err)
	}
	for _, f := range []struct {
		name string
		got  time.Time
	}{
		{"request CreatedAt", decided.CreatedAt}, {"request DecidedAt", decided.DecidedAt},
		{"challenge CreatedAt", ch.CreatedAt}, {"token CreatedAt", tok.CreatedAt},
	} {
		if !f.got.Equal(clock) {
			t.Errorf("%s = %v, want Options.Now() %v", f.name, f.got, clock)
		}
	}
}

// TestChallengeExpiryPrecision checks the expiry edge at the microsecond
// the database stores: an ExpiresAt with nanoseconds is still valid at
// that very instant, and expired one microsecond later.
func TestChallengeExpiryPrecision(t *testing.T) {
	s := openTest(t, Options{})
	defer s.Close()
	ctx := context.Background()
	expires := t0.Add(1500 * time.Nanosecond)
	for _, tc := range []struct {
		name string
		now  time.Time
		want error
	}{
		{"ok/a microsecond before", expires.Add(-time.Microsecond), nil},
		{"ok/at the expiry instant", expires, nil},
		{"fail/a microsecond after", expires.Add(time.Microsecond), store.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.PutChallenge(ctx, &store.Challenge{Profile: "device", Hash: tc.name, ExpiresAt: expires}); err != nil {
				t.Fatalf("PutChallenge: %v", err)
			}
			if _, err := s.ConsumeChallenge(ctx, "device", tc.name, tc.now); !errors.Is(err, tc.want) {
				t.Fatalf("ConsumeChallenge: error = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestDeviceStateConformance(t *testing.T) {
	adminDSN(t)
	t.Parallel()
	open := openNamed(t)
	storetest.RunDeviceState(t, func(st *testing.T, db string) storetest.DeviceStateStore { return open(st, db) })
}
