package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/certgate/certgate/store"
)

// requestCase is one call that must fail with want, leaving the store as
// check expects.
type requestCase struct {
	name  string
	setup func(t *testing.T, st RequestStore)
	call  func(ctx context.Context, st RequestStore) error
	want  error
	check func(t *testing.T, st RequestStore)
}

func (r requestSuite) runCases(t *testing.T, cases []requestCase) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := r.fresh(t)
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

// The calls the error tables make; the request under test is "0a1b" in
// profile "device" with key "scep:tx-1".

func createCall(id, profile, key string) func(ctx context.Context, st RequestStore) error {
	return func(ctx context.Context, st RequestStore) error {
		return st.CreateRequest(ctx, testRequest(id, profile, key))
	}
}

func getCall(id string) func(ctx context.Context, st RequestStore) error {
	return func(ctx context.Context, st RequestStore) error {
		_, err := st.Request(ctx, id)
		return err
	}
}

func byKeyCall(profile, key string) func(ctx context.Context, st RequestStore) error {
	return func(ctx context.Context, st RequestStore) error {
		_, err := st.RequestByKey(ctx, profile, key)
		return err
	}
}

// decideCall decides as bob, so a check can tell a second decision from
// the first (alice's).
func decideCall(id string, approve bool) func(ctx context.Context, st RequestStore) error {
	return func(ctx context.Context, st RequestStore) error {
		_, err := st.DecideRequest(ctx, id, approve, "bob", "second opinion", base.Add(2*time.Hour))
		return err
	}
}

func completeCall(id, serialHex string) func(ctx context.Context, st RequestStore) error {
	return func(ctx context.Context, st RequestStore) error { return st.CompleteRequest(ctx, id, serialHex) }
}

func searchCall(q store.RequestQuery) func(ctx context.Context, st RequestStore) error {
	return func(ctx context.Context, st RequestStore) error {
		_, err := st.SearchRequests(ctx, q)
		return err
	}
}

func cancelledCall(call func(ctx context.Context, st RequestStore) error) func(ctx context.Context, st RequestStore) error {
	return func(ctx context.Context, st RequestStore) error {
		ctx, cancel := context.WithCancel(ctx)
		cancel()
		return call(ctx, st)
	}
}

// The states the error tables start from.

func rqPending(t *testing.T, st RequestStore) {
	t.Helper()
	mustCreate(t, st, testRequest("0a1b", "device", "scep:tx-1"))
}

func rqApproved(t *testing.T, st RequestStore) {
	t.Helper()
	rqPending(t, st)
	mustDecide(t, st, "0a1b", true)
}

func rqRejected(t *testing.T, st RequestStore) {
	t.Helper()
	rqPending(t, st)
	mustDecide(t, st, "0a1b", false)
}

func rqIssued(t *testing.T, st RequestStore) {
	t.Helper()
	rqApproved(t, st)
	mustComplete(t, st, "0a1b", "c0ffee")
}

// rqUnchanged checks that the failed call left "0a1b" as the setup made
// it: in state want, decided by alice (not bob) if at all, and with the
// first serial if any.
func rqUnchanged(want store.RequestStatus) func(t *testing.T, st RequestStore) {
	return func(t *testing.T, st RequestStore) {
		t.Helper()
		got := wantStatus(t, st, "0a1b", want)
		wantBy, wantSerial := "", ""
		switch want {
		case store.RequestApproved, store.RequestRejected:
			wantBy = "alice"
		case store.RequestIssued:
			wantBy, wantSerial = "alice", "c0ffee"
		}
		if got.DecidedBy != wantBy || got.Serial != wantSerial {
			t.Fatalf("after the failed call DecidedBy, Serial = %q, %q; want %q, %q", got.DecidedBy, got.Serial, wantBy, wantSerial)
		}
	}
}

// rqNone checks that nothing at all is stored.
func rqNone(t *testing.T, st RequestStore) {
	t.Helper()
	got, err := st.SearchRequests(context.Background(), store.RequestQuery{Limit: -1})
	if err != nil || len(got) != 0 {
		t.Fatalf("SearchRequests after the failed call = %d requests, %v; want none", len(got), err)
	}
}

