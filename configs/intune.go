package configs

import (
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"
)

// IntuneConfig configures the Microsoft Intune validator (validator.type:
// intune): Intune's SCEP challenge validation for third-party CAs, with
// success and failure notifications after issuance.
type IntuneConfig struct {
	// TenantID is the Entra tenant (GUID or domain). Required.
	TenantID string `yaml:"tenant_id"`
	// ClientID is the app registration's application ID. Required.
	ClientID string `yaml:"client_id"`
	// ClientSecretEnv or ClientSecretFile (relative to data_dir) holds the
	// app's client secret; exactly one.
	ClientSecretEnv  string `yaml:"client_secret_env"`
	ClientSecretFile string `yaml:"client_secret_file"`
	// AuthorityURL and GraphURL override the Entra login and Microsoft
	// Graph bases, for national clouds. Default: the global cloud.
	AuthorityURL string `yaml:"authority_url"`
	GraphURL     string `yaml:"graph_url"`
	// CAFile is a PEM file of extra trust anchors for those services (a
	// TLS-inspecting proxy). Default: the system roots only.
	CAFile string `yaml:"ca_file"`
	// Timeout bounds each call to Entra, Graph or Intune; 1s..5m, default
	// 30s.
	Timeout Duration `yaml:"timeout"`
	// RevocationPollInterval is how often certgate asks Intune for
	// revocations to carry out (devices wiped or unenrolled); 1s..24h,
	// default 5m; a negative value ("-1s") turns the poller off.
	RevocationPollInterval Duration `yaml:"revocation_poll_interval"`
}

func (ic *IntuneConfig) validate(p *problems, key string) {
	if ic.TenantID == "" {
		p.add(key+".tenant_id", "required")
	}
	if ic.ClientID == "" {
		p.add(key+".client_id", "required")
	}
	if (ic.ClientSecretEnv == "") == (ic.ClientSecretFile == "") {
		p.add(key, "exactly one of client_secret_env and client_secret_file is required")
	}
	checkEnvName(p, key+".client_secret_env", ic.ClientSecretEnv)
	for _, u := range []struct{ k, v string }{{"authority_url", ic.AuthorityURL}, {"graph_url", ic.GraphURL}} {
		if u.v == "" {
			continue
		}
		if pu, err := url.Parse(u.v); err != nil || pu.Scheme != "https" || pu.Host == "" {
			p.add(key+"."+u.k, "%q is not an https URL", u.v)
		}
	}
	if ri := ic.RevocationPollInterval; ri > 0 && (ri < Duration(time.Second) || ri > Duration(24*time.Hour)) {
		p.add(key+".revocation_poll_interval", "%s is outside 1s..24h (negative turns it off)", ri)
	}
	if ic.Timeout != 0 && (ic.Timeout < Duration(time.Second) || ic.Timeout > Duration(5*time.Minute)) {
		p.add(key+".timeout", "%s is outside 1s..5m", ic.Timeout)
	}
}

// LoadSecret reads the client secret from its env var or file; the error
// names the source, never the value.
func (ic IntuneConfig) LoadSecret(dataDir string, getenv func(string) string) (string, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	var v string
	if ic.ClientSecretEnv != "" {
		v = strings.TrimSpace(getenv(ic.ClientSecretEnv))
		if v == "" {
			return "", fmt.Errorf("configs: intune: client_secret_env %s is empty", ic.ClientSecretEnv)
		}
		return v, nil
	}
	b, err := os.ReadFile(resolve(dataDir, ic.ClientSecretFile))
	if err != nil {
		return "", fmt.Errorf("configs: intune: client_secret_file: %w", err)
	}
	if v = strings.TrimSpace(string(b)); v == "" {
		return "", fmt.Errorf("configs: intune: client_secret_file %s is empty", ic.ClientSecretFile)
	}
	return v, nil
}
