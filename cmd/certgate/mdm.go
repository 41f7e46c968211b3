package main

import (
	"context"
	"crypto/x509"
	"fmt"
	"os"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/certgate/certgate/configs"
	"github.com/certgate/certgate/validate/intune"
)

// mdmValidators builds MDM validators. Profiles with the same MDM
// settings share one client (one token cache, one discovery cache, one
// set of metrics).
type mdmValidators struct {
	reg    prometheus.Registerer
	byConf map[configs.IntuneConfig]*intune.Validator
}

// run starts each Intune tenant's revocation poller until ctx ends.
func (m *mdmValidators) run(ctx context.Context, rv intune.Revoker, log zerolog.Logger) {
	for ic, v := range m.byConf {
		if ic.RevocationPollInterval < 0 {
			continue
		}
		p := &intune.Poller{Validator: v, Revoker: rv, Interval: ic.RevocationPollInterval.Std(),
			Log: log.With().Str("tenant", ic.TenantID).Logger()}
		go p.Run(ctx)
	}
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
		pemBytes, err := os.ReadFile(cfg.ResolvePath(ic.CAFile))
		if err != nil {
			return nil, fmt.Errorf("intune.ca_file: %w", err)
		}
		roots, err := x509.SystemCertPool()
		if err != nil {
			roots = x509.NewCertPool()
		}
		if !roots.AppendCertsFromPEM(pemBytes) {
			return nil, fmt.Errorf("intune.ca_file: %s holds no PEM certificate", ic.CAFile)
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
