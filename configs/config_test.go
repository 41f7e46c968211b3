package configs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// env returns a getenv that sees only m, so no test depends on the
// environment it runs in.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadBadFiles(t *testing.T) {
	tests := []struct {
		file string
		want string
	}{
		{"bad-listen.yaml", `listen: "abc" is not host:port`},
		{"bad-listen-port.yaml", `listen: ":http": port "http" is not a number`},
		{"bad-public-url-scheme.yaml", `public_url: "ftp://example.com": scheme must be http or https`},
		{"bad-public-url-query.yaml", `public_url: "https://example.com/scep?x=1" must not have a query`},
		{"bad-data-dir.yaml", `data_dir: required`},
		{"bad-admin-socket-long.yaml", `admin_socket: "/aaaa`},
		{"bad-log-level.yaml", `log.level: "verbose" is not one of debug, info, warn, error`},
		{"bad-log-format.yaml", `log.format: "xml" is not one of auto, json, console`},
		{"bad-ocsp-signer.yaml", `ocsp.signer: "hsm" is not one of delegated, ca`},
		{"bad-ocsp-validity.yaml", `ocsp.validity: 30s is outside`},
		{"bad-ocsp-responder-validity.yaml", `ocsp.responder_validity: 72h0m0s must be at least twice ocsp.validity`},
		{"bad-ocsp-memory.yaml", `ocsp.memory_entries: -1 is outside`},
		{"bad-ocsp-max-signing.yaml", `ocsp.max_signing: -1 is outside`},
		{"bad-ocsp-signing-wait.yaml", `ocsp.signing_wait: 2m0s is outside`},
		{"bad-crl-validity.yaml", `crl.validity: 10m0s is outside`},
		{"bad-crl-debounce.yaml", `crl.debounce: 2h0m0s is outside`},
		{"bad-ca-name.yaml", `ca.name: `},
		{"bad-ca-passphrase-both.yaml", `ca: set key_passphrase_env or key_passphrase_file, not both`},
		{"bad-ca-passphrase-env.yaml", `ca.key_passphrase_env: "$CA_PASS" is not an environment variable name`},
		{"bad-max-body-low.yaml", `http.max_body_bytes: 10 is below 1024`},
		{"bad-max-body-high.yaml", `http.max_body_bytes: 1073741824 is above 16777216`},
		{"bad-timeout-zero.yaml", `http.read_timeout: 0s must be greater than 0`},
		{"bad-timeout-syntax.yaml", `line 2: "30" is not a duration`},
		{"bad-no-profiles.yaml", `profiles: at least one profile is required`},
		{"bad-duplicate-profile.yaml", `profiles[1].name: duplicate profile "x"`},
		{"bad-default-profile.yaml", `scep.default_profile: no profile named "nope" (have: default)`},
		{"bad-validator-type.yaml", `profiles[0].validator.type: unknown validator "foo" (want static, intune, jamf or workspaceone)`},
		{"bad-validator-no-secret.yaml", `profiles[0].validator: static validator needs secrets, secrets_env or secrets_file`},
		{"bad-validator-empty-secret.yaml", `profiles[0].validator.secrets[1]: empty secret`},
		{"bad-validator-secrets-env.yaml", `profiles[0].validator.secrets_env: "NOT A NAME" is not an environment variable name`},
		{"bad-validator-generate.yaml", `profiles[0].validator.generate: needs secrets_file`},
		{"bad-validity.yaml", `profiles[0].validity: `},
		{"bad-unknown-key.yaml", `line 2: field listne not found`},
		{"bad-unknown-profile-key.yaml", `line 3: field validaty not found`},
		{"bad-two-docs.yaml", `more than one YAML document`},
		{"bad-intune-no-secret.yaml", `profiles[0].validator.intune: exactly one of client_secret_env and client_secret_file is required`},
		{"bad-intune-static.yaml", `profiles[0].validator: intune takes no static secrets`},
		{"bad-store-postgres-no-dsn.yaml", `store: type postgres needs exactly one of dsn_env and dsn_file`},
		{"bad-store-type.yaml", `store.type: `},
		{"bad-jamf-nothing.yaml", `profiles[0].validator.jamf: jamf needs a static challenge (secrets, secrets_env or secrets_file) or a webhook`},
		{"bad-approval.yaml", `profiles[0].approval: `},
		{"bad-one-time-ttl.yaml", `profiles[0].validator.one_time_ttl: 10s is outside 1m..168h`},
		{"bad-admin-api-listen.yaml", `admin_api.listen: "localhost:api" is not host:port or off`},
		{"bad-est-listen.yaml", `est.listen: "localhost:https" is not host:port or off`},
		{"bad-est-cert-without-key.yaml", `est.cert_file: cert_file and key_file go together`},
		{"bad-est-host.yaml", `est.hosts[0]: "bad host" is neither an IP address nor a DNS name`},
		{"bad-est-default-profile.yaml", `est.default_profile: no profile named "nope"`},
		{"bad-est-csr-attrs.yaml", `profiles[0].est.csr_attrs: "sha256" is not a dotted OID`},
		{"bad-est-reenroll-registrar.yaml", `profiles[0].est.reenroll: registrar needs est.trusted_client_cas`},
		{"bad-est-keygen-bits.yaml", `profiles[0].est.server_keygen.bits: 1024 is not 2048, 3072 or 4096`},
		{"bad-est-escrow-duplicates.yaml", `profiles[0].est.server_keygen.escrow: needs allow_duplicates: false`},
		{"bad-est-keygen-type.yaml", `profiles[0].est.server_keygen.key_type: "ed25519" is not ecdsa or rsa`},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.file] = true
		t.Run("fail/"+strings.TrimSuffix(tt.file, ".yaml"), func(t *testing.T) {
			path := filepath.Join("testdata", tt.file)
			_, err := Load(path, env(nil))
			if err == nil {
				t.Fatalf("Load(%s) = nil error, want %q", tt.file, tt.want)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "configs: "+path+": ") {
				t.Errorf("error %q does not name the file", msg)
			}
			if !strings.Contains(msg, tt.want) {
				t.Errorf("error %q does not contain %q", msg, tt.want)
			}
			// Each file must isolate its one mistake, or the table proves less
			// than it claims.
			if strings.Contains(msg, "\n") && !strings.Contains(tt.want, "field") {
				t.Errorf("error has several problems, want one:\n%s", msg)
			}
		})
	}
	files, err := filepath.Glob(filepath.Join("testdata", "bad-*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !seen[filepath.Base(f)] {
			t.Errorf("%s has no case in this table", f)
		}
	}
}

