package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/certgate/certgate/store"
)

// checkRequestSearch fails t unless SearchRequests(q) returns exactly the
// IDs want, in that order.
func checkRequestSearch(t *testing.T, st store.Requests, q store.RequestQuery, want []string) {
	t.Helper()
	got, err := st.SearchRequests(context.Background(), q)
	if err != nil {
		t.Fatalf("SearchRequests(%+v): %v", q, err)
	}
	if ids := requestIDs(got); !slices.Equal(ids, want) {
		t.Fatalf("SearchRequests(%+v) = %q, want %q", q, ids, want)
	}
}

func requestIDs(rs []*store.PendingRequest) []string {
	var ids []string
	for _, r := range rs {
		ids = append(ids, r.ID)
	}
	return ids
}

// testSearch checks every RequestQuery filter against a fixture whose
// creation order, byte order and case-insensitive order all differ.
func (r requestSuite) testSearch(t *testing.T) {
	st := r.fresh(t)
	fixture := []struct {
		id, profile string
		status      store.RequestStatus
	}{
		{"c1", "user", store.RequestApproved},
		{"b1", "device", store.RequestIssued},
		{"a2", "user", store.RequestPending},
		{"a10", "device", store.RequestRejected},
		{"a1", "device", store.RequestPending},
		{"B1", "device", store.RequestApproved},
	}
	for _, f := range fixture {
		mustCreate(t, st, testRequest(f.id, f.profile, "scep:"+f.id))
		switch f.status {
		case store.RequestApproved:
			mustDecide(t, st, f.id, true)
		case store.RequestRejected:
			mustDecide(t, st, f.id, false)
		case store.RequestIssued:
			mustDecide(t, st, f.id, true)
			mustComplete(t, st, f.id, "c0ffee")
		}
	}
	all := []string{"B1", "a1", "a10", "a2", "b1", "c1"}

	tests := []struct {
		name string
		q    store.RequestQuery
		want []string
	}{
		{"ok/zero query returns every request in byte order", store.RequestQuery{}, all},
		{"ok/status pending", store.RequestQuery{Status: store.RequestPending}, []string{"a1", "a2"}},
		{"ok/status approved", store.RequestQuery{Status: store.RequestApproved}, []string{"B1", "c1"}},
		{"ok/status rejected", store.RequestQuery{Status: store.RequestRejected}, []string{"a10"}},
		{"ok/status issued", store.RequestQuery{Status: store.RequestIssued}, []string{"b1"}},
		{"ok/profile", store.RequestQuery{Profile: "device"}, []string{"B1", "a1", "a10", "b1"}},
		{"ok/profile is exact", store.RequestQuery{Profile: "dev"}, nil},
		{"ok/status and profile", store.RequestQuery{Status: store.RequestApproved, Profile: "user"}, []string{"c1"}},
		{"ok/status and profile without match", store.RequestQuery{Status: store.RequestIssued, Profile: "user"}, nil},
		{"ok/limit keeps the lowest IDs", store.RequestQuery{Limit: 2}, []string{"B1", "a1"}},
		{"ok/limit with status", store.RequestQuery{Status: store.RequestApproved, Limit: 1}, []string{"B1"}},
		{"ok/zero limit is DefaultLimit", store.RequestQuery{Limit: 0}, all},
		{"ok/negative limit is unlimited", store.RequestQuery{Limit: -1}, all},
		{"ok/cursor", store.RequestQuery{After: "a1"}, []string{"a10", "a2", "b1", "c1"}},
		{"ok/cursor between IDs", store.RequestQuery{After: "a15"}, []string{"a2", "b1", "c1"}},
		{"ok/cursor before every ID", store.RequestQuery{After: "A"}, all},
		{"ok/cursor after every ID", store.RequestQuery{After: "d"}, nil},
		{"ok/cursor and limit", store.RequestQuery{After: "a1", Limit: 2}, []string{"a10", "a2"}},
		{"ok/cursor and status", store.RequestQuery{After: "B1", Status: store.RequestApproved}, []string{"c1"}},
		{"ok/cursor and profile", store.RequestQuery{After: "a1", Profile: "device"}, []string{"a10", "b1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkRequestSearch(t, st, tt.q, tt.want)
		})
	}
}

