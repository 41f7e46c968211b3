package workspaceone_test

import (
	"context"
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/certgate/certgate/integration/fakes/fakehttp"
	fakews1 "github.com/certgate/certgate/integration/fakes/workspaceone"
	"github.com/certgate/certgate/validate"
	"github.com/certgate/certgate/validate/workspaceone"
)

// challenge is the wrapped validator: it accepts "good" and says a
// device ID of its own, which the Workspace ONE decision replaces.
var challenge = validate.ValidatorFunc(func(_ context.Context, r *validate.Request) (validate.Decision, error) {
	if r.Challenge != "good" {
		return validate.Decision{}, &validate.Rejection{Reason: "wrong challenge"}
	}
	return validate.Decision{DeviceID: "from-challenge"}, nil
})

func TestValidator(t *testing.T) {
	e := newEnv(t, func(c *workspaceone.Config) { c.Timeout = time.Second; c.RequireEnrolled = true })
	e.fake.AddDevice(fakews1.Device{SerialNumber: "C02GOOD", Udid: "UDID-GOOD", ComplianceStatus: "Compliant", EnrollmentStatus: "Enrolled"})
	e.fake.AddDevice(fakews1.Device{SerialNumber: "C02PEND", ComplianceStatus: "Pending Compliance Check", EnrollmentStatus: "Enrolled"})
	e.fake.AddDevice(fakews1.Device{SerialNumber: "C02BAD", ComplianceStatus: "Non-Compliant", EnrollmentStatus: "Enrolled"})
	e.fake.AddDevice(fakews1.Device{SerialNumber: "C02GONE", ComplianceStatus: "Compliant", EnrollmentStatus: "Unenrolled"})
	deleted := e.fake.AddDevice(fakews1.Device{SerialNumber: "C02DEL", ComplianceStatus: "Compliant", EnrollmentStatus: "Enrolled"})
	e.fake.RemoveDevice(deleted)
	csr := func(serial string) *x509.CertificateRequest { return newCSR(t, []attr{cn(serial)}) }
	tests := []struct {
		name      string
		deviceKey string
		challenge string
		csr       *x509.CertificateRequest
		fault     *fakehttp.Fault
		deviceID  string
		reason    string // rejection reason
		err       string // prefix of a plain error
		requests  int
	}{
		{"ok/compliant", "", "good", csr("C02GOOD"), nil, "ws1:serial:C02GOOD", "", "", 1},
		{"ok/pending compliance check", "", "good", csr("C02PEND"), nil, "ws1:serial:C02PEND", "", "", 1},
		{"ok/key from a URI SAN", "uri-suffix:ws1://device/", "good", newCSR(t, []attr{cn("Jane Doe")}, "ws1://device/C02GOOD"),
			nil, "ws1:serial:C02GOOD", "", "", 1},
		{"fail/wrong challenge", "", "bad", csr("C02GOOD"), nil, "", "wrong challenge", "", 0},
		{"fail/no CSR", "", "good", nil, nil, "", "workspaceone: request has no CSR", "", 0},
		{"fail/no key in the CSR", "serialNumber", "good", csr("C02GOOD"), nil, "",
			"workspaceone: subject has no serialNumber holding the device key", "", 0},
		{"fail/unusable key", "", "good", csr("C02 GOOD"), nil, "",
			"workspaceone: device key in the CSR is empty, too long or has characters not allowed", "", 0},
		{"fail/unknown device", "", "good", csr("C02NEVER"), nil, "", "workspaceone: device not found in Workspace ONE", "", 1},
		{"fail/deleted device", "", "good", csr("C02DEL"), nil, "", "workspaceone: device not found in Workspace ONE", "", 1},
		{"fail/non-compliant", "", "good", csr("C02BAD"), nil, "", "workspaceone: device is non-compliant", "", 1},
		{"fail/not enrolled", "", "good", csr("C02GONE"), nil, "", "workspaceone: device is not enrolled", "", 1},
		{"fail/503", "", "good", csr("C02GOOD"), ptr(fakehttp.HTML(503)), "", "", "workspaceone: serial lookup: HTTP 503", 1},
		{"fail/timeout", "", "good", csr("C02GOOD"), &fakehttp.Fault{Hang: true}, "", "", "workspaceone: serial lookup: ", 1},
		{"fail/reset", "", "good", csr("C02GOOD"), &fakehttp.Fault{Reset: true}, "", "", "workspaceone: serial lookup: ", 1},
		{"fail/garbage", "", "good", csr("C02GOOD"), &fakehttp.Fault{Status: 200, Body: "<html/>"}, "", "",
			"workspaceone: serial lookup: HTTP 200 with a body that is not JSON", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.fake.ClearFaults()
			e.fake.ResetRequests()
			if tt.fault != nil {
				e.fake.SetFault(fakews1.RouteDevices, *tt.fault)
			}
			cfg := e.cfg
			cfg.DeviceKey = tt.deviceKey
			v, err := workspaceone.NewValidator(challenge, e.c, cfg)
			if err != nil {
				t.Fatal(err)
			}
			dec, err := v.Validate(context.Background(), &validate.Request{Profile: "ws1", Challenge: tt.challenge, CSR: tt.csr})
			assertNoSecret(t, err)
			if n := e.fake.Count(fakews1.RouteDevices); n != tt.requests {
				t.Errorf("lookups = %d, want %d", n, tt.requests)
			}
			switch {
			case tt.reason != "":
				if !isRejection(err) || err.Error() != "validate: rejected: "+tt.reason {
					t.Fatalf("Validate = %+v, %v, want rejection %q", dec, err, tt.reason)
				}
			case tt.err != "":
				if err == nil || isRejection(err) || !strings.HasPrefix(err.Error(), tt.err) {
					t.Fatalf("Validate = %+v, %v, want a plain error %q", dec, err, tt.err)
				}
			default:
				if err != nil || dec.DeviceID != tt.deviceID {
					t.Fatalf("Validate = %+v, %v, want DeviceID %q", dec, err, tt.deviceID)
				}
			}
			if err != nil && dec != (validate.Decision{}) {
				t.Errorf("refusal with a decision %+v", dec)
			}
		})
	}
	v, err := workspaceone.NewValidator(challenge, e.c, e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Validate(context.Background(), nil); !isRejection(err) || err.Error() != "validate: rejected: workspaceone: no request" {
		t.Errorf("Validate(nil) = %v, want a rejection", err)
	}
}

func TestNewValidator(t *testing.T) {
	e := newEnv(t, nil)
	tests := []struct {
		name string
		next validate.Validator
		c    *workspaceone.Checker
		key  string
		want string
	}{
		{"ok/default key", challenge, e.c, "", ""},
		{"fail/no challenge validator", nil, e.c, "", "workspaceone: validator: no challenge validator to wrap"},
		{"fail/no checker", challenge, nil, "", "workspaceone: validator: no checker"},
		{"fail/bad device key", challenge, e.c, "dns", "workspaceone: config: deviceKey: must be "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := workspaceone.NewValidator(tt.next, tt.c, workspaceone.Config{DeviceKey: tt.key})
			if tt.want == "" {
				if err != nil {
					t.Fatalf("NewValidator: %v", err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("NewValidator = %v, want %q", err, tt.want)
			}
		})
	}
}