func TestFieldErrorKey(t *testing.T) {
	_, err := Load(filepath.Join("testdata", "bad-duplicate-profile.yaml"), env(nil))
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("Load error %v is not a *FieldError", err)
	}
	if fe.Key != "profiles[1].name" || fe.Env != "" {
		t.Errorf("FieldError = {Key: %q, Env: %q}, want {profiles[1].name, \"\"}", fe.Key, fe.Env)
	}
}

func TestLoadEnv(t *testing.T) {
	tests := []struct {
		name  string
		file  string
		env   map[string]string
		check func(t *testing.T, c *Config)
		want  string // error substring; "" means success
	}{
		{name: "ok/listen", env: map[string]string{"CERTGATE_LISTEN": "127.0.0.1:9000"},
			check: func(t *testing.T, c *Config) {
				eq(t, "Listen", c.Listen, "127.0.0.1:9000")
				eq(t, "PublicURL", c.PublicURL, "http://127.0.0.1:9000")
			}},
		{name: "ok/listen-any-v6", env: map[string]string{"CERTGATE_LISTEN": "[::]:9000"},
			check: func(t *testing.T, c *Config) { eq(t, "PublicURL", c.PublicURL, "http://localhost:9000") }},
		{name: "ok/listen-v6", env: map[string]string{"CERTGATE_LISTEN": "[::1]:9000"},
			check: func(t *testing.T, c *Config) { eq(t, "PublicURL", c.PublicURL, "http://[::1]:9000") }},
		{name: "ok/env-beats-file", file: "testdata/listen-9090.yaml", env: map[string]string{"CERTGATE_LISTEN": ":7000"},
			check: func(t *testing.T, c *Config) { eq(t, "Listen", c.Listen, ":7000") }},
		{name: "ok/empty-env-is-unset", file: "testdata/listen-9090.yaml", env: map[string]string{"CERTGATE_LISTEN": ""},
			check: func(t *testing.T, c *Config) { eq(t, "Listen", c.Listen, ":9090") }},
		{name: "ok/one-time-only", file: "testdata/one-time-only.yaml",
			check: func(t *testing.T, c *Config) {
				v := c.Profiles[0].Validator
				if !v.OneTime || v.HasStaticSecrets() || v.OneTimeTTL.Std() != time.Hour || c.Profiles[0].Approval != "manual" {
					t.Errorf("validator %+v approval %q; want one-time only, TTL 1h, manual approval", v, c.Profiles[0].Approval)
				}
			}},
		{name: "ok/est-off", env: map[string]string{"CERTGATE_EST_LISTEN": "off"},
			check: func(t *testing.T, c *Config) {
				if c.EST.Enabled() {
					t.Error("EST enabled with listen off")
				}
			}},
		{name: "ok/est-default-profile-follows-scep", env: map[string]string{"CERTGATE_SCEP_DEFAULT_PROFILE": "default"},
			check: func(t *testing.T, c *Config) {
				eq(t, "EST default profile", c.EST.DefaultProfile, "default")
				eq(t, "EST reenroll", c.Profiles[0].EST.Reenroll, "self")
			}},
		{name: "ok/public-url-trailing-slash", env: map[string]string{"CERTGATE_PUBLIC_URL": "https://pki.example.com/certgate/"},
			check: func(t *testing.T, c *Config) { eq(t, "PublicURL", c.PublicURL, "https://pki.example.com/certgate") }},
		{name: "ok/data-dir-moves-relative-paths", env: map[string]string{"CERTGATE_DATA_DIR": "/srv/cg"},
			check: func(t *testing.T, c *Config) {
				eq(t, "admin socket", c.ResolvePath(c.AdminSocket), "/srv/cg/admin.sock")
				eq(t, "ca dir", c.ResolvePath(c.CA.Dir), "/srv/cg/ca")
			}},
		{name: "ok/every-other-key", env: map[string]string{
			"CERTGATE_ADMIN_SOCKET":           "/run/cg.sock",
			"CERTGATE_LOG_LEVEL":              "debug",
			"CERTGATE_LOG_FORMAT":             "json",
			"CERTGATE_CA_NAME":                "corp",
			"CERTGATE_CA_DIR":                 "/etc/cg/ca",
			"CERTGATE_CA_KEY_PASSPHRASE_FILE": "/run/secrets/ca",
			"CERTGATE_HTTP_MAX_BODY_BYTES":    "2048",
			"CERTGATE_HTTP_READ_TIMEOUT":      "1m",
			"CERTGATE_HTTP_SHUTDOWN_TIMEOUT":  "2s",
			"CERTGATE_SCEP_DEFAULT_PROFILE":   "default",
		}, check: func(t *testing.T, c *Config) {
			eq(t, "AdminSocket", c.AdminSocket, "/run/cg.sock")
			eq(t, "Log.Level", c.Log.Level, "debug")
			eq(t, "Log.Format", c.Log.Format, "json")
			eq(t, "CA.Name", c.CA.Name, "corp")
			eq(t, "CA.Dir", c.CA.Dir, "/etc/cg/ca")
			eq(t, "CA.KeyPassphraseFile", c.CA.KeyPassphraseFile, "/run/secrets/ca")
			eq(t, "HTTP.MaxBodyBytes", c.HTTP.MaxBodyBytes, 2048)
			eq(t, "HTTP.ReadTimeout", c.HTTP.ReadTimeout.Std(), time.Minute)
			eq(t, "HTTP.ShutdownTimeout", c.HTTP.ShutdownTimeout.Std(), 2*time.Second)
		}},
		{name: "fail/listen", env: map[string]string{"CERTGATE_LISTEN": "abc"},
			want: `listen (from CERTGATE_LISTEN): "abc" is not host:port`},
		{name: "fail/log-level", env: map[string]string{"CERTGATE_LOG_LEVEL": "loud"},
			want: `log.level (from CERTGATE_LOG_LEVEL): "loud" is not one of`},
		{name: "fail/max-body-syntax", env: map[string]string{"CERTGATE_HTTP_MAX_BODY_BYTES": "1MiB"},
			want: `CERTGATE_HTTP_MAX_BODY_BYTES (http.max_body_bytes): "1MiB" is not an integer`},
		{name: "fail/max-body-range", env: map[string]string{"CERTGATE_HTTP_MAX_BODY_BYTES": "1"},
			want: `http.max_body_bytes (from CERTGATE_HTTP_MAX_BODY_BYTES): 1 is below 1024`},
		{name: "fail/timeout-syntax", env: map[string]string{"CERTGATE_HTTP_IDLE_TIMEOUT": "forever"},
			want: `CERTGATE_HTTP_IDLE_TIMEOUT (http.idle_timeout): "forever" is not a duration`},
		{name: "fail/timeout-negative", env: map[string]string{"CERTGATE_HTTP_REQUEST_TIMEOUT": "-1s"},
			want: `http.request_timeout (from CERTGATE_HTTP_REQUEST_TIMEOUT): -1s must be greater than 0`},
		{name: "fail/default-profile", env: map[string]string{"CERTGATE_SCEP_DEFAULT_PROFILE": "wifi"},
			want: `scep.default_profile (from CERTGATE_SCEP_DEFAULT_PROFILE): no profile named "wifi"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(tt.file, env(tt.env))
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("Load error = %v, want one containing %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			tt.check(t, c)
		})
	}
}

func eq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func TestLoadEmbeddedDefault(t *testing.T) {
	c, err := Load("", env(nil))
	if err != nil {
		t.Fatalf("Load(embedded): %v", err)
	}
	eq(t, "Listen", c.Listen, ":8080")
	eq(t, "PublicURL", c.PublicURL, "http://localhost:8080")
	eq(t, "DataDir", c.DataDir, "./certgate-data")
	eq(t, "admin socket", c.ResolvePath(c.AdminSocket), filepath.Join("certgate-data", "admin.sock"))
	eq(t, "ca dir", c.ResolvePath(c.CA.Dir), filepath.Join("certgate-data", "ca"))
	eq(t, "Log.Level", c.Log.Level, "info")
	eq(t, "Log.Format", c.Log.Format, "auto")
	eq(t, "CA.Name", c.CA.Name, "certgate")
	eq(t, "HTTP.MaxBodyBytes", c.HTTP.MaxBodyBytes, 262144)
	eq(t, "HTTP.ReadHeaderTimeout", c.HTTP.ReadHeaderTimeout.Std(), 5*time.Second)
	eq(t, "HTTP.ReadTimeout", c.HTTP.ReadTimeout.Std(), 30*time.Second)
	eq(t, "HTTP.WriteTimeout", c.HTTP.WriteTimeout.Std(), 60*time.Second)
	eq(t, "HTTP.IdleTimeout", c.HTTP.IdleTimeout.Std(), 120*time.Second)
	eq(t, "HTTP.RequestTimeout", c.HTTP.RequestTimeout.Std(), 45*time.Second)
	eq(t, "HTTP.ShutdownTimeout", c.HTTP.ShutdownTimeout.Std(), 30*time.Second)
	eq(t, "SCEP.DefaultProfile", c.SCEP.DefaultProfile, "default")
	p, ok := c.ProfileByName("default")
	if !ok {
		t.Fatal(`ProfileByName("default") not found`)
	}
	eq(t, "validity", p.Validity, "8760h")
	eq(t, "validator type", p.Validator.Type, "static")
	eq(t, "secrets_file", p.Validator.SecretsFile, "challenge")
	eq(t, "generate", p.Validator.Generate, true)
	if _, ok := c.ProfileByName("nope"); ok {
		t.Error(`ProfileByName("nope") found a profile`)
	}
}

func TestLoadExample(t *testing.T) {
	dir := t.TempDir()
	getenv := env(map[string]string{
		"CERTGATE_DATA_DIR":       dir,
		"CERTGATE_WIFI_CHALLENGE": "wifi-one\nwifi-two\n",
	})
	c, err := Load("certgate.example.yaml", getenv)
	if err != nil {
		t.Fatalf("Load(example): %v", err)
	}
	if len(c.Profiles) != 2 {
		t.Fatalf("example has %d profiles, want 2", len(c.Profiles))
	}
	wifi, ok := c.ProfileByName("wifi")
	if !ok {
		t.Fatal("example has no wifi profile")
	}
	eq(t, "wifi san_types", strings.Join(wifi.SANTypes, ","), "dns,upn")
	got, err := wifi.Validator.LoadSecrets(c.DataDir, getenv)
	if err != nil {
		t.Fatalf("wifi LoadSecrets: %v", err)
	}
	eq(t, "wifi secrets", strings.Join(got, ","), "wifi-one,wifi-two")
	eq(t, "wifi est.csr_attrs", strings.Join(wifi.EST.CSRAttrs, ","), "1.2.840.113549.1.9.7,1.2.840.10045.4.3.2")
	if k := wifi.EST.ServerKeyGen; k == nil || k.KeyType != "ecdsa" || k.Curve != "P-256" {
		t.Errorf("wifi est.server_keygen = %+v, want ecdsa P-256", k)
	}
	eq(t, "est.listen", c.EST.Listen, ":8443")
	eq(t, "est.default_profile", c.EST.DefaultProfile, "default")
	def, _ := c.ProfileByName("default")
	if got, err := def.Validator.LoadSecrets(c.DataDir, getenv); err != nil || len(got) != 1 {
		t.Fatalf("default LoadSecrets = %d secrets, %v; want 1 generated", len(got), err)
	}
}

func TestResolvePath(t *testing.T) {
	c := &Config{DataDir: "/var/lib/certgate"}
	for _, tt := range []struct{ in, want string }{
		{"", ""},
		{"admin.sock", "/var/lib/certgate/admin.sock"},
		{"sub/../ca", "/var/lib/certgate/ca"},
		{"/run/certgate.sock", "/run/certgate.sock"},
	} {
		eq(t, "ResolvePath("+tt.in+")", c.ResolvePath(tt.in), tt.want)
	}
}

// TestValidateBuiltConfig covers a Config built in code rather than
// loaded: zero values get no silent defaults and are reported.
func TestValidateBuiltConfig(t *testing.T) {
	err := (&Config{}).Validate()
	for _, want := range []string{
		`configs: listen: "" is not host:port`,
		`configs: data_dir: required`,
		`configs: http.max_body_bytes: 0 is below 1024`,
		`configs: http.shutdown_timeout: 0s must be greater than 0`,
		`configs: profiles: at least one profile is required`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate error = %v, want one containing %q", err, want)
		}
	}
	c, err := Load("", env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate of a loaded config: %v", err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), env(nil))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Load(missing) error = %v, want ErrNotExist", err)
	}
}

// The docker compose example's config stays valid as the schema changes.
func TestLoadDeployExample(t *testing.T) {
	c, err := Load("../deploy/certgate.yaml", env(nil))
	if err != nil {
		t.Fatalf("Load(deploy/certgate.yaml): %v", err)
	}
	if c.Store.Type != "postgres" || c.Store.DSNFile == "" || c.CA.Dir != "/etc/certgate/ca" {
		t.Errorf("store %+v ca.dir %q: want postgres from a DSN file and the shared CA", c.Store, c.CA.Dir)
	}
}