// requestModel is what the suite expects a store to hold: status and
// profile by ID.
type requestModel map[string]struct {
	profile string
	status  store.RequestStatus
}

// page is what SearchRequests(q) must return given the model.
func (m requestModel) page(q store.RequestQuery) []string {
	var ids []string
	for id, r := range m {
		if id > q.After && (q.Status == "" || r.status == q.Status) && (q.Profile == "" || r.profile == q.Profile) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	if q.Limit > 0 && len(ids) > q.Limit {
		ids = ids[:q.Limit]
	}
	return ids
}

// testPaginate follows the cursor while requests are created before and
// after it, and decided ahead of it, between pages: every page must be
// what the store holds at that moment, and no request may come back twice.
func (r requestSuite) testPaginate(t *testing.T) {
	tests := []struct {
		name string
		q    store.RequestQuery
	}{
		{"ok/all, limit 2", store.RequestQuery{Limit: 2}},
		{"ok/pending, limit 2", store.RequestQuery{Status: store.RequestPending, Limit: 2}},
		{"ok/pending in profile device, limit 3", store.RequestQuery{Status: store.RequestPending, Profile: "device", Limit: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := r.fresh(t)
			m := requestModel{}
			create := func(id, profile string) {
				t.Helper()
				mustCreate(t, st, testRequest(id, profile, "scep:"+id))
				m[id] = struct {
					profile string
					status  store.RequestStatus
				}{profile, store.RequestPending}
			}
			// r00, r02, ..., r22; r00, r06, ... approved.
			for i := 0; i <= 22; i += 2 {
				id := fmt.Sprintf("r%02d", i)
				create(id, []string{"device", "user"}[i/2%2])
				if i%6 == 0 {
					mustDecide(t, st, id, true)
					e := m[id]
					e.status = store.RequestApproved
					m[id] = e
				}
			}
			seen, rejected := map[string]bool{}, map[string]bool{}
			q := tt.q
			for pages := 1; ; pages++ {
				if pages > 50 {
					t.Fatalf("no short page after 50 pages: the cursor does not advance")
				}
				got, err := st.SearchRequests(context.Background(), q)
				if err != nil {
					t.Fatalf("page %d: SearchRequests(%+v): %v", pages, q, err)
				}
				ids := requestIDs(got)
				if want := m.page(q); !slices.Equal(ids, want) {
					t.Fatalf("page %d after %q = %q, want %q", pages, q.After, ids, want)
				}
				for _, id := range ids {
					if seen[id] {
						t.Fatalf("page %d: %q returned a second time", pages, id)
					}
					seen[id] = true
				}
				if len(ids) < q.Limit {
					break
				}
				q.After = ids[len(ids)-1]
				// One request the cursor has passed, one it has not, in
				// alternating profiles; and the next pending one ahead
				// is rejected, so it must drop out of a pending query.
				create("q"+q.After, []string{"device", "user"}[pages%2])
				create(q.After+"x", []string{"user", "device"}[pages%2])
				for _, id := range m.page(store.RequestQuery{After: q.After + "x", Status: store.RequestPending, Limit: 1}) {
					mustDecide(t, st, id, false)
					rejected[id] = true
					e := m[id]
					e.status = store.RequestRejected
					m[id] = e
				}
			}
			// Every request there before the first page that matched all
			// along came back.
			for id, e := range m {
				original := strings.HasPrefix(id, "r") && len(id) == 3
				if !original || (tt.q.Status != "" && rejected[id]) {
					continue
				}
				if (tt.q.Status == "" || e.status == tt.q.Status) && (tt.q.Profile == "" || e.profile == tt.q.Profile) && !seen[id] {
					t.Errorf("%q matched from start to end but was never returned", id)
				}
			}
		})
	}
}
