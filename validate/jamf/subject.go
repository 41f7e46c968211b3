package jamf

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"strings"

	"github.com/certgate/certgate/validate"
)

// Kind is the type of Jamf object a certificate is bound to, as SCEPman
// names it in the subject's OU (§7.1).
type Kind string

// The four kinds of §7.1.
const (
	KindComputer       Kind = "computers"
	KindMobileDevice   Kind = "devices"
	KindUserOnComputer Kind = "users-on-computers"
	KindUserOnDevice   Kind = "users-on-devices"
)

// Inventory is the Jamf Pro API inventory a kind's $JSSID refers to:
// $JSSID is the ID of the computer or mobile device the profile is
// installed on, for user-level profiles too.
func (k Kind) Inventory() Inventory {
	if k == KindMobileDevice || k == KindUserOnDevice {
		return MobileDevices
	}
	return Computers
}

func parseKind(s string) (Kind, bool) {
	k := Kind(strings.ToLower(s))
	switch k {
	case KindComputer, KindMobileDevice, KindUserOnComputer, KindUserOnDevice:
		return k, true
	}
	return "", false
}

// DeviceRef names a Jamf object: its kind and JSS ID.
type DeviceRef struct {
	Kind  Kind
	JSSID string
}

// DeviceID is the reference as certgate records it, "<kind>/<jssid>",
// e.g. "computers/123".
func (d DeviceRef) DeviceID() string { return string(d.Kind) + "/" + d.JSSID }

// ParseDeviceID reads a DeviceID back, e.g. to check a recorded
// certificate's device later.
func ParseDeviceID(s string) (DeviceRef, error) {
	kind, id, ok := strings.Cut(s, "/")
	k, kok := parseKind(kind)
	if !ok || !kok || kind != string(k) || !isJSSID(id) {
		return DeviceRef{}, errors.New("jamf: not a Jamf device ID (want <kind>/<jssid>)")
	}
	return DeviceRef{Kind: k, JSSID: id}, nil
}

var (
	oidCN = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidOU = asn1.ObjectIdentifier{2, 5, 4, 11}
)

// ParseSubject reads the Jamf object from a subject of the form
// CN=<JSSID>,OU=computers|devices|users-on-computers|users-on-devices.
// Other CNs are allowed (SCEPman adds CN=$PROFILE_IDENTIFIER), as are
// other attribute types, in any order; a second OU or a second numeric
// CN would make the binding ambiguous and is refused. The OU is matched
// without regard to case. Failures are *validate.Rejection.
func ParseSubject(name pkix.Name) (DeviceRef, error) {
	cns, ous := attributes(name)
	if len(ous) != 1 {
		return DeviceRef{}, &validate.Rejection{Reason: "jamf: subject must have exactly one OU naming the Jamf object type"}
	}
	k, ok := parseKind(ous[0])
	if !ok {
		return DeviceRef{}, &validate.Rejection{Reason: "jamf: subject OU is not computers, devices, users-on-computers or users-on-devices"}
	}
	var ids []string
	for _, cn := range cns {
		if isDigits(cn) {
			ids = append(ids, cn)
		}
	}
	switch {
	case len(ids) == 0:
		return DeviceRef{}, &validate.Rejection{Reason: "jamf: subject has no CN holding a JSS ID"}
	case len(ids) > 1:
		return DeviceRef{}, &validate.Rejection{Reason: "jamf: subject has more than one numeric CN"}
	case !isJSSID(ids[0]):
		return DeviceRef{}, &validate.Rejection{Reason: "jamf: subject CN is not a valid JSS ID"}
	}
	return DeviceRef{Kind: k, JSSID: ids[0]}, nil
}

// attributes returns the subject's CN and OU values in order. A parsed
// CSR has them all in Names; a Name built in code may have only the
// struct fields.
func attributes(name pkix.Name) (cns, ous []string) {
	if len(name.Names) == 0 {
		if name.CommonName != "" {
			cns = []string{name.CommonName}
		}
		return cns, name.OrganizationalUnit
	}
	for _, atv := range name.Names {
		s, ok := atv.Value.(string)
		switch {
		case atv.Type.Equal(oidCN):
			if !ok {
				s = "?" // not a string: counts, but never as a JSS ID
			}
			cns = append(cns, s)
		case atv.Type.Equal(oidOU):
			if !ok {
				s = "?"
			}
			ous = append(ous, s)
		}
	}
	return cns, ous
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isJSSID accepts a positive decimal without leading zeros and of at
// most 10 digits: "7" and "007" must not name the same object twice.
func isJSSID(s string) bool {
	return isDigits(s) && len(s) <= 10 && s[0] != '0'
}
