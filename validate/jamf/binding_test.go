package jamf_test

import (
	"context"
	"strings"
	"testing"

	"github.com/certgate/certgate/integration/fakes/fakehttp"
	fakejamf "github.com/certgate/certgate/integration/fakes/jamf"
	"github.com/certgate/certgate/validate"
	"github.com/certgate/certgate/validate/jamf"
)

const staticSecret = "jamf-static-challenge"

func TestSubjectBinding(t *testing.T) {
	e := newEnv(t, nil)
	mac := e.fake.AddComputer(fakejamf.Computer{UDID: "MAC-UDID", Name: "mac"})
	ipad := e.fake.AddMobileDevice(fakejamf.MobileDevice{ID: "500", UDID: "IPAD-UDID"})
	gone := e.fake.AddComputer(fakejamf.Computer{UDID: "GONE"})
	e.fake.DeleteComputer(gone)
	static, err := validate.NewStatic([]string{staticSecret})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		lookup    bool
		challenge string
		attrs     []attr
		fault     *fakehttp.Fault
		device    string
		reason    string // rejection reason
		errPrefix string // non-rejection error
	}{
		{"ok/computer without lookup", false, staticSecret, []attr{cn("999"), ou("computers")}, nil, "computers/999", "", ""},
		{"ok/computer in Jamf", true, staticSecret, []attr{cn(mac), ou("computers")}, nil, "computers/" + mac, "", ""},
		{"ok/user on device in Jamf", true, staticSecret, []attr{cn(ipad), ou("users-on-devices")}, nil, "users-on-devices/" + ipad, "", ""},
		{"fail/wrong challenge", true, "nope", []attr{cn(mac), ou("computers")}, nil, "", "wrong challenge", ""},
		{"fail/bad subject", true, staticSecret, []attr{cn("mac"), ou("computers")}, nil, "", "jamf: subject has no CN holding a JSS ID", ""},
		{"fail/deleted computer", true, staticSecret, []attr{cn(gone), ou("computers")}, nil, "", "jamf: computers object not found in Jamf Pro", ""},
		{"fail/kind mismatch", true, staticSecret, []attr{cn(mac), ou("devices")}, nil, "", "jamf: devices object not found in Jamf Pro", ""},
		{"fail/Jamf down", true, staticSecret, []attr{cn(mac), ou("computers")}, &fakehttp.Fault{Status: 503, Body: "{}"}, "", "", "jamf: computers lookup: HTTP 503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var lookup jamf.DeviceLookup
			if tt.lookup {
				lookup = e.c
			}
			sb, err := jamf.NewSubjectBinding(static, lookup)
			if err != nil {
				t.Fatal(err)
			}
			e.fake.ClearFaults()
			if tt.fault != nil {
				e.fake.SetFault(fakejamf.RouteComputers, *tt.fault)
			}
			before := e.fake.Count(fakejamf.RouteComputers) + e.fake.Count(fakejamf.RouteMobileDevices)
			dec, err := sb.Validate(context.Background(), &validate.Request{Profile: "jamf", Challenge: tt.challenge,
				CSR: newCSR(t, tt.attrs)})
			calls := e.fake.Count(fakejamf.RouteComputers) + e.fake.Count(fakejamf.RouteMobileDevices) - before
			switch {
			case tt.reason != "":
				if !isRejection(err) || err.Error() != "validate: rejected: "+tt.reason {
					t.Fatalf("Validate = %v, want rejection %q", err, tt.reason)
				}
			case tt.errPrefix != "":
				if err == nil || isRejection(err) || !strings.HasPrefix(err.Error(), tt.errPrefix) {
					t.Fatalf("Validate = %v, want a non-rejection error %q", err, tt.errPrefix)
				}
			default:
				if err != nil || dec.DeviceID != tt.device {
					t.Fatalf("Validate = %+v, %v, want DeviceID %s", dec, err, tt.device)
				}
			}
			if tt.challenge != staticSecret && calls != 0 {
				t.Errorf("a request with a wrong challenge made %d Jamf calls", calls)
			}
			e.assertNoSecret(t, err)
		})
	}
}

func TestSubjectBindingEdges(t *testing.T) {
	if _, err := jamf.NewSubjectBinding(nil, nil); err == nil || err.Error() != "jamf: subject binding: no challenge validator to wrap" {
		t.Errorf("NewSubjectBinding(nil) = %v", err)
	}
	allow := validate.ValidatorFunc(func(context.Context, *validate.Request) (validate.Decision, error) {
		return validate.Decision{DeviceID: "other"}, nil
	})
	sb, _ := jamf.NewSubjectBinding(allow, nil)
	for _, tt := range []struct {
		name   string
		r      *validate.Request
		reason string
	}{
		{"fail/nil request", nil, "jamf: no request"},
		{"fail/no CSR", &validate.Request{Challenge: "x"}, "jamf: request has no CSR"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sb.Validate(context.Background(), tt.r)
			if !isRejection(err) || err.Error() != "validate: rejected: "+tt.reason {
				t.Errorf("Validate = %v, want %q", err, tt.reason)
			}
		})
	}
}
