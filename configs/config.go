package configs

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/certgate/certgate/ca"
)

//go:embed default.yaml
var defaultYAML []byte

// defaultSource names the embedded default in errors.
const defaultSource = "embedded default.yaml"

// Config is the configuration of `certgate serve`.
type Config struct {
	// Listen is the host:port the HTTP server (SCEP, EST) binds.
	// Default ":8080"; env CERTGATE_LISTEN.
	Listen string `yaml:"listen"`
	// PublicURL is the base URL clients reach certgate at, used where a URL
	// is handed out (CRL distribution points, OCSP, CA issuers). It must be
	// an http or https URL without query or fragment; a trailing slash is
	// removed. Default: "http://" + listen's host ("localhost" when the host
	// is empty, 0.0.0.0 or ::) + ":" + listen's port; env CERTGATE_PUBLIC_URL.
	PublicURL string `yaml:"public_url"`
	// DataDir holds the store, the CA and generated secrets; relative paths
	// elsewhere in the config are resolved against it.
	// Default "./certgate-data"; env CERTGATE_DATA_DIR.
	DataDir string `yaml:"data_dir"`
	// AdminSocket is the unix socket of the admin API.
	// Default "admin.sock" (that is, <data_dir>/admin.sock); env
	// CERTGATE_ADMIN_SOCKET.
	AdminSocket string `yaml:"admin_socket"`
	// Log configures logging.
	Log LogConfig `yaml:"log"`
	// CA configures the local issuing CA.
	CA CAConfig `yaml:"ca"`
	// HTTP configures the HTTP server's limits.
	HTTP HTTPConfig `yaml:"http"`
	// SCEP configures the SCEP front-end.
	SCEP SCEPConfig `yaml:"scep"`
	// OCSP configures the OCSP responder at /ocsp.
	OCSP OCSPConfig `yaml:"ocsp"`
	// CRL configures the CRLs at /crl/<ca>.crl.
	CRL CRLConfig `yaml:"crl"`
	// EST configures the EST front-end on its own TLS listener.
	EST ESTConfig `yaml:"est"`
	// AdminAPI configures the admin REST API on its own TLS listener.
	AdminAPI AdminAPIConfig `yaml:"admin_api"`
	// Store chooses bbolt (default) or a PostgreSQL shared by replicas.
	Store StoreConfig `yaml:"store"`
	// Upstreams are upstream CAs that profiles may issue through
	// (profiles[].issuer). YAML only.
	Upstreams []UpstreamConfig `yaml:"upstreams"`
	// Profiles are the certificate profiles; at least one, names unique.
	// Set in YAML only (no env override).
	Profiles []Profile `yaml:"profiles"`

	// envKeys maps a key path to the env var that set it, so a validation
	// error about that key can name the variable the operator must fix.
	envKeys map[string]string
}

// LogConfig configures logging.
type LogConfig struct {
	// Level is debug, info, warn or error.
	// Default "info"; env CERTGATE_LOG_LEVEL.
	Level string `yaml:"level"`
	// Format is auto, json or console; auto means console on a terminal
	// and JSON otherwise. Default "auto"; env CERTGATE_LOG_FORMAT.
	Format string `yaml:"format"`
}

// CAConfig configures the local issuing CA.
type CAConfig struct {
	// Name is the CA's name (same rule as profile names).
	// Default "certgate"; env CERTGATE_CA_NAME.
	Name string `yaml:"name"`
	// Dir holds the CA certificate and key.
	// Default "ca" (that is, <data_dir>/ca); env CERTGATE_CA_DIR.
	Dir string `yaml:"dir"`
	// KeyPassphraseEnv names the env var holding the passphrase of an
	// encrypted CA key being imported. Default none; env
	// CERTGATE_CA_KEY_PASSPHRASE_ENV. At most one of this and
	// KeyPassphraseFile.
	KeyPassphraseEnv string `yaml:"key_passphrase_env"`
	// KeyPassphraseFile is the path of a file holding that passphrase.
	// Default none; env CERTGATE_CA_KEY_PASSPHRASE_FILE.
	KeyPassphraseFile string `yaml:"key_passphrase_file"`
}

