package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/certgate/certgate/store"
)

// RequestStore is what RunRequests checks: a backend's store.Requests,
// and Close.
type RequestStore interface {
	store.Requests
	Close() error
}

// RunRequests runs the suite for store.Requests. open follows the RunCache
// convention: a db not opened before in this RunRequests is empty, and
// opening a db again after closing it must show what was written to it.
// RunRequests closes every store it opens.
//
// Contract checked here, beyond the store.Requests doc comments:
//   - CreateRequest stores status pending, with no decision and no serial,
//     whatever r says; a zero CreatedAt becomes the backend's now. Neither
//     r nor a returned request is shared with the store.
//   - (Profile, Key) stays taken whatever the request's status, even once
//     it is rejected or issued.
//   - DecideRequest stores and returns the decided request: DecidedAt is
//     at (the backend's now when at is zero), DecidedBy is by, Reason is
//     reason.
//   - CompleteRequest takes the serial in any form store.ParseSerial does
//     and stores it as store.SerialHex prints it, so it matches the
//     certificate record.
//   - A nil request; an empty ID, profile or key; a serial that is not a
//     positive hex number; an unknown status in a query are ErrInvalid.
//   - IDs are ordered, and the After cursor compared, as bytes ("B" before
//     "a"; in PostgreSQL, COLLATE "C"). A page that follows a cursor holds
//     what matches at the time of the call, so requests created between
//     pages show up if their ID sorts after the cursor, and no request is
//     returned twice.
//   - Times survive to the second; instants are compared, not zones.
//   - A cancelled context fails the call with the context's error and
//     writes nothing; after Close every call fails with ErrClosed; every
//     write survives Close and reopening.
func RunRequests(t *testing.T, open func(t *testing.T, db string) RequestStore) {
	r := requestSuite{open: open}
	t.Run("lifecycle", r.testLifecycle)
	t.Run("errors", r.testErrors)
	t.Run("invalid", r.testInvalid)
	t.Run("search", r.testSearch)
	t.Run("paginate", r.testPaginate)
	t.Run("concurrent", r.testConcurrent)
	t.Run("restart", r.testRestart)
	t.Run("closed", r.testClosed)
}

type requestSuite struct {
	open func(t *testing.T, db string) RequestStore
}

func (r requestSuite) fresh(t *testing.T) RequestStore {
	t.Helper()
	return openFresh(t, r.open)
}

// testRequest is a pending request whose fields all differ from the zero
// value, except the decision and serial a new request cannot have.
func testRequest(id, profile, key string) *store.PendingRequest {
	return &store.PendingRequest{
		ID:            id,
		Profile:       profile,
		Key:           key,
		Protocol:      "scep",
		TransactionID: "tx-" + id,
		Subject:       "CN=Laptop-0042,OU=Devices,O=Example Corp",
		CSR:           []byte{0x30, 0x82, 0x01, 0x0a, 0x00, 0xff, 0x00, 0x01, 0x80, 0x7f},
		DeviceID:      "device-7f3e",
		RequesterAddr: "192.0.2.10:51514",
		Status:        store.RequestPending,
		// A zone other than UTC: backends must keep the instant.
		CreatedAt: base.In(time.FixedZone("CET", 3600)),
	}
}

// decided is testRequest(id, ...) as DecideRequest leaves it.
func decided(r *store.PendingRequest, approve bool, by, reason string, at time.Time) *store.PendingRequest {
	d := *r
	d.Status = store.RequestRejected
	if approve {
		d.Status = store.RequestApproved
	}
	d.DecidedAt, d.DecidedBy, d.Reason = at, by, reason
	return &d
}

func mustCreate(t *testing.T, st store.Requests, r *store.PendingRequest) {
	t.Helper()
	if err := st.CreateRequest(context.Background(), r); err != nil {
		t.Fatalf("CreateRequest %q: %v", r.ID, err)
	}
}

func mustRequest(t *testing.T, st store.Requests, id string) *store.PendingRequest {
	t.Helper()
	r, err := st.Request(context.Background(), id)
	if err != nil {
		t.Fatalf("Request %q: %v", id, err)
	}
	return r
}

func mustDecide(t *testing.T, st store.Requests, id string, approve bool) *store.PendingRequest {
	t.Helper()
	r, err := st.DecideRequest(context.Background(), id, approve, "alice", "checked by phone", base.Add(time.Hour))
	if err != nil {
		t.Fatalf("DecideRequest %q: %v", id, err)
	}
	return r
}

func mustComplete(t *testing.T, st store.Requests, id, serialHex string) {
	t.Helper()
	if err := st.CompleteRequest(context.Background(), id, serialHex); err != nil {
		t.Fatalf("CompleteRequest %q: %v", id, err)
	}
}

func wantNoRequest(t *testing.T, st store.Requests, id string) {
	t.Helper()
	if _, err := st.Request(context.Background(), id); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Request %q: error = %v, want ErrNotFound", id, err)
	}
}

func wantStatus(t *testing.T, st store.Requests, id string, want store.RequestStatus) *store.PendingRequest {
	t.Helper()
	got := mustRequest(t, st, id)
	if got.Status != want {
		t.Fatalf("Request %q: Status = %q, want %q", id, got.Status, want)
	}
	return got
}

