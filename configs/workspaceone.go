package configs

import (
	"net/url"
	"time"
)

// WorkspaceOneConfig configures the workspaceone validator: the profile's
// static challenge, then a device check through the Workspace ONE UEM
// devices API (a non-compliant or unknown device is refused).
type WorkspaceOneConfig struct {
	// APIURL is the UEM API host, https://asXXX.awmdm.com. Required.
	APIURL string `yaml:"api_url"`
	// Username and PasswordEnv: an admin whose role grants "REST -
	// Devices" (HTTP Basic). TenantCodeEnv holds the aw-tenant-code.
	Username      string `yaml:"username"`
	PasswordEnv   string `yaml:"password_env"`
	TenantCodeEnv string `yaml:"tenant_code_env"`
	// Lookup is "serial" (default) or "udid": how the device is searched.
	Lookup string `yaml:"lookup"`
	// DeviceKey says where the CSR carries the serial or UDID: "cn"
	// (default), a subject attribute ("serialNumber", "uid", "ou", ...),
	// or "uri-suffix" (the URI SAN's last path segment).
	DeviceKey string `yaml:"device_key"`
	// RequireEnrolled also refuses devices not enrolled. Default false.
	RequireEnrolled bool `yaml:"require_enrolled"`
	// CAFile: extra trust anchors (PEM). Timeout per call, default 30s.
	CAFile  string   `yaml:"ca_file"`
	Timeout Duration `yaml:"timeout"`
}

func (w *WorkspaceOneConfig) validate(p *problems, key string, v *ValidatorConfig) {
	if !v.HasStaticSecrets() && !v.OneTime {
		p.add(key, "workspaceone checks the device after a challenge: configure secrets, secrets_env, secrets_file or one_time")
	}
	if u, err := url.Parse(w.APIURL); err != nil || u.Scheme != "https" || u.Host == "" {
		p.add(key+".api_url", "%q is not an https URL", w.APIURL)
	}
	if w.Username == "" || w.PasswordEnv == "" || w.TenantCodeEnv == "" {
		p.add(key, "needs username, password_env and tenant_code_env")
	}
	checkEnvName(p, key+".password_env", w.PasswordEnv)
	checkEnvName(p, key+".tenant_code_env", w.TenantCodeEnv)
	if w.Lookup != "" {
		checkOneOf(p, key+".lookup", w.Lookup, "serial", "udid")
	}
	if w.Timeout != 0 && (w.Timeout < Duration(time.Second) || w.Timeout > Duration(5*time.Minute)) {
		p.add(key+".timeout", "%s is outside 1s..5m", w.Timeout)
	}
}