// HTTPConfig sets the HTTP server's limits. Every timeout must be > 0: an
// unbounded timeout lets slow clients hold connections forever.
type HTTPConfig struct {
	// MaxBodyBytes caps a request body, 1024 to 16 MiB.
	// Default 262144; env CERTGATE_HTTP_MAX_BODY_BYTES.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// ReadHeaderTimeout: default 5s; env CERTGATE_HTTP_READ_HEADER_TIMEOUT.
	ReadHeaderTimeout Duration `yaml:"read_header_timeout"`
	// ReadTimeout: default 30s; env CERTGATE_HTTP_READ_TIMEOUT.
	ReadTimeout Duration `yaml:"read_timeout"`
	// WriteTimeout: default 60s; env CERTGATE_HTTP_WRITE_TIMEOUT.
	WriteTimeout Duration `yaml:"write_timeout"`
	// IdleTimeout: default 120s; env CERTGATE_HTTP_IDLE_TIMEOUT.
	IdleTimeout Duration `yaml:"idle_timeout"`
	// RequestTimeout bounds the handling of one request (validation,
	// issuance, store). Default 45s; env CERTGATE_HTTP_REQUEST_TIMEOUT.
	RequestTimeout Duration `yaml:"request_timeout"`
	// ShutdownTimeout bounds the graceful drain on SIGTERM.
	// Default 30s; env CERTGATE_HTTP_SHUTDOWN_TIMEOUT.
	ShutdownTimeout Duration `yaml:"shutdown_timeout"`
}

// SCEPConfig configures the SCEP front-end.
type SCEPConfig struct {
	// DefaultProfile is the profile served at /scep (other profiles are at
	// /scep/<name>); it must name a configured profile.
	// Default "default"; env CERTGATE_SCEP_DEFAULT_PROFILE.
	DefaultProfile string `yaml:"default_profile"`
}

// Profile is one entry under `profiles:`: a certificate profile and the
// validator that guards it.
type Profile struct {
	ca.ProfileConfig `yaml:",inline"`
	// Validator decides who may enroll with this profile.
	Validator ValidatorConfig `yaml:"validator"`
	// EST holds the profile's EST settings.
	EST ProfileEST `yaml:"est"`
	// Issuer names an upstream CA (upstreams[].name) that issues for this
	// profile; default: the local CA.
	Issuer string `yaml:"issuer"`
	// Approval is "none" (default) or "manual": manual holds every new
	// enrollment (renewals excepted) until an operator approves it through
	// the admin API; SCEP answers PENDING, EST 202 with Retry-After.
	Approval string `yaml:"approval"`
	// AllowDuplicates lets a subject hold several valid certificates of
	// this profile at once. false refuses a new enrollment (not a renewal)
	// while one is valid. Default true; must be false with key escrow.
	AllowDuplicates *bool `yaml:"allow_duplicates"`
	// DeviceState turns on device-state revocation; nil (default) is off.
	DeviceState *DeviceStateConfig `yaml:"device_state"`
}

// ValidatorConfig configures a profile's validator. For the static
// validator every secret gathered from Secrets, SecretsEnv and SecretsFile
// is accepted, so a secret can be rotated by adding the new one before
// removing the old.
type ValidatorConfig struct {
	// Type is "static" (default), "intune", "jamf" or "workspaceone".
	Type string `yaml:"type"`
	// Intune configures the intune validator.
	Intune *IntuneConfig `yaml:"intune"`
	// Jamf configures the jamf validator.
	Jamf *JamfConfig `yaml:"jamf"`
	// WorkspaceOne configures the workspaceone validator.
	WorkspaceOne *WorkspaceOneConfig `yaml:"workspaceone"`
	// Secrets are inline secrets. Discouraged: the config file is often
	// world-readable or checked in; prefer SecretsEnv or SecretsFile.
	Secrets []string `yaml:"secrets"`
	// SecretsEnv names an env var holding one secret, or several separated
	// by newlines.
	SecretsEnv string `yaml:"secrets_env"`
	// SecretsFile is a path (relative to data_dir) holding one secret per
	// line; blank lines and lines starting with # are ignored.
	SecretsFile string `yaml:"secrets_file"`
	// Generate creates SecretsFile, mode 0600, holding one random secret,
	// when it does not exist.
	Generate bool `yaml:"generate"`
	// OneTime also accepts one-time challenges made through the admin API
	// (POST /api/v1/profiles/<name>/challenges), each usable once. With
	// OneTime, static secrets are optional. Default false.
	OneTime bool `yaml:"one_time"`
	// OneTimeTTL is the default lifetime of a one-time challenge; 1m..168h,
	// default 1h.
	OneTimeTTL Duration `yaml:"one_time_ttl"`
}

// HasStaticSecrets reports whether any static secret source is configured.
func (v ValidatorConfig) HasStaticSecrets() bool {
	return len(v.Secrets) > 0 || v.SecretsEnv != "" || v.SecretsFile != ""
}