func (r requestSuite) testLifecycle(t *testing.T) {
	ctx := context.Background()
	at := base.Add(time.Hour)

	t.Run("ok/create then get keeps every field", func(t *testing.T) {
		st := r.fresh(t)
		mustCreate(t, st, testRequest("0a1b", "device", "scep:tx-1"))
		checkFields(t, "Request", mustRequest(t, st, "0a1b"), testRequest("0a1b", "device", "scep:tx-1"))
	})

	t.Run("ok/create then get by key", func(t *testing.T) {
		st := r.fresh(t)
		mustCreate(t, st, testRequest("0a1b", "device", "est:9f86d081"))
		got, err := st.RequestByKey(ctx, "device", "est:9f86d081")
		if err != nil {
			t.Fatalf("RequestByKey: %v", err)
		}
		checkFields(t, "RequestByKey", got, testRequest("0a1b", "device", "est:9f86d081"))
	})

	t.Run("ok/create stores a new pending request whatever it says", func(t *testing.T) {
		st := r.fresh(t)
		in := testRequest("0a1b", "device", "scep:tx-1")
		in.Status, in.DecidedAt, in.DecidedBy, in.Reason, in.Serial = store.RequestIssued, at, "mallory", "self-approved", "1234"
		mustCreate(t, st, in)
		checkFields(t, "Request", mustRequest(t, st, "0a1b"), testRequest("0a1b", "device", "scep:tx-1"))
	})

	t.Run("ok/create fills a zero CreatedAt", func(t *testing.T) {
		st := r.fresh(t)
		in := testRequest("0a1b", "device", "scep:tx-1")
		in.CreatedAt = time.Time{}
		mustCreate(t, st, in)
		if got := mustRequest(t, st, "0a1b"); got.CreatedAt.IsZero() {
			t.Fatalf("CreatedAt is zero, want it set by CreateRequest")
		}
	})

	t.Run("ok/a key is unique per profile only", func(t *testing.T) {
		st := r.fresh(t)
		mustCreate(t, st, testRequest("01", "device", "scep:tx-1"))
		mustCreate(t, st, testRequest("02", "user", "scep:tx-1"))
		mustCreate(t, st, testRequest("03", "device", "scep:tx-2"))
		for _, tc := range []struct{ profile, key, id string }{
			{"device", "scep:tx-1", "01"}, {"user", "scep:tx-1", "02"}, {"device", "scep:tx-2", "03"},
		} {
			got, err := st.RequestByKey(ctx, tc.profile, tc.key)
			if err != nil {
				t.Fatalf("RequestByKey(%q, %q): %v", tc.profile, tc.key, err)
			}
			if got.ID != tc.id {
				t.Fatalf("RequestByKey(%q, %q) = %q, want %q", tc.profile, tc.key, got.ID, tc.id)
			}
		}
	})

	for _, approve := range []bool{true, false} {
		name := map[bool]string{true: "ok/approve", false: "ok/reject"}[approve]
		t.Run(name, func(t *testing.T) {
			st := r.fresh(t)
			in := testRequest("0a1b", "device", "scep:tx-1")
			mustCreate(t, st, in)
			want := decided(in, approve, "alice", "checked by phone", at)
			checkFields(t, "DecideRequest result", mustDecide(t, st, "0a1b", approve), want)
			checkFields(t, "Request after DecideRequest", mustRequest(t, st, "0a1b"), want)
		})
	}

	t.Run("ok/decide with zero time sets DecidedAt", func(t *testing.T) {
		st := r.fresh(t)
		mustCreate(t, st, testRequest("0a1b", "device", "scep:tx-1"))
		got, err := st.DecideRequest(ctx, "0a1b", true, "alice", "", time.Time{})
		if err != nil {
			t.Fatalf("DecideRequest: %v", err)
		}
		if got.DecidedAt.IsZero() || mustRequest(t, st, "0a1b").DecidedAt.IsZero() {
			t.Fatalf("DecidedAt is zero, want it set by DecideRequest")
		}
	})

	t.Run("ok/complete an approved request", func(t *testing.T) {
		st := r.fresh(t)
		in := testRequest("0a1b", "device", "scep:tx-1")
		mustCreate(t, st, in)
		mustDecide(t, st, "0a1b", true)
		mustComplete(t, st, "0a1b", "00:C0:FF:EE")
		want := decided(in, true, "alice", "checked by phone", at)
		want.Status, want.Serial = store.RequestIssued, "c0ffee"
		checkFields(t, "Request after CompleteRequest", mustRequest(t, st, "0a1b"), want)
		got, err := st.RequestByKey(ctx, "device", "scep:tx-1")
		if err != nil {
			t.Fatalf("RequestByKey of an issued request: %v", err)
		}
		checkFields(t, "RequestByKey after CompleteRequest", got, want)
	})

	t.Run("ok/store keeps no reference to requests passed in or out", func(t *testing.T) {
		st := r.fresh(t)
		in := testRequest("0a1b", "device", "scep:tx-1")
		mustCreate(t, st, in)
		in.CSR[0], in.Subject = 0, "changed after CreateRequest"
		out := mustRequest(t, st, "0a1b")
		out.CSR[0], out.Subject = 0, "changed after Request"
		d := mustDecide(t, st, "0a1b", true)
		d.CSR[0], d.DecidedBy = 0, "changed after DecideRequest"
		checkFields(t, "Request after changing every copy", mustRequest(t, st, "0a1b"),
			decided(testRequest("0a1b", "device", "scep:tx-1"), true, "alice", "checked by phone", at))
	})
}
