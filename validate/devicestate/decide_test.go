package devicestate

import (
	"strings"
	"testing"
	"time"
)

func TestDecide(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	issued := now.Add(-48 * time.Hour)
	good := &Observation{Found: true, Detail: "managed"}
	open := Policy{}
	closed := Policy{FailClosed: true, MaxStaleness: time.Hour}
	compliance := Policy{ComplianceCheck: true, GracePeriod: time.Hour}
	for _, tc := range []struct {
		name    string
		in      Input
		want    Action
		wantWhy string
	}{
		{"ok/good device", Input{Obs: good, Policy: open}, Good, "good standing"},
		{"ok/deleted revokes", Input{Obs: &Observation{}}, Revoke, "not found"},
		{"ok/permanent state revokes", Input{Obs: &Observation{Found: true, Permanent: true, Detail: "managementState wipePending"}}, Revoke, "wipePending"},
		{"ok/permanent wins over disabled", Input{Obs: &Observation{Found: true, Permanent: true, Disabled: true}}, Revoke, "permanent"},
		{"ok/disabled holds", Input{Obs: &Observation{Found: true, Disabled: true, Detail: "accountEnabled false"}}, Hold, "disabled"},
		{"ok/non-compliant ignored without compliance check", Input{Obs: &Observation{Found: true, NonCompliant: true}, Policy: open, IssuedAt: issued}, Good, "good standing"},
		{"ok/non-compliant holds after the grace", Input{Obs: &Observation{Found: true, NonCompliant: true, EnrolledAt: now.Add(-2 * time.Hour)}, Policy: compliance, IssuedAt: now}, Hold, "non-compliant"},
		{"ok/grace counts from the MDM's enrollment", Input{Obs: &Observation{Found: true, NonCompliant: true, EnrolledAt: now.Add(-30 * time.Minute)}, Policy: compliance, IssuedAt: issued}, Good, "grace"},
		{"ok/grace counts from issuance without enrollment time", Input{Obs: &Observation{Found: true, NonCompliant: true}, Policy: compliance, IssuedAt: now.Add(-30 * time.Minute)}, Good, "grace"},
		{"ok/grace does not spare a deleted device", Input{Obs: &Observation{Found: false}, Policy: compliance, IssuedAt: now}, Revoke, "not found"},
		{"ok/fail_open keeps on error", Input{Policy: open, ConfirmedAt: now.Add(-1000 * time.Hour), IssuedAt: issued}, Keep, "fail_open"},
		{"ok/fail_closed keeps within max_staleness", Input{Policy: closed, ConfirmedAt: now.Add(-30 * time.Minute), IssuedAt: issued}, Keep, "within"},
		{"ok/fail_closed holds past max_staleness", Input{Policy: closed, ConfirmedAt: now.Add(-2 * time.Hour), IssuedAt: issued}, Hold, "max_staleness"},
		{"ok/fail_closed counts from issuance when never confirmed", Input{Policy: closed, IssuedAt: now.Add(-10 * time.Minute)}, Keep, "within"},
		{"ok/fail_closed never confirmed, old certificate", Input{Policy: closed, IssuedAt: issued}, Hold, "max_staleness"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.Now = now
			got, why := Decide(tc.in)
			if got != tc.want || !strings.Contains(why, tc.wantWhy) {
				t.Fatalf("Decide = %s (%q), want %s (containing %q)", got, why, tc.want, tc.wantWhy)
			}
		})
	}
}
