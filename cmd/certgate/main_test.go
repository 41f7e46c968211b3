package main

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certgate/certgate/configs"
)

func TestRun(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.yaml")
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr []string
	}{
		{"fail/no command", nil, 2, "", []string{"usage: certgate <command>", "serve", "version"}},
		{"ok/help", []string{"help"}, 0, "", []string{"usage: certgate <command>"}},
		{"ok/-h", []string{"-h"}, 0, "", []string{"usage: certgate <command>"}},
		{"ok/--help", []string{"--help"}, 0, "", []string{"usage: certgate <command>"}},
		{"fail/unknown command", []string{"frobnicate"}, 2, "", []string{`certgate: unknown command "frobnicate"`, "usage: certgate <command>"}},
		{"ok/version", []string{"version"}, 0, "certgate " + version + " (go", nil},
		{"ok/version -h", []string{"version", "-h"}, 0, "", []string{"Usage of certgate version"}},
		{"fail/version unknown flag", []string{"version", "--bogus"}, 2, "", []string{"certgate version: flag provided but not defined: -bogus"}},
		{"fail/ca without subcommand", []string{"ca"}, 2, "", []string{"certgate ca: ca: want a subcommand: init"}},
		{"fail/serve config missing", []string{"serve", "--config", missing}, 1, "", []string{"certgate serve: configs:", missing}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d (stderr %q)", code, tt.wantCode, stderr.String())
			}
			if tt.wantStdout == "" && stdout.Len() > 0 {
				t.Errorf("stdout = %q, want nothing", stdout.String())
			}
			if !strings.HasPrefix(stdout.String(), tt.wantStdout) {
				t.Errorf("stdout = %q, want it to start with %q", stdout.String(), tt.wantStdout)
			}
			for _, want := range tt.wantStderr {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr = %q, want it to contain %q", stderr.String(), want)
				}
			}
		})
	}
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantPos    []string
		wantReason string
		wantForce  bool
		// wantErr: nil for success, else the error class.
		wantErr error
	}{
		{"ok/no args", nil, nil, "unspecified", false, nil},
		{"ok/flags first", []string{"--reason", "keyCompromise", "ab12"}, []string{"ab12"}, "keyCompromise", false, nil},
		{"ok/flags after positional", []string{"ab12", "--reason", "superseded", "-force"}, []string{"ab12"}, "superseded", true, nil},
		{"ok/flags between positionals", []string{"a", "--reason=x", "b", "--force", "c"}, []string{"a", "b", "c"}, "x", true, nil},
		{"ok/double dash ends flags", []string{"a", "--", "-b"}, []string{"a", "-b"}, "unspecified", false, nil},
		{"ok/double dash then positionals that look like flags", []string{"--", "ab", "-cd", "--force"}, []string{"ab", "-cd", "--force"}, "unspecified", false, nil},
		{"fail/unknown flag after positional", []string{"ab12", "--nope"}, nil, "", false, &usageError{}},
		{"fail/flag without value", []string{"ab12", "--reason"}, nil, "", false, &usageError{}},
		{"fail/help", []string{"ab12", "-h"}, nil, "", false, flag.ErrHelp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := newFlagSet("test", io.Discard)
			reason := fs.String("reason", "unspecified", "")
			force := fs.Bool("force", false, "")
			pos, err := parseFlags(fs, tt.args)
			switch want := tt.wantErr.(type) {
			case nil:
				if err != nil {
					t.Fatalf("parseFlags: %v", err)
				}
			case *usageError:
				if !errors.As(err, &want) {
					t.Fatalf("parseFlags error = %v (%T), want a *usageError", err, err)
				}
				return
			default:
				if !errors.Is(err, want) {
					t.Fatalf("parseFlags error = %v, want %v", err, want)
				}
				return
			}
			if !slices.Equal(pos, tt.wantPos) || *reason != tt.wantReason || *force != tt.wantForce {
				t.Errorf("parseFlags = %q, reason %q, force %v; want %q, %q, %v", pos, *reason, *force, tt.wantPos, tt.wantReason, tt.wantForce)
			}
		})
	}
}

func TestListQuery(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	type flags struct {
		status, profile, subject, device, expiring string
		limit                                      int
	}
	tests := []struct {
		name    string
		f       flags
		want    url.Values
		wantN   int
		wantErr string
	}{
		{name: "ok/empty", want: url.Values{}, wantN: 1000},
		{name: "ok/status", f: flags{status: "revoked"}, want: url.Values{"status": {"revoked"}}, wantN: 1000},
		{name: "ok/text filters", f: flags{profile: "wifi", subject: "CN=laptop", device: "dev-9"},
			want: url.Values{"profile": {"wifi"}, "subject": {"CN=laptop"}, "device_id": {"dev-9"}}, wantN: 1000},
		{name: "ok/expiring within", f: flags{expiring: "720h"},
			want: url.Values{"expires_after": {"2026-05-01T12:00:00Z"}, "expires_before": {"2026-05-31T12:00:00Z"}}, wantN: 1000},
		{name: "ok/limit", f: flags{limit: 25}, want: url.Values{}, wantN: 25},
		{name: "fail/bad status", f: flags{status: "expired"}, wantErr: "store: unknown status expired"},
		{name: "fail/bad duration", f: flags{expiring: "a month"}, wantErr: `expiring-within: "a month" is not a positive duration`},
		{name: "fail/zero duration", f: flags{expiring: "0s"}, wantErr: `expiring-within: "0s" is not a positive duration`},
		{name: "fail/negative duration", f: flags{expiring: "-24h"}, wantErr: `expiring-within: "-24h" is not a positive duration`},
		{name: "fail/negative limit", f: flags{limit: -1}, wantErr: "limit: -1 is negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, n, err := listQuery(tt.f.status, tt.f.profile, tt.f.subject, tt.f.device, tt.f.expiring, tt.f.limit, now)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("listQuery error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("listQuery: %v", err)
			}
			if got.Encode() != tt.want.Encode() || n != tt.wantN {
				t.Errorf("listQuery = %s, %d; want %s, %d", got.Encode(), n, tt.want.Encode(), tt.wantN)
			}
		})
	}
}

