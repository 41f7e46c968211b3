package jamf_test

import (
	"crypto/x509/pkix"
	"testing"

	"github.com/certgate/certgate/validate/jamf"
)

func TestParseSubject(t *testing.T) {
	const profileID = "CDB0BC64-F3EB-4B1A-AA5E-9A5D994CA593"
	tests := []struct {
		name   string
		attrs  []attr
		want   string // DeviceID
		reason string // rejection reason
	}{
		{"ok/computer", []attr{cn("123"), ou("computers")}, "computers/123", ""},
		{"ok/mobile device", []attr{cn("7"), ou("devices")}, "devices/7", ""},
		{"ok/user on computer", []attr{cn("55"), ou("users-on-computers")}, "users-on-computers/55", ""},
		{"ok/user on device", []attr{cn("56"), ou("users-on-devices")}, "users-on-devices/56", ""},
		{"ok/SCEPman form with profile CN after", []attr{cn("123"), ou("computers"), cn(profileID)}, "computers/123", ""},
		{"ok/profile CN first", []attr{cn(profileID), ou("computers"), cn("123")}, "computers/123", ""},
		{"ok/OU case", []attr{cn("9"), ou("Computers")}, "computers/9", ""},
		{"ok/other attributes", []attr{{oidO, "Example"}, cn("9"), ou("devices")}, "devices/9", ""},
		{"fail/no OU", []attr{cn("123")}, "", "jamf: subject must have exactly one OU naming the Jamf object type"},
		{"fail/two OUs", []attr{cn("123"), ou("computers"), ou("devices")}, "", "jamf: subject must have exactly one OU naming the Jamf object type"},
		{"fail/unknown OU", []attr{cn("123"), ou("servers")}, "", "jamf: subject OU is not computers, devices, users-on-computers or users-on-devices"},
		{"fail/no CN", []attr{ou("computers")}, "", "jamf: subject has no CN holding a JSS ID"},
		{"fail/CN is a UDID", []attr{cn("EBBFF74D-C6B7-5599-93A9-19E8BDDEFE32"), ou("computers")}, "", "jamf: subject has no CN holding a JSS ID"},
		{"fail/two numeric CNs", []attr{cn("1"), cn("2"), ou("computers")}, "", "jamf: subject has more than one numeric CN"},
		{"fail/leading zero", []attr{cn("0123"), ou("computers")}, "", "jamf: subject CN is not a valid JSS ID"},
		{"fail/zero", []attr{cn("0"), ou("computers")}, "", "jamf: subject CN is not a valid JSS ID"},
		{"fail/too long", []attr{cn("12345678901"), ou("computers")}, "", "jamf: subject CN is not a valid JSS ID"},
		{"fail/OU not a string", []attr{cn("1"), {oidOU, 42}}, "", "jamf: subject OU is not computers, devices, users-on-computers or users-on-devices"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			csr := newCSR(t, tt.attrs)
			ref, err := jamf.ParseSubject(csr.Subject)
			if tt.reason != "" {
				if !isRejection(err) || err.Error() != "validate: rejected: "+tt.reason {
					t.Fatalf("ParseSubject = %v, want rejection %q", err, tt.reason)
				}
				return
			}
			if err != nil || ref.DeviceID() != tt.want {
				t.Fatalf("ParseSubject = %+v, %v, want %s", ref, err, tt.want)
			}
		})
	}
}

// A Name built in code (no Names) is read from its fields.
func TestParseSubjectBuiltName(t *testing.T) {
	ref, err := jamf.ParseSubject(pkix.Name{CommonName: "42", OrganizationalUnit: []string{"devices"}})
	if err != nil || ref != (jamf.DeviceRef{Kind: jamf.KindMobileDevice, JSSID: "42"}) {
		t.Fatalf("ParseSubject = %+v, %v", ref, err)
	}
	if ref.Kind.Inventory() != jamf.MobileDevices || jamf.KindUserOnComputer.Inventory() != jamf.Computers {
		t.Error("Inventory mapping wrong")
	}
}

func TestParseDeviceID(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want jamf.DeviceRef
		ok   bool
	}{
		{"ok/computer", "computers/123", jamf.DeviceRef{Kind: jamf.KindComputer, JSSID: "123"}, true},
		{"ok/user on device", "users-on-devices/4", jamf.DeviceRef{Kind: jamf.KindUserOnDevice, JSSID: "4"}, true},
		{"fail/no slash", "computers", jamf.DeviceRef{}, false},
		{"fail/kind case", "Computers/1", jamf.DeviceRef{}, false},
		{"fail/unknown kind", "servers/1", jamf.DeviceRef{}, false},
		{"fail/bad id", "computers/01", jamf.DeviceRef{}, false},
		{"fail/extra", "computers/1/2", jamf.DeviceRef{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := jamf.ParseDeviceID(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Fatalf("ParseDeviceID(%q) = %+v, %v", tt.in, got, err)
			}
			if tt.ok && got.DeviceID() != tt.in {
				t.Errorf("round trip %q → %q", tt.in, got.DeviceID())
			}
		})
	}
}
