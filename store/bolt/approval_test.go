package bolt

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/certgate/certgate/store"
	"github.com/certgate/certgate/store/storetest"
)

// openNamed returns a factory for the db-named suites: one file per db in
// a directory shared by the whole run, so a db opened again is the same
// file.
func openNamed(t *testing.T) func(t *testing.T, db string) *Store {
	dir := t.TempDir()
	return func(t *testing.T, db string) *Store {
		s, err := Open(filepath.Join(dir, db+".db"), Options{})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	}
}

func TestRequestsConformance(t *testing.T) {
	open := openNamed(t)
	storetest.RunRequests(t, func(t *testing.T, db string) storetest.RequestStore { return open(t, db) })
}

func TestChallengesConformance(t *testing.T) {
	open := openNamed(t)
	storetest.RunChallenges(t, func(t *testing.T, db string) storetest.ChallengeStore { return open(t, db) })
}

func TestSecretsConformance(t *testing.T) {
	open := openNamed(t)
	storetest.RunSecrets(t, func(t *testing.T, db string) storetest.SecretStore { return open(t, db) })
}

func TestTokensConformance(t *testing.T) {
	open := openNamed(t)
	storetest.RunTokens(t, func(t *testing.T, db string) storetest.TokenStore { return open(t, db) })
}

func testPending(id, profile, key string) *store.PendingRequest {
	return &store.PendingRequest{ID: id, Profile: profile, Key: key, Protocol: "est", CSR: []byte{0x30, 0}, CreatedAt: t0}
}

// TestApprovalLimitsBolt covers what only this backend refuses (keys over
// bbolt's limit, IDs over idMax) and how its errors read: prefixed, and
// never naming a challenge or token hash.
func TestApprovalLimitsBolt(t *testing.T) {
	s := openTemp(t, Options{})
	defer s.Close()
	ctx := context.Background()
	longID := strings.Repeat("i", idMax+1)
	longKey := strings.Repeat("k", bbolt.MaxKeySize)
	const secretHash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
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
			store.ErrNotFound, `store: bolt: request "iii`},
		{"fail/create with a key over the bbolt limit", func() error { return s.CreateRequest(ctx, testPending("r2", "device", longKey)) },
			store.ErrInvalid, "profile and key are 32774 bytes, the limit is 32766"},
		{"fail/get by a key over the bbolt limit", func() error { _, err := s.RequestByKey(ctx, "device", longKey); return err },
			store.ErrNotFound, `store: bolt: request by key (profile "device")`},
		{"fail/decide twice names the state", func() error {
			if _, err := s.DecideRequest(ctx, "r1", false, "alice", "", t0); err != nil {
				return err
			}
			_, err := s.DecideRequest(ctx, "r1", true, "bob", "", t0)
			return err
		}, store.ErrConflict, `store: bolt: decide request "r1": request is rejected, not pending`},
		{"fail/complete a rejected request names the state", func() error { return s.CompleteRequest(ctx, "r1", "1f") },
			store.ErrConflict, `store: bolt: complete request "r1": request is rejected, not approved`},
		{"fail/create a taken key names the holder", func() error { return s.CreateRequest(ctx, testPending("r3", "device", "scep:1")) },
			store.ErrConflict, `profile "device" already has request "r1" for this key`},
		{"fail/put a challenge with a hash over the bbolt limit", func() error {
			return s.PutChallenge(ctx, &store.Challenge{Profile: "device", Hash: longKey, ExpiresAt: t0})
		}, store.ErrInvalid, `store: bolt: put challenge (profile "device"): profile and hash are`},
		{"fail/consume a hash over the bbolt limit", func() error { _, err := s.ConsumeChallenge(ctx, "device", longKey, t0); return err },
			store.ErrNotFound, `store: bolt: consume challenge (profile "device")`},
		{"fail/put a challenge twice", func() error {
			return s.PutChallenge(ctx, &store.Challenge{Profile: "device", Hash: secretHash, ExpiresAt: t0})
		}, store.ErrConflict, `store: bolt: put challenge (profile "device"): challenge already exists`},
		{"fail/put a token with a hash over the bbolt limit", func() error {
			return s.PutToken(ctx, &store.APIToken{ID: "t2", Hash: longKey + "k"})
		}, store.ErrInvalid, `store: bolt: put token "t2": hash is 32769 bytes`},
		{"fail/get a token by a hash over the bbolt limit", func() error { _, err := s.TokenByHash(ctx, longKey+"k"); return err },
			store.ErrNotFound, "store: bolt: token by hash"},
		{"fail/put a token with a taken hash names the holder", func() error {
			return s.PutToken(ctx, &store.APIToken{ID: "t2", Hash: secretHash})
		}, store.ErrConflict, `store: bolt: put token "t2": token "t1" has the same hash`},
		{"fail/consume an expired challenge says so", func() error {
			_, err := s.ConsumeChallenge(ctx, "device", secretHash, t0.Add(time.Second))
			return err
		}, store.ErrNotFound, `store: bolt: consume challenge (profile "device"): challenge expired at 2026-05-01T12:00:00Z`},
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

