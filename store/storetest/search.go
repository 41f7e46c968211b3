package storetest

import (
	"context"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certgate/certgate/store"
)

const day = 24 * time.Hour

// testSearch checks every Query filter against a small fixture whose serial
// order, hex-string order and expiry order all differ, so a backend that
// sorts by the wrong one fails.
func (s suite) testSearch(t *testing.T) {
	st := s.fresh(t)
	fixture := []struct {
		hex, profile, subject, device string
		status                        store.Status
		notAfter                      time.Duration
	}{
		{"a", "device", "CN=Laptop-01,O=Acme", "dev-a", store.StatusValid, 30 * day},
		{"ff", "user", "CN=alice,O=Acme", "dev-b", store.StatusValid, 20 * day},
		{"100", "device", "CN=Printer,O=Other", "dev-a", store.StatusRevoked, 40 * day},
		{"1234", "device", "CN=laptop-02,O=Acme", "dev-c", store.StatusReserved, 10 * day},
		{"ffffffffffffffffffffffff", "device", "CN=LAPTOP-03,O=ACME", "", store.StatusValid, 10 * day},
	}
	for _, f := range fixture {
		sn := serial(t, f.hex)
		r := reservation(sn)
		r.Profile, r.Subject, r.DeviceID = f.profile, f.subject, f.device
		r.CommonName = strings.TrimPrefix(strings.SplitN(f.subject, ",", 2)[0], "CN=")
		r.NotAfter = base.Add(f.notAfter)
		mustReserve(t, st, r)
		if f.status == store.StatusReserved {
			continue
		}
		i := issued(sn)
		i.Profile, i.Subject, i.CommonName, i.DeviceID, i.NotAfter = r.Profile, r.Subject, r.CommonName, r.DeviceID, r.NotAfter
		mustIssue(t, st, i)
		if f.status == store.StatusRevoked {
			if _, err := st.Revoke(context.Background(), sn, store.ReasonSuperseded, base); err != nil {
				t.Fatalf("Revoke %s: %v", f.hex, err)
			}
		}
	}
	const e = "ffffffffffffffffffffffff"

	tests := []struct {
		name string
		q    store.Query
		want []string
	}{
		{"ok/zero query excludes reserved", store.Query{}, []string{"a", "ff", "100", e}},
		{"ok/status reserved", store.Query{Status: store.StatusReserved}, []string{"1234"}},
		{"ok/status valid", store.Query{Status: store.StatusValid}, []string{"a", "ff", e}},
		{"ok/status revoked", store.Query{Status: store.StatusRevoked}, []string{"100"}},
		{"ok/profile", store.Query{Profile: "device"}, []string{"a", "100", e}},
		{"ok/profile is exact", store.Query{Profile: "dev"}, nil},
		{"ok/subject substring in any case", store.Query{Subject: "lApToP"}, []string{"a", e}},
		{"ok/subject matches the whole DN", store.Query{Subject: "o=acme"}, []string{"a", "ff", e}},
		{"ok/subject on reservations", store.Query{Status: store.StatusReserved, Subject: "LAPTOP"}, []string{"1234"}},
		{"ok/subject no match", store.Query{Subject: "nomatch"}, nil},
		{"ok/device", store.Query{DeviceID: "dev-a"}, []string{"a", "100"}},
		{"ok/device is exact", store.Query{DeviceID: "dev"}, nil},
		{"ok/expires before is exclusive", store.Query{ExpiresBefore: base.Add(20 * day)}, []string{e}},
		{"ok/expires before one second later", store.Query{ExpiresBefore: base.Add(20*day + time.Second)}, []string{"ff", e}},
		{"ok/expires after is inclusive", store.Query{ExpiresAfter: base.Add(30 * day)}, []string{"a", "100"}},
		{"ok/expires window", store.Query{ExpiresAfter: base.Add(20 * day), ExpiresBefore: base.Add(40 * day)}, []string{"a", "ff"}},
		{"ok/expires window empty", store.Query{ExpiresAfter: base.Add(40 * day), ExpiresBefore: base.Add(20 * day)}, nil},
		{"ok/expires before on reservations", store.Query{Status: store.StatusReserved, ExpiresBefore: base.Add(11 * day)}, []string{"1234"}},
		{"ok/filters combine", store.Query{Status: store.StatusValid, Profile: "device", Subject: "laptop", ExpiresBefore: base.Add(31 * day)}, []string{"a", e}},
		{"ok/limit keeps the lowest serials", store.Query{Limit: 2}, []string{"a", "ff"}},
		{"ok/limit with expires before is by serial, not expiry", store.Query{ExpiresBefore: base.Add(41 * day), Limit: 2}, []string{"a", "ff"}},
		{"ok/negative limit is unlimited", store.Query{Limit: -1}, []string{"a", "ff", "100", e}},
		{"ok/cursor", store.Query{After: "ff"}, []string{"100", e}},
		{"ok/cursor compares numbers, not strings", store.Query{After: "100"}, []string{e}},
		{"ok/cursor between serials", store.Query{After: "fe"}, []string{"ff", "100", e}},
		{"ok/cursor in openssl form", store.Query{After: "0x01:00"}, []string{e}},
		{"ok/cursor with expires before", store.Query{After: "a", ExpiresBefore: base.Add(41 * day)}, []string{"ff", "100", e}},
		{"ok/cursor past the largest serial", store.Query{After: strings.Repeat("ff", 21)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkSearch(t, st, "", tt.q, tt.want)
		})
	}
}

