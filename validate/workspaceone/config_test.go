package workspaceone_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/certgate/certgate/validate/workspaceone"
)

func TestConfig(t *testing.T) {
	ok := workspaceone.Config{APIURL: "https://as1234.awmdm.com", Username: "api", Password: "s3cret-pass", TenantCode: "s3cret-code"}
	tests := []struct {
		name string
		mod  func(*workspaceone.Config)
		want string
	}{
		{"ok/minimal", func(*workspaceone.Config) {}, ""},
		{"ok/console REST API URL", func(c *workspaceone.Config) { c.APIURL = "https://as1234.awmdm.com/API/" }, ""},
		{"ok/udid, upper case", func(c *workspaceone.Config) { c.Lookup = "UDID" }, ""},
		{"ok/uri-suffix with prefix", func(c *workspaceone.Config) { c.DeviceKey = "uri-suffix:ws1://device/" }, ""},
		{"ok/fields and lists", func(c *workspaceone.Config) {
			c.SerialField, c.ComplianceField, c.NonCompliant = "serial_number", "Compliance.Status", []string{"NonCompliant", "Not Available"}
		}, ""},
		{"fail/apiURL", func(c *workspaceone.Config) { c.APIURL = "" }, "workspaceone: config: apiURL: required"},
		{"fail/http apiURL", func(c *workspaceone.Config) { c.APIURL = "http://as1234.awmdm.com" },
			"workspaceone: config: apiURL: must be an https URL without credentials, query or fragment"},
		{"fail/apiURL with credentials", func(c *workspaceone.Config) { c.APIURL = "https://u:p@as1234.awmdm.com" },
			"workspaceone: config: apiURL: must be an https URL without credentials, query or fragment"},
		{"fail/apiURL with query", func(c *workspaceone.Config) { c.APIURL = "https://as1234.awmdm.com/?x=1" },
			"workspaceone: config: apiURL: must be an https URL without credentials, query or fragment"},
		{"fail/username", func(c *workspaceone.Config) { c.Username = "" }, "workspaceone: config: username: required"},
		{"fail/username with colon", func(c *workspaceone.Config) { c.Username = "a:b" },
			"workspaceone: config: username: must not contain ':' (HTTP Basic cannot carry it)"},
		{"fail/password", func(c *workspaceone.Config) { c.Password = "" }, "workspaceone: config: password: required"},
		{"fail/tenantCode", func(c *workspaceone.Config) { c.TenantCode = "" }, "workspaceone: config: tenantCode: required"},
		{"fail/tenantCode with newline", func(c *workspaceone.Config) { c.TenantCode = "s3cret\r\nX-Evil: 1" },
			"workspaceone: config: tenantCode: must be printable ASCII without spaces"},
		{"fail/timeout", func(c *workspaceone.Config) { c.Timeout = -1 }, "workspaceone: config: timeout: must not be negative"},
		{"fail/maxConcurrency", func(c *workspaceone.Config) { c.MaxConcurrency = -1 }, "workspaceone: config: maxConcurrency: must not be negative"},
		{"fail/lookup", func(c *workspaceone.Config) { c.Lookup = "imei" }, `workspaceone: config: lookup: must be "serial" or "udid"`},
		{"fail/deviceKey", func(c *workspaceone.Config) { c.DeviceKey = "san" }, "workspaceone: config: deviceKey: must be "},
		{"fail/deviceKey empty prefix", func(c *workspaceone.Config) { c.DeviceKey = "uri-suffix:" }, "workspaceone: config: deviceKey: must be "},
		{"fail/field name", func(c *workspaceone.Config) { c.ComplianceField = "Compliance..Status" },
			"workspaceone: config: complianceField: must be a JSON name or dotted path"},
		{"fail/field name characters", func(c *workspaceone.Config) { c.UdidField = `Udid"` },
			"workspaceone: config: udidField: must be a JSON name or dotted path"},
		{"fail/empty non-compliant value", func(c *workspaceone.Config) { c.NonCompliant = []string{"NonCompliant", " - "} },
			"workspaceone: config: nonCompliant[1]: empty"},
		{"fail/compliant listed as non-compliant", func(c *workspaceone.Config) { c.NonCompliant = []string{"compliant"} },
			"workspaceone: config: nonCompliant[0]: Compliant cannot be non-compliant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.mod(&c)
			_, err := workspaceone.NewChecker(c)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("NewChecker: %v", err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("NewChecker = %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error %q holds a secret", err)
			}
		})
	}
}

// A printed config or checker shows no secret.
func TestConfigRedacted(t *testing.T) {
	cfg := workspaceone.Config{APIURL: "https://h", Username: "u", Password: "s3cret-pass", TenantCode: "s3cret-code"}
	c, err := workspaceone.NewChecker(cfg)
	if err != nil {
		t.Fatal(err)
	}
	holder := struct{ C *workspaceone.Checker }{c}
	for _, s := range []string{cfg.String(), cfg.GoString(), fmt.Sprintf("%v %+v %#v", cfg, cfg, cfg),
		c.String(), fmt.Sprintf("%v %+v %#v %v", c, c, c, holder)} {
		if strings.Contains(s, "s3cret") || strings.Contains(s, "Basic") {
			t.Errorf("printed %q", s)
		}
	}
}