// Load reads the config at path ("" means the embedded default), applies
// defaults and CERTGATE_* environment overrides read through getenv (nil
// means os.Getenv), and validates the result.
func Load(path string, getenv func(string) string) (*Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	src, data := defaultSource, defaultYAML
	if path != "" {
		src = path
		var err error
		if data, err = os.ReadFile(path); err != nil {
			return nil, fmt.Errorf("configs: %w", err)
		}
	}
	c := defaults()
	if err := decodeStrict(data, c); err != nil {
		return nil, fmt.Errorf("configs: %s: %w", src, err)
	}
	if err := c.applyEnv(getenv); err != nil {
		return nil, fmt.Errorf("configs: %w", err)
	}
	c.derive()
	if errs := c.validate(); len(errs) > 0 {
		return nil, &sourceErrors{source: src, errs: errs}
	}
	return c, nil
}

// decodeStrict decodes one YAML document into c, refusing unknown keys.
// Decoding over a Config pre-filled with defaults keeps each default whose
// key is absent, while a key present with a bad value (say "0s") is kept
// for Validate to refuse instead of being silently defaulted.
func decodeStrict(data []byte, c *Config) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // empty file: defaults only; Validate asks for profiles
		}
		return err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return errors.New("more than one YAML document; want exactly one")
	}
	return nil
}

// defaults returns a Config holding every static default.
func defaults() *Config {
	return &Config{
		Listen:      ":8080",
		DataDir:     "./certgate-data",
		AdminSocket: "admin.sock",
		Log:         LogConfig{Level: "info", Format: "auto"},
		CA:          CAConfig{Name: "certgate", Dir: "ca"},
		HTTP: HTTPConfig{
			MaxBodyBytes:      256 << 10,
			ReadHeaderTimeout: Duration(5 * time.Second),
			ReadTimeout:       Duration(30 * time.Second),
			WriteTimeout:      Duration(60 * time.Second),
			IdleTimeout:       Duration(120 * time.Second),
			RequestTimeout:    Duration(45 * time.Second),
			ShutdownTimeout:   Duration(30 * time.Second),
		},
		SCEP:     SCEPConfig{DefaultProfile: "default"},
		OCSP:     defaultOCSP(),
		CRL:      defaultCRL(),
		EST:      defaultEST(),
		AdminAPI: defaultAdminAPI(),
		Store:    defaultStore(),
	}
}

// derive fills the defaults that depend on other keys, after env overrides
// so that they follow an overridden listen address.
func (c *Config) derive() {
	if c.PublicURL == "" {
		if host, port, err := splitListen(c.Listen); err == nil {
			switch host {
			case "", "0.0.0.0", "::":
				host = "localhost"
			}
			c.PublicURL = "http://" + net.JoinHostPort(host, port)
		}
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	for i := range c.Profiles {
		if c.Profiles[i].Validator.Type == "" {
			c.Profiles[i].Validator.Type = "static"
		}
		if c.Profiles[i].Validator.OneTimeTTL == 0 {
			c.Profiles[i].Validator.OneTimeTTL = Duration(time.Hour)
		}
		if j := c.Profiles[i].Validator.Jamf; j != nil {
			if j.BindSubject == nil {
				bind := true
				j.BindSubject = &bind
			}
			if j.Webhook != nil && j.Webhook.Bind == "" {
				j.Webhook.Bind = "none"
			}
		}
		if c.Profiles[i].Approval == "" {
			c.Profiles[i].Approval = "none"
		}
		if c.Profiles[i].AllowDuplicates == nil {
			allow := true
			c.Profiles[i].AllowDuplicates = &allow
		}
		if c.Profiles[i].EST.Reenroll == "" {
			c.Profiles[i].EST.Reenroll = "self"
		}
		if k := c.Profiles[i].EST.ServerKeyGen; k != nil {
			k.applyDefaults()
		}
	}
	if c.EST.DefaultProfile == "" {
		c.EST.DefaultProfile = c.SCEP.DefaultProfile
	}
}

// ResolvePath returns p joined to DataDir when p is relative, p itself when
// absolute, and "" when p is empty.
func (c *Config) ResolvePath(p string) string {
	return resolve(c.DataDir, p)
}

func resolve(dir, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// ProfileByName returns the profile called name.
func (c *Config) ProfileByName(name string) (*Profile, bool) {
	for i := range c.Profiles {
		if c.Profiles[i].Name == name {
			return &c.Profiles[i], true
		}
	}
	return nil, false
}