func TestFixPublicURLPort(t *testing.T) {
	bound := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 43121}
	tests := []struct {
		name string
		url  string
		addr net.Addr
		want string
	}{
		{"ok/port 0 replaced", "http://localhost:0", bound, "http://localhost:43121"},
		{"ok/https with trailing slash", "https://gw.example.com:0/", bound, "https://gw.example.com:43121"},
		{"ok/ipv6 host", "http://[::1]:0", bound, "http://[::1]:43121"},
		{"ok/path kept", "http://localhost:0/certgate", bound, "http://localhost:43121/certgate"},
		{"ok/fixed port untouched", "http://localhost:8080", bound, "http://localhost:8080"},
		{"ok/no port untouched", "https://gw.example.com", bound, "https://gw.example.com"},
		{"ok/unparsable untouched", "http://%zz:0", bound, "http://%zz:0"},
		{"ok/non-TCP address untouched", "http://localhost:0", &net.UnixAddr{Name: "/run/x.sock", Net: "unix"}, "http://localhost:0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fixPublicURLPort(tt.url, tt.addr); got != tt.want {
				t.Errorf("fixPublicURLPort(%q, %v) = %q, want %q", tt.url, tt.addr, got, tt.want)
			}
		})
	}
}

func TestDescribeSecretSource(t *testing.T) {
	const inline, envValue = "inline-secret-3b9f", "env-secret-a41c"
	t.Setenv("CERTGATE_TEST_CHALLENGE", envValue)
	cfg := &configs.Config{DataDir: "/var/lib/certgate"}
	tests := []struct {
		name string
		v    configs.ValidatorConfig
		want string
	}{
		{"ok/file", configs.ValidatorConfig{SecretsFile: "challenge"}, "file /var/lib/certgate/challenge"},
		{"ok/absolute file", configs.ValidatorConfig{SecretsFile: "/etc/certgate/secret"}, "file /etc/certgate/secret"},
		{"ok/env", configs.ValidatorConfig{SecretsEnv: "CERTGATE_TEST_CHALLENGE"}, "env $CERTGATE_TEST_CHALLENGE"},
		{"ok/inline", configs.ValidatorConfig{Secrets: []string{inline}}, "inline in the config"},
		{"ok/all three", configs.ValidatorConfig{Secrets: []string{inline, "other"}, SecretsEnv: "CERTGATE_TEST_CHALLENGE", SecretsFile: "challenge"},
			"file /var/lib/certgate/challenge, env $CERTGATE_TEST_CHALLENGE, inline in the config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := describeSecretSource(cfg, tt.v)
			if got != tt.want {
				t.Errorf("describeSecretSource = %q, want %q", got, tt.want)
			}
			for _, secret := range []string{inline, envValue} {
				if strings.Contains(got, secret) {
					t.Errorf("describeSecretSource = %q holds a secret", got)
				}
			}
		})
	}
}

func TestOverrideEnv(t *testing.T) {
	base := func(k string) string { return "base-" + k }
	get := overrideEnv(base, "CERTGATE_DATA_DIR", "/flag/dir")
	if got := get("CERTGATE_DATA_DIR"); got != "/flag/dir" {
		t.Errorf("overridden key = %q, want the flag's value", got)
	}
	if got := get("CERTGATE_LISTEN"); got != "base-CERTGATE_LISTEN" {
		t.Errorf("other key = %q, want the environment's value", got)
	}
}

func TestNewLogger(t *testing.T) {
	tests := []struct {
		name     string
		lc       configs.LogConfig
		wantInfo bool
		wantJSON bool
	}{
		{"ok/json info", configs.LogConfig{Level: "info", Format: "json"}, true, true},
		{"ok/warn drops info", configs.LogConfig{Level: "warn", Format: "json"}, false, true},
		{"ok/bad level means info", configs.LogConfig{Level: "loud", Format: "json"}, true, true},
		{"ok/auto on a buffer is json", configs.LogConfig{Format: "auto"}, true, true},
		{"ok/console", configs.LogConfig{Level: "info", Format: "console"}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := newLogger(tt.lc, &buf)
			log.Info().Msg("info-line")
			log.Warn().Msg("warn-line")
			out := buf.String()
			if strings.Contains(out, "info-line") != tt.wantInfo {
				t.Errorf("info logged = %v, want %v: %s", !tt.wantInfo, tt.wantInfo, out)
			}
			if !strings.Contains(out, "warn-line") {
				t.Errorf("warn not logged: %s", out)
			}
			if strings.HasPrefix(out, "{") != tt.wantJSON {
				t.Errorf("JSON = %v, want %v: %s", !tt.wantJSON, tt.wantJSON, out)
			}
		})
	}
}
