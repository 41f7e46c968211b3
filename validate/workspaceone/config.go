package workspaceone

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of Config.
const (
	DefaultTimeout        = 30 * time.Second
	DefaultMaxConcurrency = 5

	// Lookup values: the search type of the device lookup (§10).
	LookupSerial = "serial" // searchby=Serialnumber (the default)
	LookupUdid   = "udid"   // searchby=Udid

	// DefaultDeviceKey reads the device key from the subject CN.
	DefaultDeviceKey = "cn"

	// The commonly documented JSON names (§10; unconfirmed).
	DefaultSerialField     = "SerialNumber"
	DefaultUdidField       = "Udid"
	DefaultComplianceField = "ComplianceStatus"
	DefaultEnrollmentField = "EnrollmentStatus"
)

// DefaultNonCompliant is the compliance value that makes a device
// untrusted (§10), when Config.NonCompliant is empty.
const DefaultNonCompliant = "Non-Compliant"

// Config configures a Checker and, through DeviceKey, a Validator. Zero
// values take the documented defaults, so only APIURL, Username,
// Password and TenantCode are required.
type Config struct {
	// APIURL is the Workspace ONE UEM API host, e.g.
	// https://as1234.awmdm.com. The console's REST API URL
	// (https://as1234.awmdm.com/API/) works too: a trailing /api is
	// dropped before /api/mdm/devices is appended. https only, since
	// Basic credentials travel on every call.
	APIURL string
	// Username and Password are an admin account's, whose role grants
	// "REST - Devices"; they are sent as HTTP Basic.
	Username string
	Password string
	// TenantCode is the tenant's REST API key, sent in aw-tenant-code.
	TenantCode string

	// Timeout bounds each lookup; zero means DefaultTimeout.
	Timeout time.Duration
	// RootCAs, when set, replaces the system roots for TLS to the API
	// (an on-premises server with a private CA; tests trust their fake).
	RootCAs *x509.CertPool

	// Lookup is LookupSerial (the default) or LookupUdid: which
	// identifier the device key is.
	Lookup string
	// DeviceKey says where a Validator finds the device key in the CSR,
	// matching the certificate template of the UEM console:
	//   - "cn" (the default): the subject's one CN;
	//   - a subject attribute: "serialNumber", "uid", "ou", "o",
	//     "emailAddress", or a dotted OID such as "2.5.4.5"; it must
	//     occur once;
	//   - "uri-suffix": the CSR's one URI SAN, after its last "/" or
	//     ":" (ws1://C02XYZ, urn:serial:C02XYZ);
	//   - "uri-suffix:<prefix>": the rest of the one URI SAN that starts
	//     with prefix (compared without regard to case), e.g.
	//     "uri-suffix:ws1://device/".
	DeviceKey string

	// SerialField, UdidField, ComplianceField and EnrollmentField are
	// the JSON names of those fields in the device record; zero means
	// the documented names. A dotted name reads a nested object
	// ("Compliance.Status"). Names are matched exactly first, else
	// without regard to case.
	SerialField     string
	UdidField       string
	ComplianceField string
	EnrollmentField string
	// NonCompliant lists the compliance values that make a device
	// untrusted; empty means DefaultNonCompliant. Values are compared
	// ignoring case, spaces, "-" and "_", so "Non-Compliant" also
	// matches "NonCompliant" and "NON_COMPLIANT".
	NonCompliant []string
	// RequireEnrolled also refuses devices whose enrollment status is
	// not Enrolled (compared like NonCompliant).
	RequireEnrolled bool

	// MaxConcurrency caps requests in flight to the API (and
	// connections); zero means DefaultMaxConcurrency.
	MaxConcurrency int
	// Registerer, when set, receives the lookup metrics. Checkers
	// sharing a registry share the series.
	Registerer prometheus.Registerer
}