// testErrors checks ErrNotFound, ErrConflict and cancellation, and that a
// failed call changes nothing.
func (r requestSuite) testErrors(t *testing.T) {
	onlyFirst := func(t *testing.T, st RequestStore) {
		rqUnchanged(store.RequestPending)(t, st)
		got, err := st.SearchRequests(context.Background(), store.RequestQuery{Limit: -1})
		if err != nil || len(got) != 1 {
			t.Fatalf("SearchRequests after the failed create = %d requests, %v; want only the first", len(got), err)
		}
		if got[0].Key != "scep:tx-1" {
			t.Fatalf("Key = %q, want the first request's", got[0].Key)
		}
	}
	r.runCases(t, []requestCase{
		{name: "fail/create a taken ID", setup: rqPending, call: createCall("0a1b", "device", "scep:tx-2"), want: store.ErrConflict, check: onlyFirst},
		{name: "fail/create a taken ID in another profile", setup: rqPending, call: createCall("0a1b", "user", "scep:tx-1"), want: store.ErrConflict, check: onlyFirst},
		{name: "fail/create a taken profile and key", setup: rqPending, call: createCall("0c0d", "device", "scep:tx-1"), want: store.ErrConflict, check: onlyFirst},
		{name: "fail/create the key of a rejected request", setup: rqRejected, call: createCall("0c0d", "device", "scep:tx-1"), want: store.ErrConflict, check: rqUnchanged(store.RequestRejected)},
		{name: "fail/create the key of an issued request", setup: rqIssued, call: createCall("0c0d", "device", "scep:tx-1"), want: store.ErrConflict, check: rqUnchanged(store.RequestIssued)},
		{name: "fail/get unknown", setup: rqPending, call: getCall("0c0d"), want: store.ErrNotFound},
		{name: "fail/get by unknown key", setup: rqPending, call: byKeyCall("device", "scep:tx-2"), want: store.ErrNotFound},
		{name: "fail/get by key in another profile", setup: rqPending, call: byKeyCall("user", "scep:tx-1"), want: store.ErrNotFound},
		{name: "fail/decide unknown", setup: rqPending, call: decideCall("0c0d", true), want: store.ErrNotFound, check: rqUnchanged(store.RequestPending)},
		{name: "fail/approve twice", setup: rqApproved, call: decideCall("0a1b", true), want: store.ErrConflict, check: rqUnchanged(store.RequestApproved)},
		{name: "fail/reject after approve", setup: rqApproved, call: decideCall("0a1b", false), want: store.ErrConflict, check: rqUnchanged(store.RequestApproved)},
		{name: "fail/reject twice", setup: rqRejected, call: decideCall("0a1b", false), want: store.ErrConflict, check: rqUnchanged(store.RequestRejected)},
		{name: "fail/approve after reject", setup: rqRejected, call: decideCall("0a1b", true), want: store.ErrConflict, check: rqUnchanged(store.RequestRejected)},
		{name: "fail/decide issued", setup: rqIssued, call: decideCall("0a1b", false), want: store.ErrConflict, check: rqUnchanged(store.RequestIssued)},
		{name: "fail/complete unknown", setup: rqApproved, call: completeCall("0c0d", "abcd"), want: store.ErrNotFound, check: rqUnchanged(store.RequestApproved)},
		{name: "fail/complete pending", setup: rqPending, call: completeCall("0a1b", "abcd"), want: store.ErrConflict, check: rqUnchanged(store.RequestPending)},
		{name: "fail/complete rejected", setup: rqRejected, call: completeCall("0a1b", "abcd"), want: store.ErrConflict, check: rqUnchanged(store.RequestRejected)},
		{name: "fail/complete twice", setup: rqIssued, call: completeCall("0a1b", "abcd"), want: store.ErrConflict, check: rqUnchanged(store.RequestIssued)},
		{name: "fail/create with cancelled context", call: cancelledCall(createCall("0a1b", "device", "scep:tx-1")), want: context.Canceled, check: rqNone},
		{name: "fail/get with cancelled context", setup: rqPending, call: cancelledCall(getCall("0a1b")), want: context.Canceled},
		{name: "fail/get by key with cancelled context", setup: rqPending, call: cancelledCall(byKeyCall("device", "scep:tx-1")), want: context.Canceled},
		{name: "fail/decide with cancelled context", setup: rqPending, call: cancelledCall(decideCall("0a1b", true)), want: context.Canceled, check: rqUnchanged(store.RequestPending)},
		{name: "fail/complete with cancelled context", setup: rqApproved, call: cancelledCall(completeCall("0a1b", "abcd")), want: context.Canceled, check: rqUnchanged(store.RequestApproved)},
		{name: "fail/search with cancelled context", setup: rqPending, call: cancelledCall(searchCall(store.RequestQuery{})), want: context.Canceled},
	})
}

