package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certgate/certgate/store"
)

// DeviceStateStore is what device-state revocation needs of a backend:
// records, holds that can be lifted, and device states.
type DeviceStateStore interface {
	store.Store
	store.Holds
	store.DeviceStates
}

// RunDeviceState runs the suite for store.Holds and store.DeviceStates;
// open follows the RunCache convention (the same db name reopens the same
// data). It pins: a hold is lifted only from a record revoked with
// certificateHold, which becomes valid with no revocation time or reason;
// a hold can become a permanent revocation (the reason changes, the time
// stays), which can then never be lifted; device states round-trip,
// replace each other per (source, key), survive a reopen, and list in
// order; concurrent updates of one device lose nothing.
func RunDeviceState(t *testing.T, open func(t *testing.T, db string) DeviceStateStore) {
	t.Run("holds", func(t *testing.T) { testHolds(t, open(t, "holds")) })
	t.Run("states", func(t *testing.T) { testDeviceStates(t, open) })
	t.Run("update", func(t *testing.T) { testUpdateDeviceState(t, open(t, "device-update")) })
}

// testUpdateDeviceState: a new device starts unknown; concurrent updates
// of one device each see the others' results, so none is lost.
func testUpdateDeviceState(t *testing.T, st DeviceStateStore) {
	ctx := context.Background()
	defer st.Close()
	got, err := st.UpdateDeviceState(ctx, "jamf", "computers/1", func(d *store.DeviceState) {
		if d.State != store.DeviceUnknown || d.Source != "jamf" || d.Key != "computers/1" || len(d.Held) != 0 {
			t.Errorf("a new device's state: %+v", d)
		}
		d.CheckedAt = base
	})
	if err != nil || got.State != store.DeviceUnknown || !got.CheckedAt.Equal(base) {
		t.Fatalf("UpdateDeviceState: %+v, %v", got, err)
	}
	const n = 16
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := st.UpdateDeviceState(ctx, "jamf", "computers/1", func(d *store.DeviceState) {
				d.Held = append(d.Held, fmt.Sprintf("%02x", i))
			}); err != nil {
				t.Errorf("UpdateDeviceState %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	d, err := st.DeviceState(ctx, "jamf", "computers/1")
	if err != nil || len(d.Held) != n {
		t.Fatalf("after %d concurrent updates: %+v, %v; want %d held serials", n, d, err, n)
	}
	if _, err := st.UpdateDeviceState(ctx, "", "k", func(*store.DeviceState) {}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("empty source: %v, want ErrInvalid", err)
	}
}

func testHolds(t *testing.T, st DeviceStateStore) {
	ctx := context.Background()
	defer st.Close()
	held, perm, valid, other := serial(t, "401d01"), serial(t, "401d02"), serial(t, "401d03"), serial(t, "401d04")
	mustValid(t, st, held)
	mustValid(t, st, perm)
	mustValid(t, st, valid)
	mustRevoked(t, st, other) // superseded
	at := base.Add(time.Hour)
	if _, err := st.Revoke(ctx, held, store.ReasonCertificateHold, at); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Revoke(ctx, perm, store.ReasonCertificateHold, at); err != nil {
		t.Fatal(err)
	}

	t.Run("ok/release a hold", func(t *testing.T) {
		got, err := st.ReleaseHold(ctx, held)
		if err != nil {
			t.Fatalf("ReleaseHold: %v", err)
		}
		want := issued(held)
		want.SerialHex = "401d01"
		checkRecord(t, got, want)
		checkRecord(t, mustCert(t, st, held), want)
		// A CRL built now leaves it out.
		wantRevoked(t, st, "401d02", "401d04")
	})
	t.Run("ok/hold again after release", func(t *testing.T) {
		later := at.Add(time.Hour)
		got, err := st.Revoke(ctx, held, store.ReasonCertificateHold, later)
		if err != nil || got.Status != store.StatusRevoked || got.RevocationReason != store.ReasonCertificateHold || !got.RevokedAt.Equal(later) {
			t.Fatalf("Revoke after release: %+v, %v", got, err)
		}
		wantRevoked(t, st, "401d01", "401d02", "401d04")
	})
	t.Run("ok/hold becomes permanent, time kept", func(t *testing.T) {
		got, err := st.Revoke(ctx, perm, store.ReasonCessationOfOperation, at.Add(2*time.Hour))
		if err != nil || got.RevocationReason != store.ReasonCessationOfOperation || !got.RevokedAt.Equal(at) {
			t.Fatalf("Revoke of a held record: %+v, %v; want cessationOfOperation at %v", got, err, at)
		}
		if r := mustCert(t, st, perm); r.RevocationReason != store.ReasonCessationOfOperation {
			t.Fatalf("stored reason %d", r.RevocationReason)
		}
	})
	t.Run("ok/permanent is not put back on hold", func(t *testing.T) {
		got, err := st.Revoke(ctx, perm, store.ReasonCertificateHold, at.Add(3*time.Hour))
		if err != nil || got.RevocationReason != store.ReasonCessationOfOperation {
			t.Fatalf("hold after permanent: %+v, %v", got, err)
		}
	})
	for _, tc := range []struct {
		name string
		sn   string
		want error
	}{
		{"fail/permanent revocation", "401d02", store.ErrConflict},
		{"fail/revoked for another reason", "401d04", store.ErrConflict},
		{"fail/valid", "401d03", store.ErrConflict},
		{"fail/unknown serial", "401dff", store.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := mustCertOrNil(t, st, serial(t, tc.sn))
			if _, err := st.ReleaseHold(ctx, serial(t, tc.sn)); !errors.Is(err, tc.want) {
				t.Fatalf("ReleaseHold: %v, want %v", err, tc.want)
			}
			if before != nil {
				checkRecord(t, mustCert(t, st, serial(t, tc.sn)), before)
			}
		})
	}
}

// mustCertOrNil is mustCert that allows ErrNotFound.
func mustCertOrNil(t *testing.T, st store.Store, sn *big.Int) *store.CertRecord {
	t.Helper()
	r, err := st.Cert(context.Background(), sn)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func testDeviceStates(t *testing.T, open func(t *testing.T, db string) DeviceStateStore) {
	ctx := context.Background()
	st := open(t, "device-states")
	if _, err := st.DeviceState(ctx, "intune", "dev-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("before any put: %v, want ErrNotFound", err)
	}
	a := &store.DeviceState{Source: "intune", Key: "dev-1", State: store.DeviceHeld, Detail: "accountEnabled false",
		ConfirmedAt: base, CheckedAt: base.Add(time.Minute), EnrolledAt: base.Add(-time.Hour), Held: []string{"ab", "cd"}}
	b := &store.DeviceState{Source: "entra", Key: "dev-1", State: store.DeviceGood, CheckedAt: base}
	c := &store.DeviceState{Source: "intune", Key: "dev-0", State: store.DeviceRevoked, ConfirmedAt: base, CheckedAt: base}
	for _, d := range []*store.DeviceState{a, b, c} {
		if err := st.PutDeviceState(ctx, d); err != nil {
			t.Fatalf("PutDeviceState %s/%s: %v", d.Source, d.Key, err)
		}
	}
	a2 := *a
	a2.State, a2.Held, a2.ConfirmedAt = store.DeviceGood, nil, base.Add(2*time.Minute)
	if err := st.PutDeviceState(ctx, &a2); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		source, key string
	}{
		{"fail/empty source", "", "k"},
		{"fail/empty key", "intune", ""},
		{"fail/key too long", "intune", strings.Repeat("k", store.MaxDeviceKey+1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := st.PutDeviceState(ctx, &store.DeviceState{Source: tc.source, Key: tc.key, CheckedAt: base}); !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("PutDeviceState: %v, want ErrInvalid", err)
			}
		})
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st = open(t, "device-states")
	defer st.Close()
	got, err := st.DeviceState(ctx, "intune", "dev-1")
	if err != nil {
		t.Fatal(err)
	}
	checkDeviceState(t, got, &a2)
	list, err := st.DeviceStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []*store.DeviceState{b, c, &a2}
	if len(list) != len(want) {
		t.Fatalf("DeviceStates: %d states, want %d", len(list), len(want))
	}
	for i := range want {
		checkDeviceState(t, list[i], want[i])
	}
}

func checkDeviceState(t *testing.T, got, want *store.DeviceState) {
	t.Helper()
	if got.Source != want.Source || got.Key != want.Key || got.State != want.State || got.Detail != want.Detail ||
		!got.ConfirmedAt.Equal(want.ConfirmedAt) || !got.CheckedAt.Equal(want.CheckedAt) || !got.EnrolledAt.Equal(want.EnrolledAt) ||
		strings.Join(got.Held, ",") != strings.Join(want.Held, ",") {
		t.Errorf("device state %s/%s: got %+v, want %+v", want.Source, want.Key, got, want)
	}
}

// wantRevoked checks that a search for revoked records (a CRL build's
// query) finds exactly the serials given, in order.
func wantRevoked(t *testing.T, st store.Store, serials ...string) {
	t.Helper()
	recs, err := st.Search(context.Background(), store.Query{Status: store.StatusRevoked, Limit: -1})
	if err != nil {
		t.Fatalf("Search revoked: %v", err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, store.SerialHex(r.Serial))
	}
	if !slices.Equal(got, serials) {
		t.Fatalf("revoked records %v, want %v", got, serials)
	}
}
