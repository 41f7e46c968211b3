package intune_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/certgate/certgate/validate/intune"
)

func TestConfigValidate(t *testing.T) {
	key, cert := selfSigned(t)
	otherKey, _ := selfSigned(t)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	base := func() intune.Config {
		return intune.Config{TenantID: "contoso.onmicrosoft.com", ClientID: "app", ClientSecret: "s3cret"}
	}
	tests := []struct {
		name string
		mod  func(*intune.Config)
		want string
	}{
		{"ok/secret", func(*intune.Config) {}, ""},
		{"ok/certificate", func(c *intune.Config) { c.ClientSecret, c.ClientCertificate, c.ClientKey = "", cert, key }, ""},
		{"ok/national cloud", func(c *intune.Config) {
			c.AuthorityURL, c.GraphURL = "https://login.microsoftonline.us/", "https://graph.microsoft.us/"
		}, ""},
		{"fail/no tenant", func(c *intune.Config) { c.TenantID = "" }, "intune: config: tenantID: required"},
		{"fail/no client", func(c *intune.Config) { c.ClientID = "" }, "intune: config: clientID: required"},
		{"fail/no credential", func(c *intune.Config) { c.ClientSecret = "" }, "intune: config: clientSecret or clientCertificate: one is required"},
		{"fail/both credentials", func(c *intune.Config) { c.ClientCertificate, c.ClientKey = cert, key }, "intune: config: clientSecret and clientCertificate: set only one"},
		{"fail/certificate without key", func(c *intune.Config) { c.ClientSecret, c.ClientCertificate = "", cert }, "intune: config: clientCertificate: needs both the certificate and its key"},
		{"fail/key not matching", func(c *intune.Config) { c.ClientSecret, c.ClientCertificate, c.ClientKey = "", cert, otherKey }, "intune: config: clientKey: does not match clientCertificate"},
		{"fail/EC key", func(c *intune.Config) { c.ClientSecret, c.ClientCertificate, c.ClientKey = "", cert, ecKey }, "intune: config: clientKey: must be RSA"},
		{"fail/negative timeout", func(c *intune.Config) { c.Timeout = -1 }, "intune: config: timeout: must not be negative"},
		{"fail/http authority", func(c *intune.Config) { c.AuthorityURL = "http://login.example/" }, "intune: config: authorityURL: must be an https URL"},
		{"fail/bad graph URL", func(c *intune.Config) { c.GraphURL = "graph.microsoft.com" }, "intune: config: graphURL: must be an https URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base()
			tt.mod(&cfg)
			v, err := intune.New(cfg)
			if tt.want == "" {
				if err != nil || v == nil {
					t.Fatalf("New = %v, %v", v, err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("New error = %v, want %q", err, tt.want)
			}
			if v != nil {
				t.Error("New returned a Validator with an error")
			}
		})
	}
}

// Printing a Config by mistake does not print its secret.
func TestConfigStringRedacts(t *testing.T) {
	cfg := intune.Config{TenantID: "t", ClientID: "app", ClientSecret: "very-secret-value"}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(verb, cfg); strings.Contains(s, "very-secret-value") {
			t.Errorf("Sprintf(%s) = %q holds the secret", verb, s)
		}
	}
	if s := fmt.Sprintf("%+v", &cfg); strings.Contains(s, "very-secret-value") {
		t.Errorf("pointer prints the secret: %q", s)
	}
}

// One Validator per registry: a second registration is an error, not a
// panic.
func TestMetricsRegisteredTwice(t *testing.T) {
	reg := prometheus.NewRegistry()
	cfg := intune.Config{TenantID: "t", ClientID: "app", ClientSecret: "s", Registerer: reg}
	if _, err := intune.New(cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := intune.New(cfg); err == nil || !strings.Contains(err.Error(), "intune: metrics: already registered") {
		t.Fatalf("second New = %v", err)
	}
}
