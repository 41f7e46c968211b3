package configs

import (
	"fmt"
	"net/url"
	"regexp"
	"time"
)

// upstreamNameRE is the profile-name rule: the name is recorded and shown.
var upstreamNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// UpstreamConfig is an upstream CA a profile forwards to (issuer: <name>):
// certgate validates the device, then sends its CSR unchanged over EST or
// SCEP (registration-authority mode).
type UpstreamConfig struct {
	// Name is what profiles' issuer names, and what records carry.
	Name string `yaml:"name"`
	// Type is "est" or "scep".
	Type string `yaml:"type"`
	// URL: for est the base (https://host/.well-known/est[/label]); for
	// scep the SCEP URL (…/scep or …/pkiclient.exe).
	URL string `yaml:"url"`
	// CAFile (PEM) are the trust anchors for the upstream's TLS
	// certificate and, for scep, its CA/RA certificates. Default: the
	// system roots (TLS) and trust on first fetch (SCEP over plain http).
	CAFile string `yaml:"ca_file"`
	// est: mTLS client certificate (PEM or PKCS#12) and key, the key's
	// passphrase from an env var or a file; or HTTP Basic with the
	// password from an env var.
	ClientCertFile          string `yaml:"client_cert_file"`
	ClientKeyFile           string `yaml:"client_key_file"`
	ClientKeyPassphraseEnv  string `yaml:"client_key_passphrase_env"`
	ClientKeyPassphraseFile string `yaml:"client_key_passphrase_file"`
	Username                string `yaml:"username"`
	PasswordEnv             string `yaml:"password_env"`
	// scep: the RA certificate and RSA key certgate signs its PKCSReqs
	// with, and the upstream's challenge (env var), which devices' CSRs
	// must carry (see the README).
	RACertFile   string `yaml:"ra_cert_file"`
	RAKeyFile    string `yaml:"ra_key_file"`
	ChallengeEnv string `yaml:"challenge_env"`
	// Timeout bounds one forwarded enrollment, polling included; 1s..5m,
	// default 30s.
	Timeout Duration `yaml:"timeout"`
}

func (u *UpstreamConfig) validate(p *problems, key string) {
	checkOneOf(p, key+".type", u.Type, "est", "scep")
	if !upstreamNameRE.MatchString(u.Name) {
		p.add(key+".name", "%q is not a valid name", u.Name)
	}
	pu, err := url.Parse(u.URL)
	switch {
	case err != nil || pu.Host == "":
		p.add(key+".url", "%q is not a URL", u.URL)
	case u.Type == "est" && pu.Scheme != "https":
		p.add(key+".url", "EST needs https")
	case pu.Scheme != "https" && pu.Scheme != "http":
		p.add(key+".url", "scheme must be http or https")
	}
	if u.Timeout != 0 && (u.Timeout < Duration(time.Second) || u.Timeout > Duration(5*time.Minute)) {
		p.add(key+".timeout", "%s is outside 1s..5m", u.Timeout)
	}
	switch u.Type {
	case "est":
		if (u.ClientCertFile == "") != (u.ClientKeyFile == "") && u.ClientKeyFile != "" {
			p.add(key+".client_key_file", "needs client_cert_file")
		}
		if u.ClientCertFile == "" && u.Username == "" {
			p.add(key, "est needs client_cert_file (mTLS) or username/password_env (Basic)")
		}
		if u.Username != "" && u.PasswordEnv == "" {
			p.add(key+".password_env", "required with username")
		}
	case "scep":
		if u.RACertFile == "" || u.RAKeyFile == "" {
			p.add(key, "scep needs ra_cert_file and ra_key_file")
		}
	}
	checkEnvName(p, key+".password_env", u.PasswordEnv)
	checkEnvName(p, key+".challenge_env", u.ChallengeEnv)
	checkEnvName(p, key+".client_key_passphrase_env", u.ClientKeyPassphraseEnv)
}

func (c *Config) validateUpstreams(p *problems) {
	names := map[string]bool{}
	for i := range c.Upstreams {
		u := &c.Upstreams[i]
		key := fmt.Sprintf("upstreams[%d]", i)
		u.validate(p, key)
		if names[u.Name] {
			p.add(key+".name", "duplicate upstream %q", u.Name)
		}
		names[u.Name] = true
	}
	for i := range c.Profiles {
		if is := c.Profiles[i].Issuer; is != "" && !names[is] {
			p.add(fmt.Sprintf("profiles[%d].issuer", i), "no upstream named %q", is)
		}
	}
}
