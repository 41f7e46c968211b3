package configs

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/certgate/certgate/ca"
)

// maxSocketPath is the longest unix socket path every supported OS accepts
// (sun_path is 108 bytes on Linux but 104 on macOS and the BSDs).
const maxSocketPath = 104

// FieldError is one invalid setting. Validate and Load return them joined
// (errors.Join), so an operator sees every mistake in one run; errors.As
// finds the first.
type FieldError struct {
	// Key is the key path, e.g. "profiles[1].validator.type".
	Key string
	// Env is the variable that set the key, or "" when it came from YAML or
	// a default.
	Env string
	// Msg says what is wrong; it never holds a secret.
	Msg string
}

func (e *FieldError) Error() string { return "configs: " + e.where() + ": " + e.Msg }

func (e *FieldError) where() string {
	if e.Env != "" {
		return e.Key + " (from " + e.Env + ")"
	}
	return e.Key
}

// sourceErrors prefixes Load's validation errors with the file they came
// from, keeping each FieldError reachable through errors.As.
type sourceErrors struct {
	source string
	errs   []*FieldError
}

func (e *sourceErrors) Error() string {
	lines := make([]string, len(e.errs))
	for i, fe := range e.errs {
		lines[i] = "configs: " + e.source + ": " + fe.where() + ": " + fe.Msg
	}
	return strings.Join(lines, "\n")
}

func (e *sourceErrors) Unwrap() []error {
	out := make([]error, len(e.errs))
	for i, fe := range e.errs {
		out[i] = fe
	}
	return out
}

// Validate checks every key and returns all problems found, each a
// *FieldError naming its key path. It reads no secret and touches no file.
func (c *Config) Validate() error {
	errs := c.validate()
	if len(errs) == 0 {
		return nil
	}
	out := make([]error, len(errs))
	for i, fe := range errs {
		out[i] = fe
	}
	return errors.Join(out...)
}

// problems collects FieldErrors, tagging each with the env var that set its
// key, if any.
type problems struct {
	envKeys map[string]string
	list    []*FieldError
}

func (p *problems) add(key, format string, args ...any) {
	p.list = append(p.list, &FieldError{Key: key, Env: p.envKeys[key], Msg: fmt.Sprintf(format, args...)})
}

func (c *Config) validate() []*FieldError {
	p := &problems{envKeys: c.envKeys}
	listenOK := checkListen(p, c.Listen)
	if c.PublicURL != "" || listenOK {
		// Unset and underivable: the listen error already says why.
		checkPublicURL(p, c.PublicURL)
	}
	if c.DataDir == "" {
		p.add("data_dir", "required")
	}
	switch sock := c.ResolvePath(c.AdminSocket); {
	case c.AdminSocket == "":
		p.add("admin_socket", "required")
	case len(sock) > maxSocketPath:
		p.add("admin_socket", "%q is %d bytes, longer than the %d a unix socket path allows", sock, len(sock), maxSocketPath)
	}
	checkOneOf(p, "log.level", c.Log.Level, "debug", "info", "warn", "error")
	checkOneOf(p, "log.format", c.Log.Format, "auto", "json", "console")
	c.CA.validate(p)
	c.HTTP.validate(p)
	c.OCSP.validate(p)
	c.CRL.validate(p)
	c.validateProfiles(p)
	c.EST.validate(p, c)
	c.AdminAPI.validate(p)
	c.Store.validate(p)
	c.validateUpstreams(p)
	return p.list
}

func checkListen(p *problems, listen string) bool {
	if _, _, err := net.SplitHostPort(listen); err != nil {
		p.add("listen", "%q is not host:port", listen)
		return false
	}
	if _, _, err := splitListen(listen); err != nil {
		p.add("listen", "%q: %v", listen, err)
		return false
	}
	return true
}