// Validate reports the first configuration error, naming the field. It
// never quotes the password or the tenant code.
func (c Config) Validate() error {
	switch {
	case c.APIURL == "":
		return errors.New("workspaceone: config: apiURL: required")
	case c.Username == "":
		return errors.New("workspaceone: config: username: required")
	case strings.Contains(c.Username, ":"):
		return errors.New("workspaceone: config: username: must not contain ':' (HTTP Basic cannot carry it)")
	case c.Password == "":
		return errors.New("workspaceone: config: password: required")
	case c.TenantCode == "":
		return errors.New("workspaceone: config: tenantCode: required")
	case !isHeaderToken(c.TenantCode):
		return errors.New("workspaceone: config: tenantCode: must be printable ASCII without spaces")
	case c.Timeout < 0:
		return errors.New("workspaceone: config: timeout: must not be negative")
	case c.MaxConcurrency < 0:
		return errors.New("workspaceone: config: maxConcurrency: must not be negative")
	}
	if _, err := apiBase(c.APIURL); err != nil {
		return err
	}
	if _, ok := searchBy(c.Lookup); !ok {
		return fmt.Errorf("workspaceone: config: lookup: must be %q or %q", LookupSerial, LookupUdid)
	}
	if _, err := parseDeviceKey(c.DeviceKey); err != nil {
		return err
	}
	for _, f := range []struct{ name, value string }{
		{"serialField", c.SerialField}, {"udidField", c.UdidField},
		{"complianceField", c.ComplianceField}, {"enrollmentField", c.EnrollmentField},
	} {
		if f.value != "" && !isFieldPath(f.value) {
			return fmt.Errorf("workspaceone: config: %s: must be a JSON name or dotted path of letters, digits and _ (at most 128 bytes)", f.name)
		}
	}
	for i, v := range c.NonCompliant {
		switch normalize(v) {
		case "":
			return fmt.Errorf("workspaceone: config: nonCompliant[%d]: empty", i)
		case "compliant":
			return fmt.Errorf("workspaceone: config: nonCompliant[%d]: Compliant cannot be non-compliant", i)
		}
	}
	return nil
}

// String describes c without its secrets, so a logged config leaks
// nothing.
func (c Config) String() string {
	return fmt.Sprintf("workspaceone.Config{APIURL: %q, Username: %q, password: (redacted), tenantCode: (redacted), Lookup: %q, DeviceKey: %q}",
		c.APIURL, c.Username, c.Lookup, c.DeviceKey)
}

// GoString is String, for %#v.
func (c Config) GoString() string { return c.String() }

func (c Config) withDefaults() Config {
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxConcurrency == 0 {
		c.MaxConcurrency = DefaultMaxConcurrency
	}
	c.Lookup = strings.ToLower(c.Lookup)
	if c.Lookup == "" {
		c.Lookup = LookupSerial
	}
	if c.DeviceKey == "" {
		c.DeviceKey = DefaultDeviceKey
	}
	c.SerialField = orDefault(c.SerialField, DefaultSerialField)
	c.UdidField = orDefault(c.UdidField, DefaultUdidField)
	c.ComplianceField = orDefault(c.ComplianceField, DefaultComplianceField)
	c.EnrollmentField = orDefault(c.EnrollmentField, DefaultEnrollmentField)
	if len(c.NonCompliant) == 0 {
		c.NonCompliant = []string{DefaultNonCompliant}
	}
	return c
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// searchBy maps a Lookup value (any case; empty is serial) to the
// searchby parameter.
func searchBy(lookup string) (string, bool) {
	switch strings.ToLower(lookup) {
	case "", LookupSerial:
		return "Serialnumber", true
	case LookupUdid:
		return "Udid", true
	}
	return "", false
}

// apiBase checks raw and returns the lookup URL's base, without a
// trailing slash or /api.
func apiBase(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", errors.New("workspaceone: config: apiURL: must be an https URL without credentials, query or fragment")
	}
	base := strings.TrimRight(u.Scheme+"://"+u.Host+u.EscapedPath(), "/")
	if len(base) >= 4 && strings.EqualFold(base[len(base)-4:], "/api") {
		base = base[:len(base)-4]
	}
	return base, nil
}

// isHeaderToken accepts printable ASCII without spaces, so the value
// can go in a header unchanged.
func isHeaderToken(s string) bool {
	for i := range len(s) {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// isFieldPath accepts dot-separated names of letters, digits and _.
func isFieldPath(s string) bool {
	if len(s) > 128 {
		return false
	}
	for _, part := range strings.Split(s, ".") {
		if part == "" || strings.IndexFunc(part, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_')
		}) >= 0 {
			return false
		}
	}
	return true
}

// normalize folds a status value for comparison: lower case, without
// spaces, "-" and "_".
func normalize(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r != ' ' && r != '-' && r != '_' && r != '\t' {
			b.WriteRune(r)
		}
	}
	return b.String()
}
