package storetest

import (
	"context"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/certgate/certgate/store"
)

// testLifecycle checks that what goes in through Reserve and Issue comes
// back out of Cert, field for field.
func (s suite) testLifecycle(t *testing.T) {
	t.Run("ok/reserve then cert", func(t *testing.T) {
		st := s.fresh(t)
		sn := serial(t, "5eed0001")
		mustReserve(t, st, reservation(sn))
		want := reservation(sn)
		want.SerialHex = "5eed0001"
		checkRecord(t, mustCert(t, st, sn), want)
	})

	t.Run("ok/reserve forces status reserved", func(t *testing.T) {
		st := s.fresh(t)
		sn := serial(t, "5eed0002")
		r := reservation(sn)
		r.Status = store.StatusValid
		mustReserve(t, st, r)
		if got := mustCert(t, st, sn).Status; got != store.StatusReserved {
			t.Fatalf("Status = %q, want %q", got, store.StatusReserved)
		}
	})

	t.Run("ok/issue then cert keeps every field", func(t *testing.T) {
		st := s.fresh(t)
		sn := serial(t, "00c0ffee00000000000000000000000000000001")
		mustReserve(t, st, reservation(sn))
		mustIssue(t, st, issued(sn))
		want := issued(sn)
		want.SerialHex = "c0ffee00000000000000000000000000000001"
		checkRecord(t, mustCert(t, st, sn), want)
	})

	t.Run("ok/issue fills IssuedAt and keeps CreatedAt of the reservation", func(t *testing.T) {
		st := s.fresh(t)
		sn := serial(t, "5eed0003")
		mustReserve(t, st, reservation(sn))
		r := issued(sn)
		r.IssuedAt, r.CreatedAt = time.Time{}, time.Time{}
		mustIssue(t, st, r)
		got := mustCert(t, st, sn)
		if got.IssuedAt.IsZero() {
			t.Errorf("IssuedAt is zero, want it set by Issue")
		}
		if !got.CreatedAt.Equal(base) {
			t.Errorf("CreatedAt = %v, want the reservation's %v", got.CreatedAt, base)
		}
	})

	t.Run("ok/issue refiles the record under its new subject, device and expiry", func(t *testing.T) {
		st := s.fresh(t)
		sn := serial(t, "5eed0004")
		res := reservation(sn)
		res.Subject, res.CommonName = "CN=Requested-Name", "Requested-Name"
		res.NotAfter = base.Add(24 * time.Hour)
		mustReserve(t, st, res)
		mustIssue(t, st, issued(sn))
		all := store.Query{Status: store.StatusValid}
		for _, tc := range []struct {
			name string
			q    func(q store.Query) store.Query
			want []string
		}{
			{"new device", func(q store.Query) store.Query { q.DeviceID = "device-7f3e"; return q }, []string{"5eed0004"}},
			{"new subject", func(q store.Query) store.Query { q.Subject = "laptop-0042"; return q }, []string{"5eed0004"}},
			{"old subject", func(q store.Query) store.Query { q.Subject = "requested"; return q }, nil},
			{"new expiry", func(q store.Query) store.Query { q.ExpiresBefore = base.Add(400 * 24 * time.Hour); return q }, []string{"5eed0004"}},
			{"old expiry", func(q store.Query) store.Query { q.ExpiresBefore = base.Add(48 * time.Hour); return q }, nil},
		} {
			checkSearch(t, st, tc.name, tc.q(all), tc.want)
		}
	})

	t.Run("ok/largest serial RFC 5280 allows", func(t *testing.T) {
		st := s.fresh(t)
		hex := strings.Repeat("ff", 20)
		sn := serial(t, hex)
		mustReserve(t, st, reservation(sn))
		mustIssue(t, st, issued(sn))
		want := issued(sn)
		want.SerialHex = hex
		checkRecord(t, mustCert(t, st, sn), want)
	})

	t.Run("ok/store keeps no reference to records passed in or out", func(t *testing.T) {
		st := s.fresh(t)
		sn := serial(t, "5eed0005")
		res := reservation(sn)
		mustReserve(t, st, res)
		res.Subject = "CN=changed after Reserve"
		r := issued(sn)
		mustIssue(t, st, r)
		r.DER[0], r.DNSNames[0], r.Subject = 0, "changed.example", "CN=changed after Issue"
		got := mustCert(t, st, sn)
		got.DER[0], got.DNSNames[0] = 0, "changed.example"
		want := issued(sn)
		want.SerialHex = "5eed0005"
		checkRecord(t, mustCert(t, st, sn), want)
	})
}

func mustReserve(t *testing.T, st store.Store, r *store.CertRecord) {
	t.Helper()
	if err := st.Reserve(context.Background(), r); err != nil {
		t.Fatalf("Reserve %s: %v", store.SerialHex(r.Serial), err)
	}
}

func mustIssue(t *testing.T, st store.Store, r *store.CertRecord) {
	t.Helper()
	if err := st.Issue(context.Background(), r); err != nil {
		t.Fatalf("Issue %s: %v", store.SerialHex(r.Serial), err)
	}
}

func mustCert(t *testing.T, st store.Store, sn *big.Int) *store.CertRecord {
	t.Helper()
	r, err := st.Cert(context.Background(), sn)
	if err != nil {
		t.Fatalf("Cert %s: %v", store.SerialHex(sn), err)
	}
	return r
}

// mustValid records sn as an issued certificate.
func mustValid(t *testing.T, st store.Store, sn *big.Int) {
	t.Helper()
	mustReserve(t, st, reservation(sn))
	mustIssue(t, st, issued(sn))
}

// mustRevoked records sn as a certificate revoked (superseded) at base.
func mustRevoked(t *testing.T, st store.Store, sn *big.Int) {
	t.Helper()
	mustValid(t, st, sn)
	if _, err := st.Revoke(context.Background(), sn, store.ReasonSuperseded, base); err != nil {
		t.Fatalf("Revoke %s: %v", store.SerialHex(sn), err)
	}
}
