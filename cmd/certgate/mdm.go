package main

import (
	"context"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/certgate/certgate/configs"
	"github.com/certgate/certgate/validate"
	"github.com/certgate/certgate/validate/intune"
	"github.com/certgate/certgate/validate/jamf"
	"github.com/certgate/certgate/validate/workspaceone"
)

// mdmValidators builds MDM validators. Profiles with the same MDM
// settings share one client (one token cache, one discovery cache, one
// set of metrics).
type mdmValidators struct {
	reg    prometheus.Registerer
	byConf map[configs.IntuneConfig]*intune.Validator
	// jamfMetrics are shared by every Jamf webhook and checker.
	jamfMetrics *jamf.Metrics
	// webhooks are the Jamf SCEPChallenge endpoints, by path, served on
	// the EST listener (TLS, reachable by Jamf Cloud).
	webhooks map[string]http.Handler
	// jamfCheckers and ws1Checkers are the device checkers of jamf and
	// workspaceone profiles, by profile name, for device-state checks.
	jamfCheckers map[string]*jamf.DeviceChecker
	ws1Checkers  map[string]*workspaceone.Checker
}

// run runs each Intune tenant's revocation poller until ctx ends.
func (m *mdmValidators) run(ctx context.Context, rv intune.Revoker, log zerolog.Logger) {
	var wg sync.WaitGroup
	for ic, v := range m.byConf {
		if ic.RevocationPollInterval < 0 {
			continue
		}
		p := &intune.Poller{Validator: v, Revoker: rv, Interval: ic.RevocationPollInterval.Std(),
			Log: log.With().Str("tenant", ic.TenantID).Logger()}
		wg.Go(func() { p.Run(ctx) })
	}
	wg.Wait()
}

func (m *mdmValidators) intune(cfg *configs.Config, ic configs.IntuneConfig, getenv func(string) string) (*intune.Validator, error) {
	if v, ok := m.byConf[ic]; ok {
		return v, nil
	}
	secret, err := ic.LoadSecret(cfg.DataDir, getenv)
	if err != nil {
		return nil, err
	}
	c := intune.Config{
		TenantID: ic.TenantID, ClientID: ic.ClientID, ClientSecret: secret,
		AuthorityURL: ic.AuthorityURL, GraphURL: ic.GraphURL, Timeout: ic.Timeout.Std(),
	}
	if ic.CAFile != "" {
		roots, err := rootsWith(cfg, ic.CAFile)
		if err != nil {
			return nil, fmt.Errorf("intune.ca_file: %w", err)
		}
		c.RootCAs = roots
	}
	if len(m.byConf) == 0 {
		c.Registerer = m.reg // metrics once; they carry no per-profile label
	}
	v, err := intune.New(c)
	if err != nil {
		return nil, err
	}
	if m.byConf == nil {
		m.byConf = map[configs.IntuneConfig]*intune.Validator{}
	}
	m.byConf[ic] = v
	return v, nil
}

