package storetest

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/certgate/certgate/store"
)

// errorCase is one call that must fail with want, leaving the store as
// check expects.
type errorCase struct {
	name  string
	setup func(t *testing.T, st store.Store)
	call  func(ctx context.Context, st store.Store) error
	want  error
	check func(t *testing.T, st store.Store)
}

func (s suite) runErrorCases(t *testing.T, cases []errorCase) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := s.fresh(t)
			if tc.setup != nil {
				tc.setup(t, st)
			}
			err := tc.call(context.Background(), st)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error = %v, want %v", err, tc.want)
			}
			if tc.check != nil {
				tc.check(t, st)
			}
		})
	}
}

// testErrors checks ErrNotFound, ErrConflict and cancellation, and that a
// failed call changes nothing.
func (s suite) testErrors(t *testing.T) {
	sn := serial(t, "e1")
	reserved := func(t *testing.T, st store.Store) { mustReserve(t, st, reservation(sn)) }
	valid := func(t *testing.T, st store.Store) { mustValid(t, st, sn) }
	revoked := func(t *testing.T, st store.Store) { mustRevoked(t, st, sn) }
	wantStatus := func(want store.Status) func(t *testing.T, st store.Store) {
		return func(t *testing.T, st store.Store) {
			t.Helper()
			if got := mustCert(t, st, sn).Status; got != want {
				t.Fatalf("Status after the failed call = %q, want %q", got, want)
			}
		}
	}
	wantNothing := func(t *testing.T, st store.Store) {
		if _, err := st.Cert(context.Background(), sn); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Cert after the failed call: error = %v, want ErrNotFound", err)
		}
	}
	reserve := func(ctx context.Context, st store.Store) error {
		r := reservation(sn)
		r.Subject = "CN=second reservation"
		return st.Reserve(ctx, r)
	}
	issue := func(ctx context.Context, st store.Store) error {
		r := issued(sn)
		r.DER = []byte("second issue")
		return st.Issue(ctx, r)
	}
	revoke := func(ctx context.Context, st store.Store) error {
		_, err := st.Revoke(ctx, sn, store.ReasonKeyCompromise, base)
		return err
	}
	cancelled := func(call func(ctx context.Context, st store.Store) error) func(ctx context.Context, st store.Store) error {
		return func(ctx context.Context, st store.Store) error {
			ctx, cancel := context.WithCancel(ctx)
			cancel()
			return call(ctx, st)
		}
	}
	keptFirst := func(t *testing.T, st store.Store) {
		got := mustCert(t, st, sn)
		if got.Subject != reservation(sn).Subject || string(got.DER) == "second issue" {
			t.Fatalf("the failed call overwrote the record: %+v", got)
		}
	}

	s.runErrorCases(t, []errorCase{
		{name: "fail/reserve twice", setup: reserved, call: reserve, want: store.ErrConflict, check: keptFirst},
		{name: "fail/reserve an issued serial", setup: valid, call: reserve, want: store.ErrConflict, check: keptFirst},
		{name: "fail/reserve a revoked serial", setup: revoked, call: reserve, want: store.ErrConflict, check: wantStatus(store.StatusRevoked)},
		{name: "fail/issue without reservation", call: issue, want: store.ErrNotFound, check: wantNothing},
		{name: "fail/issue twice", setup: valid, call: issue, want: store.ErrConflict, check: keptFirst},
		{name: "fail/issue a revoked record", setup: revoked, call: issue, want: store.ErrConflict, check: wantStatus(store.StatusRevoked)},
		{name: "fail/cert unknown", setup: valid, call: func(ctx context.Context, st store.Store) error {
			_, err := st.Cert(ctx, serial(t, "e2"))
			return err
		}, want: store.ErrNotFound},
		{name: "fail/cert of a serial longer than 20 octets", call: func(ctx context.Context, st store.Store) error {
			_, err := st.Cert(ctx, serial(t, strings.Repeat("01", 21)))
			return err
		}, want: store.ErrNotFound},
		{name: "fail/revoke unknown", call: revoke, want: store.ErrNotFound, check: wantNothing},
		{name: "fail/revoke a reservation", setup: reserved, call: revoke, want: store.ErrConflict, check: wantStatus(store.StatusReserved)},
		{name: "fail/reserve with cancelled context", call: cancelled(reserve), want: context.Canceled, check: wantNothing},
		{name: "fail/issue with cancelled context", setup: reserved, call: cancelled(issue), want: context.Canceled, check: wantStatus(store.StatusReserved)},
		{name: "fail/revoke with cancelled context", setup: valid, call: cancelled(revoke), want: context.Canceled, check: wantStatus(store.StatusValid)},
		{name: "fail/cert with cancelled context", setup: valid, call: cancelled(func(ctx context.Context, st store.Store) error {
			_, err := st.Cert(ctx, sn)
			return err
		}), want: context.Canceled},
		{name: "fail/search with cancelled context", setup: valid, call: cancelled(func(ctx context.Context, st store.Store) error {
			_, err := st.Search(ctx, store.Query{})
			return err
		}), want: context.Canceled},
	})
}