// splitListen splits a listen address, requiring a numeric port: a service
// name ("http") would work for net.Listen but not in a derived public URL.
func splitListen(listen string) (host, port string, err error) {
	host, port, err = net.SplitHostPort(listen)
	if err != nil {
		return "", "", err
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || port != strconv.FormatUint(n, 10) {
		return "", "", fmt.Errorf("port %q is not a number from 0 to 65535", port)
	}
	return host, port, nil
}

func checkPublicURL(p *problems, raw string) {
	if raw == "" {
		p.add("public_url", "required (could not derive it from listen)")
		return
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		p.add("public_url", "%q is not a URL", raw)
	case u.Scheme != "http" && u.Scheme != "https":
		p.add("public_url", "%q: scheme must be http or https", raw)
	case u.Host == "":
		p.add("public_url", "%q has no host", raw)
	case u.User != nil:
		p.add("public_url", "%q must not carry user info", raw)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		p.add("public_url", "%q must not have a query or fragment", raw)
	}
}

func checkOneOf(p *problems, key, v string, allowed ...string) {
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	p.add(key, "%q is not one of %s", v, strings.Join(allowed, ", "))
}

// checkEnvName accepts the names a POSIX shell can export, so a typo such
// as "$CERTGATE_X" or "CERTGATE X" is caught before start-up.
func checkEnvName(p *problems, key, name string) {
	if name == "" {
		return
	}
	for i, r := range name {
		ok := r == '_' || (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z') || (i > 0 && r >= '0' && r <= '9')
		if !ok {
			p.add(key, "%q is not an environment variable name", name)
			return
		}
	}
}

func (cc *CAConfig) validate(p *problems) {
	// The CA name follows the profile name rule; asking ca keeps one
	// definition of that rule. A config holding only a name builds unless
	// the name is bad.
	if _, err := (ca.ProfileConfig{Name: cc.Name}).Build(); err != nil {
		p.add("ca.name", "%s", strings.TrimPrefix(err.Error(), "name: "))
	}
	if cc.Dir == "" {
		p.add("ca.dir", "required")
	}
	checkEnvName(p, "ca.key_passphrase_env", cc.KeyPassphraseEnv)
	if cc.KeyPassphraseEnv != "" && cc.KeyPassphraseFile != "" {
		p.add("ca", "set key_passphrase_env or key_passphrase_file, not both")
	}
}

func (h *HTTPConfig) validate(p *problems) {
	const minBody, maxBody = 1024, 16 << 20
	switch {
	case h.MaxBodyBytes < minBody:
		p.add("http.max_body_bytes", "%d is below %d", h.MaxBodyBytes, minBody)
	case h.MaxBodyBytes > maxBody:
		p.add("http.max_body_bytes", "%d is above %d (16 MiB)", h.MaxBodyBytes, maxBody)
	}
	for _, t := range []struct {
		key string
		d   Duration
	}{
		{"http.read_header_timeout", h.ReadHeaderTimeout},
		{"http.read_timeout", h.ReadTimeout},
		{"http.write_timeout", h.WriteTimeout},
		{"http.idle_timeout", h.IdleTimeout},
		{"http.request_timeout", h.RequestTimeout},
		{"http.shutdown_timeout", h.ShutdownTimeout},
	} {
		if t.d <= 0 {
			p.add(t.key, "%s must be greater than 0", t.d)
		}
	}
}

func (c *Config) validateProfiles(p *problems) {
	if len(c.Profiles) == 0 {
		p.add("profiles", "at least one profile is required")
	}
	seen := make(map[string]bool, len(c.Profiles))
	for i := range c.Profiles {
		pr := &c.Profiles[i]
		key := fmt.Sprintf("profiles[%d]", i)
		if _, err := pr.ProfileConfig.Build(); err != nil {
			addRelative(p, key, err)
		}
		if pr.Name != "" {
			if seen[pr.Name] {
				p.add(key+".name", "duplicate profile %q", pr.Name)
			}
			seen[pr.Name] = true
		}
		pr.Validator.validate(p, key+".validator")
		checkOneOf(p, key+".approval", pr.Approval, "none", "manual")
		if pr.DeviceState != nil {
			pr.DeviceState.validate(p, key+".device_state", &pr.Validator, c.OCSP)
		}
	}
	if _, ok := c.ProfileByName(c.SCEP.DefaultProfile); !ok && len(c.Profiles) > 0 {
		names := make([]string, len(c.Profiles))
		for i := range c.Profiles {
			names[i] = c.Profiles[i].Name
		}
		p.add("scep.default_profile", "no profile named %q (have: %s)", c.SCEP.DefaultProfile, strings.Join(names, ", "))
	}
}

func (v *ValidatorConfig) validate(p *problems, key string) {
	switch v.Type {
	case "static", "": // "" before Load's defaults: static is the default
		if v.Intune != nil {
			p.add(key+".intune", "only for type: intune")
		}
		if v.Jamf != nil {
			p.add(key+".jamf", "only for type: jamf")
		}
	case "workspaceone":
		if v.WorkspaceOne == nil {
			p.add(key+".workspaceone", "required for type: workspaceone")
			return
		}
		v.WorkspaceOne.validate(p, key+".workspaceone", v)
		checkEnvName(p, key+".secrets_env", v.SecretsEnv)
		return
	case "jamf":
		if v.Jamf == nil {
			p.add(key+".jamf", "required for type: jamf")
			return
		}
		v.Jamf.validate(p, key+".jamf", v)
		checkEnvName(p, key+".secrets_env", v.SecretsEnv)
		return
	case "intune":
		if v.Intune == nil {
			p.add(key+".intune", "required for type: intune (tenant_id, client_id, client secret)")
			return
		}
		v.Intune.validate(p, key+".intune")
		if v.HasStaticSecrets() || v.OneTime {
			p.add(key, "intune takes no static secrets or one-time challenges: Intune issues the challenges")
		}
		return
	default:
		p.add(key+".type", "unknown validator %q (want static, intune, jamf or workspaceone)", v.Type)
		return
	}
	if !v.HasStaticSecrets() && !v.OneTime {
		p.add(key, "static validator needs secrets, secrets_env or secrets_file (or one_time: true)")
	}
	if v.OneTimeTTL != 0 && (v.OneTimeTTL < Duration(time.Minute) || v.OneTimeTTL > Duration(7*24*time.Hour)) {
		p.add(key+".one_time_ttl", "%s is outside 1m..168h", v.OneTimeTTL)
	}
	for i, s := range v.Secrets {
		if strings.TrimSpace(s) == "" {
			p.add(fmt.Sprintf("%s.secrets[%d]", key, i), "empty secret")
		}
	}
	checkEnvName(p, key+".secrets_env", v.SecretsEnv)
	if v.Generate && v.SecretsFile == "" {
		p.add(key+".generate", "needs secrets_file (the file to create)")
	}
}

// addRelative records an error from ca, whose text starts with the key
// relative to the profile ("validity: ..."), under the profile's key path.
func addRelative(p *problems, prefix string, err error) {
	rel, msg, ok := strings.Cut(err.Error(), ": ")
	if !ok || strings.ContainsAny(rel, " \"") {
		p.add(prefix, "%s", err)
		return
	}
	p.add(prefix+"."+rel, "%s", msg)
}
