package storetest

import (
	"context"
	"strings"
	"testing"

	"github.com/certgate/certgate/store"
)

// testSearchExact checks the exact-match filters backends answer from an
// index (CommonName, DeviceID): several records share a value, others
// differ only in case or extend it, two long common names share their
// first kilobytes (indexes may keep only a prefix), and cursors and limits
// work along the index as along the serials.
func (s suite) testSearchExact(t *testing.T) {
	st := s.fresh(t)
	long := strings.Repeat("x", 2000)
	fixture := []struct {
		hex, profile, cn, device string
		status                   store.Status
	}{
		{"10", "device", "Laptop-01", "dev-a", store.StatusValid},
		{"20", "device", "laptop-01", "dev-A", store.StatusValid},
		{"30", "device", "Laptop-010", "dev-a-b", store.StatusValid},
		{"40", "user", "Laptop-01", "dev-a", store.StatusValid},
		{"50", "device", "Laptop-01", "dev-a", store.StatusRevoked},
		{"60", "device", "Laptop-01", "dev-a", store.StatusReserved},
		{"70", "device", long + "1", "", store.StatusValid},
		{"80", "device", long + "2", "", store.StatusValid},
	}
	for _, f := range fixture {
		sn := serial(t, f.hex)
		r := reservation(sn)
		r.Profile, r.CommonName, r.Subject, r.DeviceID = f.profile, f.cn, "CN="+f.cn+",O=Acme", f.device
		mustReserve(t, st, r)
		if f.status == store.StatusReserved {
			continue
		}
		i := issued(sn)
		i.Profile, i.CommonName, i.Subject, i.DeviceID = r.Profile, r.CommonName, r.Subject, r.DeviceID
		mustIssue(t, st, i)
		if f.status == store.StatusRevoked {
			if _, err := st.Revoke(context.Background(), sn, store.ReasonSuperseded, base); err != nil {
				t.Fatalf("Revoke %s: %v", f.hex, err)
			}
		}
	}
	tests := []struct {
		name string
		q    store.Query
		want []string
	}{
		{"ok/common name in serial order", store.Query{CommonName: "Laptop-01"}, []string{"10", "40", "50"}},
		{"ok/common name is case-sensitive", store.Query{CommonName: "LAPTOP-01"}, nil},
		{"ok/common name is not a prefix match", store.Query{CommonName: "Laptop-0"}, nil},
		{"ok/common name with status and profile", store.Query{CommonName: "Laptop-01", Status: store.StatusValid, Profile: "device"}, []string{"10"}},
		{"ok/common name on reservations", store.Query{CommonName: "Laptop-01", Status: store.StatusReserved}, []string{"60"}},
		{"ok/common name with cursor", store.Query{CommonName: "Laptop-01", After: "10"}, []string{"40", "50"}},
		{"ok/common name with cursor between serials", store.Query{CommonName: "Laptop-01", After: "3f"}, []string{"40", "50"}},
		{"ok/common name with limit", store.Query{CommonName: "Laptop-01", Limit: 2}, []string{"10", "40"}},
		{"ok/long common names apart", store.Query{CommonName: long + "2"}, []string{"80"}},
		{"ok/device in serial order", store.Query{DeviceID: "dev-a"}, []string{"10", "40", "50"}},
		{"ok/device is case-sensitive", store.Query{DeviceID: "DEV-A"}, nil},
		{"ok/device with cursor and limit", store.Query{DeviceID: "dev-a", After: "10", Limit: 1}, []string{"40"}},
		{"ok/device and common name", store.Query{DeviceID: "dev-A", CommonName: "laptop-01"}, []string{"20"}},
		{"ok/device and common name disagree", store.Query{DeviceID: "dev-a", CommonName: "laptop-01"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkSearch(t, st, "", tt.q, tt.want)
		})
	}
}
