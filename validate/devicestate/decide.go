package devicestate

import (
	"fmt"
	"time"
)

// Observation is what an MDM said about a device in a definitive answer.
type Observation struct {
	// Found is false when the MDM says the device does not exist
	// (deleted): a permanent state.
	Found bool
	// Permanent: the device exists but is being or has been wiped,
	// retired or deleted (Intune managementState retirePending,
	// wipePending, …): its certificates are revoked.
	Permanent bool
	// Disabled: a reversible administrative state (Entra accountEnabled
	// false).
	Disabled bool
	// NonCompliant: the MDM judges the device non-compliant; it only
	// counts when Policy.ComplianceCheck is on.
	NonCompliant bool
	// EnrolledAt is the MDM's enrollment time, zero when it gives none;
	// the compliance grace period counts from it.
	EnrolledAt time.Time
	// Detail says what was seen, for logs and DeviceState.Detail
	// (e.g. "managementState wipePending"); never a secret.
	Detail string
}

// Policy is a profile's device-state settings.
type Policy struct {
	// ComplianceCheck holds the certificates of non-compliant devices.
	ComplianceCheck bool
	// GracePeriod is how long after enrollment non-compliance is
	// tolerated (devices are non-compliant until their first check-in).
	// Zero means none.
	GracePeriod time.Duration
	// FailClosed holds certificates of devices unconfirmed for longer
	// than MaxStaleness; false (fail_open) keeps the last known state
	// however long the MDM fails.
	FailClosed bool
	// MaxStaleness: see FailClosed.
	MaxStaleness time.Duration
}

// Action is what becomes of one certificate.
type Action int

// The actions, from mildest to most severe.
const (
	// Keep leaves the certificate as it is (no usable answer).
	Keep Action = iota
	// Good: the certificate should be valid; a hold this package placed
	// is lifted.
	Good
	// Hold puts the certificate on certificateHold.
	Hold
	// Revoke revokes it with reason cessationOfOperation.
	Revoke
)

// String names the action in logs and metrics.
func (a Action) String() string {
	switch a {
	case Good:
		return "good"
	case Hold:
		return "hold"
	case Revoke:
		return "revoke"
	}
	return "keep"
}

// Input is everything Decide looks at for one certificate.
type Input struct {
	// Obs is the MDM's answer; nil when the lookup failed.
	Obs    *Observation
	Policy Policy
	// ConfirmedAt is the last definitive answer about the device before
	// this one; zero when there never was one.
	ConfirmedAt time.Time
	// IssuedAt is the certificate's issue time.
	IssuedAt time.Time
	Now      time.Time
}

// Decide returns the action for one certificate and why.
func Decide(in Input) (Action, string) {
	o := in.Obs
	switch {
	case o == nil:
		if !in.Policy.FailClosed {
			return Keep, "no answer from the MDM; fail_open keeps the last known state"
		}
		// A certificate was checked with the MDM when it was issued.
		since := in.ConfirmedAt
		if in.IssuedAt.After(since) {
			since = in.IssuedAt
		}
		if age := in.Now.Sub(since); age > in.Policy.MaxStaleness {
			return Hold, fmt.Sprintf("device unconfirmed for %s, more than max_staleness %s (fail_closed)", age.Truncate(time.Second), in.Policy.MaxStaleness)
		}
		return Keep, "no answer from the MDM; within max_staleness"
	case !o.Found:
		return Revoke, "device not found in the MDM (deleted)"
	case o.Permanent:
		return Revoke, "device in a permanent state: " + o.Detail
	case o.Disabled:
		return Hold, "device disabled: " + o.Detail
	case in.Policy.ComplianceCheck && o.NonCompliant:
		from := o.EnrolledAt
		if from.IsZero() {
			from = in.IssuedAt
		}
		if in.Now.Before(from.Add(in.Policy.GracePeriod)) {
			return Good, "non-compliant within the grace period after enrollment"
		}
		return Hold, "device non-compliant: " + o.Detail
	}
	return Good, "device in good standing"
}