// checkSearch fails t unless Search(q) returns exactly the serials want, in
// that order, with Serial and SerialHex filled.
func checkSearch(t *testing.T, st store.Store, label string, q store.Query, want []string) {
	t.Helper()
	recs, err := st.Search(context.Background(), q)
	if err != nil {
		t.Fatalf("%sSearch: %v", prefix(label), err)
	}
	got := serialsOf(t, recs)
	if !slices.Equal(got, want) {
		t.Fatalf("%sSearch = %v, want %v", prefix(label), got, want)
	}
}

func prefix(label string) string {
	if label == "" {
		return ""
	}
	return label + ": "
}

// serialsOf lists the records' SerialHex after checking it agrees with
// Serial.
func serialsOf(t *testing.T, recs []*store.CertRecord) []string {
	t.Helper()
	var out []string
	for _, r := range recs {
		if r.Serial == nil || r.SerialHex != store.SerialHex(r.Serial) {
			t.Fatalf("record with Serial %v and SerialHex %q: want both filled and equal", r.Serial, r.SerialHex)
		}
		out = append(out, r.SerialHex)
	}
	return out
}

// testPaginate pages through 25 records of mixed serial lengths and checks
// each comes back exactly once, in numeric order.
func (s suite) testPaginate(t *testing.T) {
	st := s.fresh(t)
	type rec struct {
		sn       *big.Int
		status   store.Status
		notAfter time.Time
	}
	var recs []rec
	for i, sn := range paginationSerials(t, 25) {
		r := rec{sn: sn, status: store.StatusValid, notAfter: base.Add(time.Duration(i) * day)}
		mustReserve(t, st, reservation(sn))
		is := issued(sn)
		is.NotAfter = r.notAfter
		mustIssue(t, st, is)
		if i%3 == 0 {
			r.status = store.StatusRevoked
			if _, err := st.Revoke(context.Background(), sn, store.ReasonSuperseded, base); err != nil {
				t.Fatalf("Revoke: %v", err)
			}
		}
		recs = append(recs, r)
	}
	slices.SortFunc(recs, func(a, b rec) int { return a.sn.Cmp(b.sn) })
	expect := func(keep func(rec) bool) []string {
		var out []string
		for _, r := range recs {
			if keep(r) {
				out = append(out, store.SerialHex(r.sn))
			}
		}
		return out
	}
	all := func(rec) bool { return true }

	tests := []struct {
		name      string
		q         store.Query
		want      []string
		wantPages int
	}{
		{"ok/limit 10 over 25", store.Query{Limit: 10}, expect(all), 3},
		{"ok/limit 5 over 25 ends with an empty page", store.Query{Limit: 5}, expect(all), 6},
		{"ok/limit above the count", store.Query{Limit: 100}, expect(all), 1},
		{"ok/zero limit is DefaultLimit", store.Query{}, expect(all), 1},
		{"ok/status valid", store.Query{Status: store.StatusValid, Limit: 4}, expect(func(r rec) bool { return r.status == store.StatusValid }), 5},
		{"ok/status revoked", store.Query{Status: store.StatusRevoked, Limit: 3}, expect(func(r rec) bool { return r.status == store.StatusRevoked }), 4},
		{"ok/status revoked, unexpired (a CRL's query)", store.Query{Status: store.StatusRevoked, ExpiresAfter: base.Add(10 * day), Limit: 10},
			expect(func(r rec) bool { return r.status == store.StatusRevoked && !r.notAfter.Before(base.Add(10*day)) }), 1},
		{"ok/expires before", store.Query{ExpiresBefore: base.Add(15 * day), Limit: 4}, expect(func(r rec) bool { return r.notAfter.Before(base.Add(15 * day)) }), 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, pages := paginate(t, st, tt.q)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("pages joined = %v\nwant %v", got, tt.want)
			}
			if pages != tt.wantPages {
				t.Fatalf("took %d pages, want %d", pages, tt.wantPages)
			}
		})
	}
}