// jamfValidator builds a jamf profile's validator: the static challenge
// and/or the webhook's one-time challenges, bound to the Jamf subject and
// checked against Jamf Pro when configured. Its webhook, if any, is
// registered for the EST listener.
func (m *mdmValidators) jamfValidator(cfg *configs.Config, pc configs.Profile, st validatorStore, getenv func(string) string) (validate.Validator, error) {
	jc := pc.Validator.Jamf
	if m.jamfMetrics == nil && m.reg != nil {
		jm, err := jamf.NewMetrics(m.reg)
		if err != nil {
			return nil, err
		}
		m.jamfMetrics = jm
	}
	vc := pc.Validator
	vc.OneTime = vc.OneTime || jc.Webhook != nil
	base, err := buildValidator(cfg, vc, st, getenv)
	if err != nil {
		return nil, err
	}
	if w := jc.Webhook; w != nil {
		pass := strings.TrimSpace(getenv(w.PasswordEnv))
		if pass == "" {
			return nil, fmt.Errorf("jamf.webhook.password_env %s is empty", w.PasswordEnv)
		}
		bind := map[string]jamf.BindTo{"none": jamf.BindNone, "payload": jamf.BindPayloadIdentifier, "udid": jamf.BindDeviceUDID}[w.Bind]
		hook, err := jamf.NewWebhook(jamf.WebhookConfig{Profile: pc.Name, Username: w.Username, Password: pass,
			Store: st, TTL: w.TTL.Std(), Bind: bind, Metrics: m.jamfMetrics})
		if err != nil {
			return nil, err
		}
		if m.webhooks == nil {
			m.webhooks = map[string]http.Handler{}
		}
		m.webhooks["/jamf/"+pc.Name+"/scep-challenge"] = hook
	}
	if jc.BindSubject != nil && !*jc.BindSubject {
		return base, nil
	}
	var devices jamf.DeviceLookup
	if a := jc.API; a != nil {
		secret := strings.TrimSpace(getenv(a.ClientSecretEnv))
		if secret == "" {
			return nil, fmt.Errorf("jamf.api.client_secret_env %s is empty", a.ClientSecretEnv)
		}
		cc := jamf.CheckerConfig{URL: a.URL, ClientID: a.ClientID, ClientSecret: secret, Timeout: a.Timeout.Std(), Metrics: m.jamfMetrics}
		if a.CAFile != "" {
			roots, err := rootsWith(cfg, a.CAFile)
			if err != nil {
				return nil, fmt.Errorf("jamf.api.ca_file: %w", err)
			}
			cc.RootCAs = roots
		}
		checker, err := jamf.NewDeviceChecker(cc)
		if err != nil {
			return nil, err
		}
		devices = checker
		if m.jamfCheckers == nil {
			m.jamfCheckers = map[string]*jamf.DeviceChecker{}
		}
		m.jamfCheckers[pc.Name] = checker
	}
	return jamf.NewSubjectBinding(base, devices)
}

// rootsWith is the system roots plus the PEM certificates in file.
func rootsWith(cfg *configs.Config, file string) (*x509.CertPool, error) {
	pemBytes, err := os.ReadFile(cfg.ResolvePath(file))
	if err != nil {
		return nil, err
	}
	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	if !roots.AppendCertsFromPEM(pemBytes) {
		return nil, fmt.Errorf("%s holds no PEM certificate", file)
	}
	return roots, nil
}

// workspaceOneValidator builds a workspaceone profile's validator: its
// challenge (static or one-time), then the device check.
func (m *mdmValidators) workspaceOneValidator(cfg *configs.Config, pc configs.Profile, st validatorStore, getenv func(string) string) (validate.Validator, error) {
	wc := pc.Validator.WorkspaceOne
	base, err := buildValidator(cfg, pc.Validator, st, getenv)
	if err != nil {
		return nil, err
	}
	c := workspaceone.Config{APIURL: wc.APIURL, Username: wc.Username, Timeout: wc.Timeout.Std(),
		Lookup: wc.Lookup, DeviceKey: wc.DeviceKey, RequireEnrolled: wc.RequireEnrolled, Registerer: m.reg}
	if c.Password = strings.TrimSpace(getenv(wc.PasswordEnv)); c.Password == "" {
		return nil, fmt.Errorf("workspaceone.password_env %s is empty", wc.PasswordEnv)
	}
	if c.TenantCode = strings.TrimSpace(getenv(wc.TenantCodeEnv)); c.TenantCode == "" {
		return nil, fmt.Errorf("workspaceone.tenant_code_env %s is empty", wc.TenantCodeEnv)
	}
	if wc.CAFile != "" {
		if c.RootCAs, err = rootsWith(cfg, wc.CAFile); err != nil {
			return nil, fmt.Errorf("workspaceone.ca_file: %w", err)
		}
	}
	checker, err := workspaceone.NewChecker(c)
	if err != nil {
		return nil, err
	}
	if m.ws1Checkers == nil {
		m.ws1Checkers = map[string]*workspaceone.Checker{}
	}
	m.ws1Checkers[pc.Name] = checker
	return workspaceone.NewValidator(base, checker, c)
}
