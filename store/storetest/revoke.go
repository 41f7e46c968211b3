package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/certgate/certgate/store"
)

// testRevoke walks one certificate through repeated revocations: the first
// time and reason stick, except that a later keyCompromise replaces the
// reason (RFC 5280 §5.3.1; a CA may learn of the compromise afterwards).
func (s suite) testRevoke(t *testing.T) {
	st := s.fresh(t)
	sn := serial(t, "7e7ced")
	mustValid(t, st, sn)
	first := base.Add(time.Hour)

	steps := []struct {
		name       string
		reason     int
		at         time.Time
		wantReason int
	}{
		{"ok/first revocation is recorded", store.ReasonSuperseded, first, store.ReasonSuperseded},
		{"ok/again with another reason changes nothing", store.ReasonCessationOfOperation, first.Add(time.Hour), store.ReasonSuperseded},
		{"ok/again with unspecified changes nothing", store.ReasonUnspecified, first.Add(2 * time.Hour), store.ReasonSuperseded},
		{"ok/keyCompromise replaces the reason but not the time", store.ReasonKeyCompromise, first.Add(3 * time.Hour), store.ReasonKeyCompromise},
		{"ok/no downgrade from keyCompromise", store.ReasonSuperseded, first.Add(4 * time.Hour), store.ReasonKeyCompromise},
		{"ok/keyCompromise again changes nothing", store.ReasonKeyCompromise, first.Add(5 * time.Hour), store.ReasonKeyCompromise},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			got, err := st.Revoke(context.Background(), sn, step.reason, step.at)
			if err != nil {
				t.Fatalf("Revoke: %v", err)
			}
			want := issued(sn)
			want.SerialHex = "7e7ced"
			want.Status = store.StatusRevoked
			want.RevokedAt = first
			want.RevocationReason = step.wantReason
			checkRecord(t, got, want)
			checkRecord(t, mustCert(t, st, sn), want)
		})
	}

	t.Run("ok/unspecified reason is kept as 0", func(t *testing.T) {
		st := s.fresh(t)
		sn := serial(t, "7e7cee")
		mustValid(t, st, sn)
		if _, err := st.Revoke(context.Background(), sn, store.ReasonUnspecified, first); err != nil {
			t.Fatalf("Revoke: %v", err)
		}
		got := mustCert(t, st, sn)
		if got.Status != store.StatusRevoked || got.RevocationReason != store.ReasonUnspecified || !got.RevokedAt.Equal(first) {
			t.Fatalf("got status %q, reason %d, at %v; want revoked, 0, %v", got.Status, got.RevocationReason, got.RevokedAt, first)
		}
	})
}
