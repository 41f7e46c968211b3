package workspaceone_test

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"testing"

	"github.com/certgate/certgate/validate/workspaceone"
)

func TestExtractKey(t *testing.T) {
	plain := newCSR(t, []attr{cn("C02XYZ"), {oidOU, "devices"}})
	tests := []struct {
		name   string
		spec   string
		csr    *x509.CertificateRequest
		want   string
		reason string // rejection reason
	}{
		{"ok/default is the CN", "", plain, "C02XYZ", ""},
		{"ok/cn", "cn", plain, "C02XYZ", ""},
		{"ok/commonName any case", "CommonName", plain, "C02XYZ", ""},
		{"ok/serialNumber attribute", "serialNumber",
			newCSR(t, []attr{cn("Jane's iPad"), {oidSerial, "DMPQ1234"}}), "DMPQ1234", ""},
		{"ok/uid", "uid", newCSR(t, []attr{cn("x y"), {oidUID, "00008030-001A2B3C"}}), "00008030-001A2B3C", ""},
		{"ok/dotted OID", "2.5.4.5", newCSR(t, []attr{{oidSerial, "S-1"}}), "S-1", ""},
		{"ok/uri-suffix after slash", "uri-suffix", newCSR(t, []attr{cn("user")}, "ws1://C02XYZ"), "C02XYZ", ""},
		{"ok/uri-suffix after colon", "uri-suffix", newCSR(t, nil, "urn:serial:C02XYZ"), "C02XYZ", ""},
		{"ok/uri-suffix with prefix among several", "uri-suffix:ws1://device/",
			newCSR(t, nil, "tag:microsoft.com,2022-09-14:sid:S-1-5-21-1", "WS1://device/ABC.123"), "ABC.123", ""},
		{"ok/name built in code", "cn", &x509.CertificateRequest{Subject: pkix.Name{CommonName: "BUILT"}}, "BUILT", ""},
		{"fail/no CSR", "cn", nil, "", "workspaceone: request has no CSR"},
		{"fail/no CN", "cn", newCSR(t, []attr{{oidOU, "devices"}}), "", "workspaceone: subject has no cn holding the device key"},
		{"fail/two CNs", "cn", newCSR(t, []attr{cn("A"), cn("B")}), "", "workspaceone: subject has more than one cn; the device key is ambiguous"},
		{"fail/no serialNumber", "serialNumber", plain, "", "workspaceone: subject has no serialNumber holding the device key"},
		{"fail/attribute not a string", "2.5.4.5", newCSR(t, []attr{{oidSerial, 42}}), "",
			"workspaceone: device key attribute in the subject is not a string"},
		{"fail/key with space", "cn", newCSR(t, []attr{cn("Jane's iPad")}), "",
			"workspaceone: device key in the CSR is empty, too long or has characters not allowed"},
		{"fail/key with query syntax", "cn", newCSR(t, []attr{cn("X&searchby=Udid")}), "",
			"workspaceone: device key in the CSR is empty, too long or has characters not allowed"},
		{"fail/no URI", "uri-suffix", plain, "", "workspaceone: CSR has no URI SAN holding the device key"},
		{"fail/two URIs", "uri-suffix", newCSR(t, nil, "ws1://A", "ws1://B"), "",
			"workspaceone: CSR has more than one URI SAN that could hold the device key"},
		{"fail/prefix matches none", "uri-suffix:ws1://device/", newCSR(t, nil, "ws1://other/A"), "",
			"workspaceone: CSR has no URI SAN holding the device key"},
		{"fail/empty suffix", "uri-suffix", newCSR(t, nil, "https://ws1.example.com/devices/"), "",
			"workspaceone: device key in the CSR is empty, too long or has characters not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := workspaceone.ExtractKey(tt.spec, tt.csr)
			if tt.reason != "" {
				if !isRejection(err) || err.Error() != "validate: rejected: "+tt.reason {
					t.Fatalf("ExtractKey = %q, %v, want rejection %q", got, err, tt.reason)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ExtractKey = %q, %v, want %q", got, err, tt.want)
			}
		})
	}
}

func TestDeviceID(t *testing.T) {
	tests := []struct {
		name        string
		id          string
		lookup, key string
		ok          bool
	}{
		{"ok/serial", workspaceone.DeviceID("serial", "C02XYZ"), "serial", "C02XYZ", true},
		{"ok/udid", workspaceone.DeviceID("UDID", "0000-AB"), "udid", "0000-AB", true},
		{"fail/other source", "computers/12", "", "", false},
		{"fail/other lookup", "ws1:imei:123", "", "", false},
		{"fail/bad key", "ws1:serial:a b", "", "", false},
		{"fail/empty key", "ws1:serial:", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lookup, key, err := workspaceone.ParseDeviceID(tt.id)
			if !tt.ok {
				if err == nil || err.Error() != "workspaceone: not a Workspace ONE device ID (want ws1:serial:<key> or ws1:udid:<key>)" {
					t.Fatalf("ParseDeviceID(%q) = %q, %q, %v, want an error", tt.id, lookup, key, err)
				}
				return
			}
			if err != nil || lookup != tt.lookup || key != tt.key {
				t.Fatalf("ParseDeviceID(%q) = %q, %q, %v", tt.id, lookup, key, err)
			}
		})
	}
	if got := workspaceone.DeviceID("serial", "C02XYZ"); got != "ws1:serial:C02XYZ" {
		t.Errorf("DeviceID = %q", got)
	}
}

func TestStatus(t *testing.T) {
	tests := []struct {
		name    string
		s       workspaceone.Status
		str     string
		trusted bool
	}{
		{"ok/not found", workspaceone.StatusNotFound, "not_found", false},
		{"ok/not enrolled", workspaceone.StatusNotEnrolled, "not_enrolled", false},
		{"ok/non-compliant", workspaceone.StatusNonCompliant, "non_compliant", false},
		{"ok/not assessed", workspaceone.StatusNotAssessed, "not_assessed", true},
		{"ok/compliant", workspaceone.StatusCompliant, "compliant", true},
		{"fail/zero", 0, "unknown", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.s.String() != tt.str || tt.s.Trusted() != tt.trusted {
				t.Errorf("%d: %q trusted %v, want %q %v", tt.s, tt.s.String(), tt.s.Trusted(), tt.str, tt.trusted)
			}
		})
	}
}