// testInvalid checks that arguments no store can hold are ErrInvalid and
// change nothing.
func (r requestSuite) testInvalid(t *testing.T) {
	r.runCases(t, []requestCase{
		{name: "fail/create nil", call: func(ctx context.Context, st RequestStore) error { return st.CreateRequest(ctx, nil) }, want: store.ErrInvalid, check: rqNone},
		{name: "fail/create empty ID", call: createCall("", "device", "scep:tx-1"), want: store.ErrInvalid, check: rqNone},
		{name: "fail/create empty profile", call: createCall("0a1b", "", "scep:tx-1"), want: store.ErrInvalid, check: rqNone},
		{name: "fail/create empty key", call: createCall("0a1b", "device", ""), want: store.ErrInvalid, check: rqNone},
		{name: "fail/get empty ID", setup: rqPending, call: getCall(""), want: store.ErrInvalid},
		{name: "fail/get by key with empty profile", setup: rqPending, call: byKeyCall("", "scep:tx-1"), want: store.ErrInvalid},
		{name: "fail/get by key with empty key", setup: rqPending, call: byKeyCall("device", ""), want: store.ErrInvalid},
		{name: "fail/decide empty ID", setup: rqPending, call: decideCall("", true), want: store.ErrInvalid, check: rqUnchanged(store.RequestPending)},
		{name: "fail/complete empty ID", setup: rqApproved, call: completeCall("", "abcd"), want: store.ErrInvalid, check: rqUnchanged(store.RequestApproved)},
		{name: "fail/complete empty serial", setup: rqApproved, call: completeCall("0a1b", ""), want: store.ErrInvalid, check: rqUnchanged(store.RequestApproved)},
		{name: "fail/complete serial not hex", setup: rqApproved, call: completeCall("0a1b", "xyz"), want: store.ErrInvalid, check: rqUnchanged(store.RequestApproved)},
		{name: "fail/complete zero serial", setup: rqApproved, call: completeCall("0a1b", "00"), want: store.ErrInvalid, check: rqUnchanged(store.RequestApproved)},
		{name: "fail/complete negative serial", setup: rqApproved, call: completeCall("0a1b", "-1f"), want: store.ErrInvalid, check: rqUnchanged(store.RequestApproved)},
		{name: "fail/search unknown status", setup: rqPending, call: searchCall(store.RequestQuery{Status: "expired"}), want: store.ErrInvalid},
	})
}

