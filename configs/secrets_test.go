package configs

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadSecrets(t *testing.T) {
	const envName = "CERTGATE_X"
	tests := []struct {
		name string
		v    ValidatorConfig
		env  map[string]string
		file string // contents of <dataDir>/secrets, when non-empty
		want []string
		err  string // error substring; "" means success
	}{
		{name: "ok/inline", v: ValidatorConfig{Secrets: []string{"in-1", "in-2"}}, want: []string{"in-1", "in-2"}},
		{name: "ok/env-one", v: ValidatorConfig{SecretsEnv: envName}, env: map[string]string{envName: "env-1"}, want: []string{"env-1"}},
		{name: "ok/env-lines", v: ValidatorConfig{SecretsEnv: envName},
			env: map[string]string{envName: "env-1\r\n\n  env-2  \n"}, want: []string{"env-1", "env-2"}},
		{name: "ok/file", v: ValidatorConfig{SecretsFile: "secrets"},
			file: "# rotated 2025-01\nfile-1\n\n  # old one below\nfile-2\r\n", want: []string{"file-1", "file-2"}},
		{name: "ok/all-three", v: ValidatorConfig{Secrets: []string{"in-1"}, SecretsEnv: envName, SecretsFile: "secrets"},
			env: map[string]string{envName: "env-1"}, file: "file-1\n", want: []string{"in-1", "env-1", "file-1"}},
		{name: "fail/env-unset", v: ValidatorConfig{Secrets: []string{"in-1"}, SecretsEnv: envName},
			err: "configs: validator: secrets_env CERTGATE_X is empty"},
		{name: "fail/env-blank", v: ValidatorConfig{SecretsEnv: envName}, env: map[string]string{envName: "\n \n"},
			err: "configs: validator: secrets_env CERTGATE_X is empty"},
		{name: "fail/file-missing", v: ValidatorConfig{Secrets: []string{"in-1"}, SecretsFile: "secrets"},
			err: "configs: validator: secrets_file: open "},
		{name: "fail/file-only-comments", v: ValidatorConfig{SecretsEnv: envName, SecretsFile: "secrets"},
			env: map[string]string{envName: "env-1"}, file: "# nothing yet\n\n",
			err: "secrets holds no secret"},
		{name: "fail/inline-blank", v: ValidatorConfig{Secrets: []string{"in-1", " "}}, err: "configs: validator: secrets[1] is empty"},
		{name: "fail/none", v: ValidatorConfig{}, err: "configs: validator: no secrets, secrets_env or secrets_file configured"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.file != "" {
				if err := os.WriteFile(filepath.Join(dir, "secrets"), []byte(tt.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			got, err := tt.v.LoadSecrets(dir, env(tt.env))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("LoadSecrets error = %v, want one containing %q", err, tt.err)
				}
				for _, s := range []string{"in-1", "env-1", "file-1"} {
					if strings.Contains(err.Error(), s) {
						t.Errorf("error %q leaks secret %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadSecrets: %v", err)
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("LoadSecrets = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLoadSecretsGenerate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "not-yet") // first start: no data dir
	v := ValidatorConfig{SecretsFile: "challenge", Generate: true}
	first, err := v.LoadSecrets(dir, env(nil))
	if err != nil {
		t.Fatalf("LoadSecrets (generate): %v", err)
	}
	if len(first) != 1 {
		t.Fatalf("generated %d secrets, want 1", len(first))
	}
	// Hex only: it must survive a PrintableString challengePassword.
	raw, err := hex.DecodeString(first[0])
	if err != nil || len(raw) != 16 {
		t.Errorf("generated secret is not 16 bytes of hex (%d bytes, %v)", len(raw), err)
	}
	fi, err := os.Stat(filepath.Join(dir, "challenge"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("generated file mode = %v, want 0600", fi.Mode().Perm())
	}
	second, err := v.LoadSecrets(dir, env(nil))
	if err != nil {
		t.Fatalf("LoadSecrets (reuse): %v", err)
	}
	if len(second) != 1 || second[0] != first[0] {
		t.Error("second LoadSecrets did not reuse the generated secret")
	}
}