// paginate follows the After cursor until a short page, checking that every
// page is within the limit and sorts after the cursor.
func paginate(t *testing.T, st store.Store, q store.Query) (serials []string, pages int) {
	t.Helper()
	limit := q.Limit
	if limit == 0 {
		limit = store.DefaultLimit
	}
	var last *big.Int
	for pages = 1; ; pages++ {
		if pages > 100 {
			t.Fatalf("no short page after 100 pages: the cursor does not advance")
		}
		recs, err := st.Search(context.Background(), q)
		if err != nil {
			t.Fatalf("page %d: Search(%+v): %v", pages, q, err)
		}
		if len(recs) > limit {
			t.Fatalf("page %d: %d records, limit %d", pages, len(recs), limit)
		}
		serials = append(serials, serialsOf(t, recs)...)
		for _, r := range recs {
			if last != nil && r.Serial.Cmp(last) <= 0 {
				t.Fatalf("page %d: serial %s does not sort after %s", pages, r.SerialHex, store.SerialHex(last))
			}
			last = r.Serial
		}
		if len(recs) < limit {
			return serials, pages
		}
		q.After = recs[len(recs)-1].SerialHex
	}
}

// paginationSerials returns n distinct serials of 1 to 20 octets from a
// fixed seed, plus the pairs whose hex strings sort against their values.
func paginationSerials(t *testing.T, n int) []*big.Int {
	out := []*big.Int{serial(t, "9"), serial(t, "a"), serial(t, "ff"), serial(t, "100")}
	seen := map[string]bool{}
	for _, sn := range out {
		seen[sn.String()] = true
	}
	// A linear congruential generator: deterministic and dependency-free.
	state := uint64(0x5eed)
	next := func() byte {
		state = state*6364136223846793005 + 1442695040888963407
		return byte(state >> 56)
	}
	for len(out) < n {
		b := make([]byte, 1+int(next())%20)
		for i := range b {
			b[i] = next()
		}
		sn := new(big.Int).SetBytes(b)
		if sn.Sign() > 0 && !seen[sn.String()] {
			seen[sn.String()] = true
			out = append(out, sn)
		}
	}
	return out
}