// TestPairKeyUnambiguous checks that the length prefix keeps apart pairs
// that concatenate to the same bytes.
func TestPairKeyUnambiguous(t *testing.T) {
	s := openTemp(t, Options{})
	defer s.Close()
	ctx := context.Background()
	for _, r := range []*store.PendingRequest{testPending("r1", "ab", "c"), testPending("r2", "a", "bc"), testPending("r3", "a\x00", "b")} {
		if err := s.CreateRequest(ctx, r); err != nil {
			t.Fatalf("CreateRequest (%q, %q): %v", r.Profile, r.Key, err)
		}
	}
	for _, tc := range []struct{ profile, key, want string }{{"ab", "c", "r1"}, {"a", "bc", "r2"}, {"a\x00", "b", "r3"}} {
		got, err := s.RequestByKey(ctx, tc.profile, tc.key)
		if err != nil || got.ID != tc.want {
			t.Fatalf("RequestByKey(%q, %q) = %v, %v; want %s", tc.profile, tc.key, got, err, tc.want)
		}
	}
}

// TestRequestStatusIndex checks that idx_request_status holds exactly one
// entry per request, under its current status, through every transition.
func TestRequestStatusIndex(t *testing.T) {
	s := openTemp(t, Options{})
	defer s.Close()
	ctx := context.Background()
	for _, id := range []string{"r1", "r2", "r3", "r4"} {
		if err := s.CreateRequest(ctx, testPending(id, "device", "scep:"+id)); err != nil {
			t.Fatalf("CreateRequest: %v", err)
		}
	}
	steps := []func() error{
		func() error { _, err := s.DecideRequest(ctx, "r2", true, "alice", "", t0); return err },
		func() error { _, err := s.DecideRequest(ctx, "r3", false, "alice", "", t0); return err },
		func() error { _, err := s.DecideRequest(ctx, "r4", true, "alice", "", t0); return err },
		func() error { return s.CompleteRequest(ctx, "r4", "abc") },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	var got []string
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketIdxRequestStatus).ForEach(func(k, _ []byte) error {
			got = append(got, string(bytes.ReplaceAll(k, []byte{0}, []byte{'/'})))
			return nil
		})
	})
	if err != nil {
		t.Fatalf("View: %v", err)
	}
	want := []string{"approved/r2", "issued/r4", "pending/r1", "rejected/r3"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("idx_request_status = %q, want %q", got, want)
	}
}

// TestApprovalOptionsNow checks that every defaulted time comes from
// Options.Now.
func TestApprovalOptionsNow(t *testing.T) {
	clock := t0.Add(42 * time.Minute)
	s := openTemp(t, Options{Now: func() time.Time { return clock }})
	defer s.Close()
	ctx := context.Background()

	r := testPending("r1", "device", "scep:1")
	r.CreatedAt = time.Time{}
	if err := s.CreateRequest(ctx, r); err != nil {
		t.Fatalf("CreateRequest: %v", err)
	}
	d, err := s.DecideRequest(ctx, "r1", true, "alice", "", time.Time{})
	if err != nil {
		t.Fatalf("DecideRequest: %v", err)
	}
	if err := s.PutToken(ctx, &store.APIToken{ID: "t1", Hash: "h"}); err != nil {
		t.Fatalf("PutToken: %v", err)
	}
	tok, err := s.TokenByHash(ctx, "h")
	if err != nil {
		t.Fatalf("TokenByHash: %v", err)
	}
	// One challenge that clock finds valid and one it finds expired, both
	// consumed with a zero now.
	for _, c := range []*store.Challenge{{Profile: "p", Hash: "valid", ExpiresAt: clock}, {Profile: "p", Hash: "expired", ExpiresAt: clock.Add(-time.Second)}} {
		if err := s.PutChallenge(ctx, c); err != nil {
			t.Fatalf("PutChallenge: %v", err)
		}
	}
	c, err := s.ConsumeChallenge(ctx, "p", "valid", time.Time{})
	if err != nil {
		t.Fatalf("ConsumeChallenge of a challenge expiring at Options.Now: %v", err)
	}
	if _, err := s.ConsumeChallenge(ctx, "p", "expired", time.Time{}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ConsumeChallenge of a challenge expired before Options.Now: error = %v, want ErrNotFound", err)
	}
	for _, f := range []struct {
		name string
		got  time.Time
	}{{"request CreatedAt", d.CreatedAt}, {"DecidedAt", d.DecidedAt}, {"token CreatedAt", tok.CreatedAt}, {"challenge CreatedAt", c.CreatedAt}} {
		if !f.got.Equal(clock) {
			t.Errorf("%s = %v, want Options.Now() %v", f.name, f.got, clock)
		}
	}
}

func TestDeviceStateConformance(t *testing.T) {
	open := openNamed(t)
	storetest.RunDeviceState(t, func(t *testing.T, db string) storetest.DeviceStateStore { return open(t, db) })
}
