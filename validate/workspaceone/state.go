package workspaceone

import (
	"errors"
	"strings"
)

// Status sums up what Workspace ONE says of a device, under the
// checker's policy (Config.NonCompliant, Config.RequireEnrolled).
type Status int

// The statuses, from worst to best. The zero Status is not one of them:
// a State that came with an error says nothing.
const (
	// StatusNotFound: Workspace ONE has no device with this key
	// (deleted, or never enrolled).
	StatusNotFound Status = iota + 1
	// StatusNotEnrolled: the device exists but its enrollment status is
	// not Enrolled, and Config.RequireEnrolled asks for it.
	StatusNotEnrolled
	// StatusNonCompliant: the compliance value is one of
	// Config.NonCompliant.
	StatusNonCompliant
	// StatusNotAssessed: the compliance value is neither compliant nor
	// non-compliant (Pending Compliance Check, Not Available, Unknown,
	// null), which does not make a device untrusted (§10).
	StatusNotAssessed
	// StatusCompliant: the compliance value is Compliant.
	StatusCompliant
)

// String returns the status as metrics and logs name it.
func (s Status) String() string {
	switch s {
	case StatusNotFound:
		return "not_found"
	case StatusNotEnrolled:
		return "not_enrolled"
	case StatusNonCompliant:
		return "non_compliant"
	case StatusNotAssessed:
		return "not_assessed"
	case StatusCompliant:
		return "compliant"
	}
	return "unknown"
}

// Trusted reports whether a device with this status may enroll.
func (s Status) Trusted() bool { return s == StatusNotAssessed || s == StatusCompliant }

// State is what a lookup learned of one device.
type State struct {
	Status Status
	// Compliance and Enrollment are the record's values of the
	// configured fields ("" when null or absent), for logs and records;
	// a value that is not a short printable string reads
	// "unrecognised value".
	Compliance string
	Enrollment string
	// Enrolled reports whether Enrollment is Enrolled, whether or not
	// Config.RequireEnrolled asks for it.
	Enrolled bool
	// SerialNumber and Udid are the record's, when it has them.
	SerialNumber string
	Udid         string
}

// deviceIDPrefix starts every DeviceID of this package.
const deviceIDPrefix = "ws1:"

// DeviceID is how certgate records a Workspace ONE device in
// validate.Decision.DeviceID and in certificate records (§11):
// "ws1:<lookup>:<key>", e.g. "ws1:serial:C02XYZ" or "ws1:udid:0000…",
// so a later device-state check knows which source to ask and how.
func DeviceID(lookup, key string) string {
	return deviceIDPrefix + strings.ToLower(lookup) + ":" + key
}

// ParseDeviceID reads a DeviceID back.
func ParseDeviceID(s string) (lookup, key string, err error) {
	rest, ok := strings.CutPrefix(s, deviceIDPrefix)
	lookup, key, ok2 := strings.Cut(rest, ":")
	if !ok || !ok2 || (lookup != LookupSerial && lookup != LookupUdid) || !validKey(key) {
		return "", "", errors.New("workspaceone: not a Workspace ONE device ID (want ws1:serial:<key> or ws1:udid:<key>)")
	}
	return lookup, key, nil
}
