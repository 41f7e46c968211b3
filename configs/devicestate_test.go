package configs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const intuneProfile = `profiles:
  - name: default
    validator:
      type: intune
      intune: {tenant_id: t, client_id: c, client_secret_env: SECRET}
    device_state:
`

func TestDeviceStateConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		yaml string // appended to intuneProfile, indented under device_state
		want string
	}{
		{"fail/no source", `      interval: 1m`, `profiles[0].device_state.source: "" is not one of intune, entra, jamf, workspaceone`},
		{"fail/source needs its validator", `      source: jamf`, `profiles[0].device_state.source: jamf needs validator.type jamf`},
		{"fail/entra has no compliance", "      source: entra\n      compliance_check: true", `profiles[0].device_state.compliance_check: entra reports no compliance`},
		{"fail/interval", "      source: intune\n      interval: 500ms", `profiles[0].device_state.interval: 500ms is outside 1s..24h`},
		{"fail/on_error", "      source: intune\n      on_error: retry", `profiles[0].device_state.on_error: "retry" is not one of fail_open, fail_closed`},
		{"fail/max_staleness", "      source: intune\n      max_staleness: 1000h", `profiles[0].device_state.max_staleness: 1000h0m0s is outside`},
		{"fail/grace_period", "      source: intune\n      grace_period: -1h", `profiles[0].device_state.grace_period: -1h0m0s is outside`},
		{"fail/ocsp_good_validity above ocsp.validity", "      source: intune\n      ocsp_good_validity: 48h", `profiles[0].device_state.ocsp_good_validity: 48h0m0s is outside 1m..24h0m0s (ocsp.validity)`},
		{"fail/unknown key", "      source: intune\n      intervall: 1h", `field intervall not found`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(path, []byte(intuneProfile+tc.yaml+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path, env(map[string]string{"CERTGATE_DATA_DIR": t.TempDir()}))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load error = %v, want one containing %q", err, tc.want)
			}
		})
	}
	t.Run("ok/defaults", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "c.yaml")
		if err := os.WriteFile(path, []byte(intuneProfile+"      source: intune\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load(path, env(map[string]string{"CERTGATE_DATA_DIR": t.TempDir()}))
		if err != nil {
			t.Fatal(err)
		}
		e := c.Profiles[0].DeviceState.Effective()
		if e.Interval.Std() != time.Hour || e.OnError != "fail_open" || e.MaxStaleness.Std() != 24*time.Hour ||
			e.OCSPGoodValidity.Std() != 10*time.Minute || e.ComplianceCheck || e.GracePeriod != 0 {
			t.Fatalf("defaults: %+v", e)
		}
	})
}
