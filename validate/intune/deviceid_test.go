package intune_test

import (
	"testing"

	"github.com/certgate/certgate/validate/intune"
)

func TestDeviceID(t *testing.T) {
	const other = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
	tests := []struct {
		name string
		o    csrOpts
		want string
	}{
		{"ok/URI SAN", csrOpts{cn: "user@contoso.com", uris: []string{"IntuneDeviceId://" + deviceGUID}}, deviceGUID},
		{"ok/URI SAN other case", csrOpts{uris: []string{"IntuneDeviceID://" + deviceGUID}}, deviceGUID},
		{"ok/URI SAN lower case", csrOpts{uris: []string{"intunedeviceid://" + deviceGUID}}, deviceGUID},
		{"ok/URI SAN wins over CN", csrOpts{cn: other, uris: []string{"IntuneDeviceId://" + deviceGUID}}, deviceGUID},
		{"ok/first matching URI", csrOpts{uris: []string{"tag:microsoft.com,2022-09-14:sid:S-1-5-21-1", "IntuneDeviceId://" + deviceGUID}}, deviceGUID},
		{"ok/CN GUID", csrOpts{cn: other}, other},
		{"ok/CN not a GUID", csrOpts{cn: "laptop-17"}, ""},
		{"ok/other URI scheme", csrOpts{uris: []string{"https://" + deviceGUID}}, ""},
		{"ok/nothing", csrOpts{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, csr := newCSR(t, tt.o)
			if got := intune.DeviceID(csr); got != tt.want {
				t.Errorf("DeviceID = %q, want %q", got, tt.want)
			}
		})
	}
	if got := intune.DeviceID(nil); got != "" {
		t.Errorf("DeviceID(nil) = %q", got)
	}
}
