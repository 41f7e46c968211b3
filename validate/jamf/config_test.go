package jamf_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/certgate/certgate/validate/jamf"
)

func TestCheckerConfig(t *testing.T) {
	ok := jamf.CheckerConfig{URL: "https://example.jamfcloud.com", ClientID: "id", ClientSecret: "s3cret-value"}
	tests := []struct {
		name string
		mod  func(*jamf.CheckerConfig)
		want string
	}{
		{"ok/client credentials", func(*jamf.CheckerConfig) {}, ""},
		{"ok/user account", func(c *jamf.CheckerConfig) { c.ClientID, c.ClientSecret, c.Username, c.Password = "", "", "u", "p" }, ""},
		{"ok/lower concurrency", func(c *jamf.CheckerConfig) { c.MaxConcurrency = 1 }, ""},
		{"fail/url", func(c *jamf.CheckerConfig) { c.URL = "" }, "jamf: config: url: required"},
		{"fail/http url", func(c *jamf.CheckerConfig) { c.URL = "http://jamf.example.com" }, "jamf: config: url: must be an https URL without credentials, query or fragment"},
		{"fail/url with credentials", func(c *jamf.CheckerConfig) { c.URL = "https://u:p@jamf.example.com" }, "jamf: config: url: must be an https URL without credentials, query or fragment"},
		{"fail/no credential", func(c *jamf.CheckerConfig) { c.ClientID, c.ClientSecret = "", "" }, "jamf: config: clientID/clientSecret or username/password: one is required"},
		{"fail/both credentials", func(c *jamf.CheckerConfig) { c.Username, c.Password = "u", "p" }, "jamf: config: clientID and username: set only one credential"},
		{"fail/secret missing", func(c *jamf.CheckerConfig) { c.ClientSecret = "" }, "jamf: config: clientID and clientSecret: both are required"},
		{"fail/password missing", func(c *jamf.CheckerConfig) { c.ClientID, c.ClientSecret, c.Username = "", "", "u" }, "jamf: config: username and password: both are required"},
		{"fail/timeout", func(c *jamf.CheckerConfig) { c.Timeout = -1 }, "jamf: config: timeout: must not be negative"},
		{"fail/concurrency above Jamf's guidance", func(c *jamf.CheckerConfig) { c.MaxConcurrency = 6 }, "jamf: config: maxConcurrency: must be between 1 and 5 (Jamf's guidance)"},
		{"fail/page size", func(c *jamf.CheckerConfig) { c.PageSize = 2001 }, "jamf: config: pageSize: must be between 1 and 2000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.mod(&c)
			_, err := jamf.NewDeviceChecker(c)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("NewDeviceChecker: %v", err)
				}
				return
			}
			if err == nil || err.Error() != tt.want {
				t.Fatalf("NewDeviceChecker = %v, want %q", err, tt.want)
			}
			assertNotIn(t, err, c.ClientSecret, c.Password)
		})
	}
}

// A printed config shows no secret.
func TestCheckerConfigRedacted(t *testing.T) {
	for _, c := range []jamf.CheckerConfig{
		{URL: "https://j", ClientID: "id", ClientSecret: "s3cret-value"},
		{URL: "https://j", Username: "u", Password: "s3cret-value"},
	} {
		for _, s := range []string{c.String(), c.GoString(), fmt.Sprintf("%v %+v %#v", c, c, c)} {
			if strings.Contains(s, "s3cret") {
				t.Errorf("printed config %q", s)
			}
		}
	}
}
