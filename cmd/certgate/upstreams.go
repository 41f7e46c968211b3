package main

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/certgate/certgate/ca/upstream"
	"github.com/certgate/certgate/configs"
	"github.com/certgate/certgate/enroll"
)

// buildUpstreams makes the configured upstream CAs' forwarders, by name.
func buildUpstreams(cfg *configs.Config, reg prometheus.Registerer, getenv func(string) string) (map[string]enroll.Forwarder, error) {
	out := map[string]enroll.Forwarder{}
	for i, uc := range cfg.Upstreams {
		f, err := buildUpstream(cfg, uc, reg, getenv)
		if err != nil {
			return nil, fmt.Errorf("upstreams[%d] (%s): %w", i, uc.Name, err)
		}
		out[uc.Name] = f
	}
	return out, nil
}

func buildUpstream(cfg *configs.Config, uc configs.UpstreamConfig, reg prometheus.Registerer, getenv func(string) string) (enroll.Forwarder, error) {
	var roots *x509.CertPool
	if uc.CAFile != "" {
		b, err := os.ReadFile(cfg.ResolvePath(uc.CAFile))
		if err != nil {
			return nil, fmt.Errorf("ca_file: %w", err)
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("ca_file %s holds no PEM certificate", uc.CAFile)
		}
	}
	if uc.Type == "est" {
		ec := upstream.ESTConfig{Name: uc.Name, BaseURL: uc.URL, Roots: roots, Timeout: uc.Timeout.Std(), Registerer: reg}
		if uc.ClientCertFile != "" {
			pass, err := secretFrom(cfg, uc.ClientKeyPassphraseEnv, uc.ClientKeyPassphraseFile, getenv)
			if err != nil {
				return nil, fmt.Errorf("client key passphrase: %w", err)
			}
			c, err := upstream.LoadClientCert(cfg.ResolvePath(uc.ClientCertFile), cfg.ResolvePath(uc.ClientKeyFile), []byte(pass))
			if err != nil {
				return nil, err
			}
			ec.ClientCert = c
		}
		if uc.Username != "" {
			ec.Username = uc.Username
			if ec.Password = strings.TrimSpace(getenv(uc.PasswordEnv)); ec.Password == "" {
				return nil, fmt.Errorf("password_env %s is empty", uc.PasswordEnv)
			}
		}
		return upstream.NewEST(ec)
	}
	certPEM, err := os.ReadFile(cfg.ResolvePath(uc.RACertFile))
	if err != nil {
		return nil, fmt.Errorf("ra_cert_file: %w", err)
	}
	block, _ := pem.Decode(certPEM)
	if block == nil {
		return nil, fmt.Errorf("ra_cert_file %s holds no PEM certificate", uc.RACertFile)
	}
	raCert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("ra_cert_file: %w", err)
	}
	tlsCert, err := upstream.LoadClientCert(cfg.ResolvePath(uc.RACertFile), cfg.ResolvePath(uc.RAKeyFile), nil)
	if err != nil {
		return nil, fmt.Errorf("ra_key_file: %w", err)
	}
	raKey, ok := tlsCert.PrivateKey.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("ra_key_file: not a signing key")
	}
	sc := upstream.SCEPConfig{Name: uc.Name, URL: uc.URL, Roots: roots, RACert: raCert, RAKey: raKey,
		Timeout: uc.Timeout.Std(), Registerer: reg}
	if uc.ChallengeEnv != "" {
		if sc.Challenge = strings.TrimSpace(getenv(uc.ChallengeEnv)); sc.Challenge == "" {
			return nil, fmt.Errorf("challenge_env %s is empty", uc.ChallengeEnv)
		}
	}
	return upstream.NewSCEP(sc)
}

// secretFrom reads a secret from an env var or a file (relative to
// data_dir); neither set is the empty secret.
func secretFrom(cfg *configs.Config, env, file string, getenv func(string) string) (string, error) {
	switch {
	case env != "":
		return strings.TrimSpace(getenv(env)), nil
	case file != "":
		b, err := os.ReadFile(cfg.ResolvePath(file))
		if err != nil {
			return "", err
		}
		return strings.TrimSpace(string(b)), nil
	}
	return "", nil
}
