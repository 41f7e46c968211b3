package configs

import (
	"fmt"
	"strconv"
)

// envOverride ties one CERTGATE_* variable to the key it overrides.
type envOverride struct {
	env string
	key string
	set func(c *Config, v string) error
}

// envOverrides lists every env twin. An empty variable counts as unset, so
// `CERTGATE_LISTEN= certgate serve` keeps the file's value.
var envOverrides = []envOverride{
	{"CERTGATE_LISTEN", "listen", str(func(c *Config) *string { return &c.Listen })},
	{"CERTGATE_PUBLIC_URL", "public_url", str(func(c *Config) *string { return &c.PublicURL })},
	{"CERTGATE_DATA_DIR", "data_dir", str(func(c *Config) *string { return &c.DataDir })},
	{"CERTGATE_ADMIN_SOCKET", "admin_socket", str(func(c *Config) *string { return &c.AdminSocket })},
	{"CERTGATE_LOG_LEVEL", "log.level", str(func(c *Config) *string { return &c.Log.Level })},
	{"CERTGATE_LOG_FORMAT", "log.format", str(func(c *Config) *string { return &c.Log.Format })},
	{"CERTGATE_CA_NAME", "ca.name", str(func(c *Config) *string { return &c.CA.Name })},
	{"CERTGATE_CA_DIR", "ca.dir", str(func(c *Config) *string { return &c.CA.Dir })},
	{"CERTGATE_CA_KEY_PASSPHRASE_ENV", "ca.key_passphrase_env", str(func(c *Config) *string { return &c.CA.KeyPassphraseEnv })},
	{"CERTGATE_CA_KEY_PASSPHRASE_FILE", "ca.key_passphrase_file", str(func(c *Config) *string { return &c.CA.KeyPassphraseFile })},
	{"CERTGATE_HTTP_MAX_BODY_BYTES", "http.max_body_bytes", func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not an integer", v)
		}
		c.HTTP.MaxBodyBytes = n
		return nil
	}},
	{"CERTGATE_HTTP_READ_HEADER_TIMEOUT", "http.read_header_timeout", dur(func(c *Config) *Duration { return &c.HTTP.ReadHeaderTimeout })},
	{"CERTGATE_HTTP_READ_TIMEOUT", "http.read_timeout", dur(func(c *Config) *Duration { return &c.HTTP.ReadTimeout })},
	{"CERTGATE_HTTP_WRITE_TIMEOUT", "http.write_timeout", dur(func(c *Config) *Duration { return &c.HTTP.WriteTimeout })},
	{"CERTGATE_HTTP_IDLE_TIMEOUT", "http.idle_timeout", dur(func(c *Config) *Duration { return &c.HTTP.IdleTimeout })},
	{"CERTGATE_HTTP_REQUEST_TIMEOUT", "http.request_timeout", dur(func(c *Config) *Duration { return &c.HTTP.RequestTimeout })},
	{"CERTGATE_HTTP_SHUTDOWN_TIMEOUT", "http.shutdown_timeout", dur(func(c *Config) *Duration { return &c.HTTP.ShutdownTimeout })},
	{"CERTGATE_SCEP_DEFAULT_PROFILE", "scep.default_profile", str(func(c *Config) *string { return &c.SCEP.DefaultProfile })},
	{"CERTGATE_OCSP_SIGNER", "ocsp.signer", str(func(c *Config) *string { return &c.OCSP.Signer })},
	{"CERTGATE_OCSP_VALIDITY", "ocsp.validity", dur(func(c *Config) *Duration { return &c.OCSP.Validity })},
	{"CERTGATE_OCSP_RESPONDER_VALIDITY", "ocsp.responder_validity", dur(func(c *Config) *Duration { return &c.OCSP.ResponderValidity })},
	{"CERTGATE_OCSP_REFRESH_INTERVAL", "ocsp.refresh_interval", dur(func(c *Config) *Duration { return &c.OCSP.RefreshInterval })},
	{"CERTGATE_OCSP_MEMORY_ENTRIES", "ocsp.memory_entries", integer(func(c *Config) *int { return &c.OCSP.MemoryEntries })},
	{"CERTGATE_OCSP_MAX_SIGNING", "ocsp.max_signing", integer(func(c *Config) *int { return &c.OCSP.MaxSigning })},
	{"CERTGATE_OCSP_SIGNING_WAIT", "ocsp.signing_wait", dur(func(c *Config) *Duration { return &c.OCSP.SigningWait })},
	{"CERTGATE_CRL_VALIDITY", "crl.validity", dur(func(c *Config) *Duration { return &c.CRL.Validity })},
	{"CERTGATE_EST_LISTEN", "est.listen", str(func(c *Config) *string { return &c.EST.Listen })},
	{"CERTGATE_EST_CERT_FILE", "est.cert_file", str(func(c *Config) *string { return &c.EST.CertFile })},
	{"CERTGATE_EST_KEY_FILE", "est.key_file", str(func(c *Config) *string { return &c.EST.KeyFile })},
	{"CERTGATE_EST_DEFAULT_PROFILE", "est.default_profile", str(func(c *Config) *string { return &c.EST.DefaultProfile })},
	{"CERTGATE_ADMIN_API_LISTEN", "admin_api.listen", str(func(c *Config) *string { return &c.AdminAPI.Listen })},
	{"CERTGATE_STORE_TYPE", "store.type", str(func(c *Config) *string { return &c.Store.Type })},
	{"CERTGATE_STORE_DSN_ENV", "store.dsn_env", str(func(c *Config) *string { return &c.Store.DSNEnv })},
	{"CERTGATE_STORE_DSN_FILE", "store.dsn_file", str(func(c *Config) *string { return &c.Store.DSNFile })},
	{"CERTGATE_CRL_DEBOUNCE", "crl.debounce", dur(func(c *Config) *Duration { return &c.CRL.Debounce })},
}

// applyEnv applies every set override. A value that cannot be parsed fails
// here, naming the variable; one that parses but is invalid is remembered in
// envKeys so Validate's error names the variable too.
func (c *Config) applyEnv(getenv func(string) string) error {
	for _, o := range envOverrides {
		v := getenv(o.env)
		if v == "" {
			continue
		}
		if err := o.set(c, v); err != nil {
			return fmt.Errorf("%s (%s): %w", o.env, o.key, err)
		}
		if c.envKeys == nil {
			c.envKeys = map[string]string{}
		}
		c.envKeys[o.key] = o.env
	}
	return nil
}

func str(field func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error {
		*field(c) = v
		return nil
	}
}

func integer(field func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("%q is not an integer", v)
		}
		*field(c) = n
		return nil
	}
}

func dur(field func(*Config) *Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := parseDuration(v)
		if err != nil {
			return err
		}
		*field(c) = d
		return nil
	}
}