// testInvalid checks that arguments no store can hold are ErrInvalid and
// change nothing.
func (s suite) testInvalid(t *testing.T) {
	sn := serial(t, "1a")
	valid := func(t *testing.T, st store.Store) { mustValid(t, st, sn) }
	reserveSerial := func(n *big.Int) func(ctx context.Context, st store.Store) error {
		return func(ctx context.Context, st store.Store) error { return st.Reserve(ctx, reservation(n)) }
	}
	revokeReason := func(reason int) func(ctx context.Context, st store.Store) error {
		return func(ctx context.Context, st store.Store) error {
			_, err := st.Revoke(ctx, sn, reason, base)
			return err
		}
	}
	search := func(q store.Query) func(ctx context.Context, st store.Store) error {
		return func(ctx context.Context, st store.Store) error {
			_, err := st.Search(ctx, q)
			return err
		}
	}
	stillValid := func(t *testing.T, st store.Store) {
		if got := mustCert(t, st, sn); got.Status != store.StatusValid {
			t.Fatalf("Status = %q, want %q", got.Status, store.StatusValid)
		}
	}
	empty := func(t *testing.T, st store.Store) {
		got, err := st.Search(context.Background(), store.Query{Status: store.StatusReserved, Limit: -1})
		if err != nil || len(got) != 0 {
			t.Fatalf("Search after the failed call = %d records, %v; want none", len(got), err)
		}
	}

	s.runErrorCases(t, []errorCase{
		{name: "fail/reserve nil record", call: func(ctx context.Context, st store.Store) error { return st.Reserve(ctx, nil) }, want: store.ErrInvalid, check: empty},
		{name: "fail/reserve nil serial", call: reserveSerial(nil), want: store.ErrInvalid, check: empty},
		{name: "fail/reserve zero serial", call: reserveSerial(big.NewInt(0)), want: store.ErrInvalid, check: empty},
		{name: "fail/reserve negative serial", call: reserveSerial(big.NewInt(-5)), want: store.ErrInvalid, check: empty},
		{name: "fail/reserve 21-octet serial", call: reserveSerial(serial(t, "01"+strings.Repeat("00", 20))), want: store.ErrInvalid, check: empty},
		{name: "fail/issue nil record", call: func(ctx context.Context, st store.Store) error { return st.Issue(ctx, nil) }, want: store.ErrInvalid},
		{name: "fail/issue nil serial", call: func(ctx context.Context, st store.Store) error { return st.Issue(ctx, issued(nil)) }, want: store.ErrInvalid},
		{name: "fail/issue without DER", setup: func(t *testing.T, st store.Store) { mustReserve(t, st, reservation(sn)) }, call: func(ctx context.Context, st store.Store) error {
			r := issued(sn)
			r.DER = nil
			return st.Issue(ctx, r)
		}, want: store.ErrInvalid, check: func(t *testing.T, st store.Store) {
			if got := mustCert(t, st, sn).Status; got != store.StatusReserved {
				t.Fatalf("Status = %q, want %q", got, store.StatusReserved)
			}
		}},
		{name: "fail/cert nil serial", call: func(ctx context.Context, st store.Store) error {
			_, err := st.Cert(ctx, nil)
			return err
		}, want: store.ErrInvalid},
		{name: "fail/revoke nil serial", call: func(ctx context.Context, st store.Store) error {
			_, err := st.Revoke(ctx, nil, store.ReasonKeyCompromise, base)
			return err
		}, want: store.ErrInvalid},
		{name: "fail/revoke unused reason 7", setup: valid, call: revokeReason(7), want: store.ErrInvalid, check: stillValid},
		{name: "fail/revoke removeFromCRL", setup: valid, call: revokeReason(store.ReasonRemoveFromCRL), want: store.ErrInvalid, check: stillValid},
		{name: "fail/revoke reason 11", setup: valid, call: revokeReason(11), want: store.ErrInvalid, check: stillValid},
		{name: "fail/revoke negative reason", setup: valid, call: revokeReason(-1), want: store.ErrInvalid, check: stillValid},
		{name: "fail/search cursor not hex", setup: valid, call: search(store.Query{After: "zz"}), want: store.ErrInvalid},
		{name: "fail/search status expired", setup: valid, call: search(store.Query{Status: "expired"}), want: store.ErrInvalid},
	})
}

// testClosed checks that every call after Close fails with ErrClosed.
func (s suite) testClosed(t *testing.T) {
	st := s.open(t)
	sn := serial(t, "c1")
	mustValid(t, st, sn)
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	calls := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"fail/reserve", func(ctx context.Context) error { return st.Reserve(ctx, reservation(serial(t, "c2"))) }},
		{"fail/issue", func(ctx context.Context) error { return st.Issue(ctx, issued(sn)) }},
		{"fail/cert", func(ctx context.Context) error {
			_, err := st.Cert(ctx, sn)
			return err
		}},
		{"fail/revoke", func(ctx context.Context) error {
			_, err := st.Revoke(ctx, sn, store.ReasonSuperseded, base)
			return err
		}},
		{"fail/search", func(ctx context.Context) error {
			_, err := st.Search(ctx, store.Query{})
			return err
		}},
	}
	for _, tc := range calls {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(context.Background()); !errors.Is(err, store.ErrClosed) {
				t.Fatalf("error = %v, want ErrClosed", err)
			}
		})
	}
}