// testConcurrent checks that creation and decision are single gates: of
// racing callers exactly one wins.
func (r requestSuite) testConcurrent(t *testing.T) {
	const workers = 8
	ids := []string{"c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7"}

	t.Run("ok/one of 8 creates of the same profile and key wins", func(t *testing.T) {
		st := r.fresh(t)
		errs := race(workers, func(i int) error {
			return st.CreateRequest(context.Background(), testRequest(ids[i], "device", "scep:tx-1"))
		})
		winner := oneWinner(t, errs, store.ErrConflict)
		got, err := st.RequestByKey(context.Background(), "device", "scep:tx-1")
		if err != nil {
			t.Fatalf("RequestByKey: %v", err)
		}
		if got.ID != ids[winner] {
			t.Fatalf("RequestByKey = %q, want the winner %q", got.ID, ids[winner])
		}
		for i, id := range ids {
			if i != winner {
				wantNoRequest(t, st, id)
			}
		}
	})

	t.Run("ok/one of 8 decisions on one request wins", func(t *testing.T) {
		st := r.fresh(t)
		mustCreate(t, st, testRequest("0a1b", "device", "scep:tx-1"))
		errs := race(workers, func(i int) error {
			_, err := st.DecideRequest(context.Background(), "0a1b", i%2 == 0, ids[i], "", base)
			return err
		})
		winner := oneWinner(t, errs, store.ErrConflict)
		want := map[bool]store.RequestStatus{true: store.RequestApproved, false: store.RequestRejected}[winner%2 == 0]
		if got := wantStatus(t, st, "0a1b", want); got.DecidedBy != ids[winner] {
			t.Fatalf("DecidedBy = %q, want the winner %q", got.DecidedBy, ids[winner])
		}
	})
}

// oneWinner fails t unless exactly one error is nil and every other one is
// lose; it returns the winner's index.
func oneWinner(t *testing.T, errs []error, lose error) int {
	t.Helper()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("workers %d and %d both succeeded", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, lose):
			t.Fatalf("worker %d: error = %v, want nil or %v", i, err, lose)
		}
	}
	if winner < 0 {
		t.Fatalf("no worker succeeded")
	}
	return winner
}

// testRestart checks that requests, their indexes and their decisions
// outlive Close.
func (r requestSuite) testRestart(t *testing.T) {
	db := dbName(t)
	st := r.open(t, db)
	mustCreate(t, st, testRequest("01", "device", "scep:tx-1"))
	mustCreate(t, st, testRequest("02", "device", "scep:tx-2"))
	mustCreate(t, st, testRequest("03", "user", "scep:tx-3"))
	mustDecide(t, st, "02", false)
	mustDecide(t, st, "03", true)
	mustComplete(t, st, "03", "c0ffee")
	st = reopen(t, r.open, st, db)

	wantStatus(t, st, "01", store.RequestPending)
	if got := wantStatus(t, st, "02", store.RequestRejected); got.DecidedBy != "alice" {
		t.Errorf("DecidedBy after reopen = %q, want alice", got.DecidedBy)
	}
	if got := wantStatus(t, st, "03", store.RequestIssued); got.Serial != "c0ffee" {
		t.Errorf("Serial after reopen = %q, want c0ffee", got.Serial)
	}
	if got, err := st.RequestByKey(context.Background(), "device", "scep:tx-2"); err != nil || got.ID != "02" {
		t.Errorf("RequestByKey after reopen = %v, %v; want 02", got, err)
	}
	checkRequestSearch(t, st, store.RequestQuery{Status: store.RequestPending}, []string{"01"})
	// The key index must survive too, or a reopened server would park a
	// second request for the same transaction.
	if err := st.CreateRequest(context.Background(), testRequest("04", "device", "scep:tx-1")); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("CreateRequest of a taken key after reopen: error = %v, want ErrConflict", err)
	}
}

// testClosed checks that every call after Close fails with ErrClosed.
func (r requestSuite) testClosed(t *testing.T) {
	st := r.open(t, dbName(t))
	rqPending(t, st)
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for _, tc := range []struct {
		name string
		call func(ctx context.Context, st RequestStore) error
	}{
		{"fail/create", createCall("0c0d", "device", "scep:tx-2")},
		{"fail/get", getCall("0a1b")},
		{"fail/get by key", byKeyCall("device", "scep:tx-1")},
		{"fail/decide", decideCall("0a1b", true)},
		{"fail/complete", completeCall("0a1b", "abcd")},
		{"fail/search", searchCall(store.RequestQuery{})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(context.Background(), st); !errors.Is(err, store.ErrClosed) {
				t.Fatalf("error = %v, want ErrClosed", err)
			}
		})
	}
}
