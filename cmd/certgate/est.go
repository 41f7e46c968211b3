package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/rs/zerolog"

	"github.com/certgate/certgate/configs"
	"github.com/certgate/certgate/enroll"
	"github.com/certgate/certgate/est"
)

// estServerValidity is the lifetime of the EST server certificate the
// gateway issues itself; it is renewed at a start within its last third.
const estServerValidity = 365 * 24 * time.Hour

// buildEST wires the EST front-end from the config; upstreams are the
// CAs profiles with an issuer forward to, whose chains their cacerts
// serve.
func buildEST(cfg *configs.Config, g *gateway, upstreams map[string]enroll.Forwarder) (*est.Server, error) {
	profiles := make(map[string]est.Profile, len(cfg.Profiles))
	for i, pc := range cfg.Profiles {
		oids, err := configs.ParseOIDs(pc.EST.CSRAttrs)
		if err != nil {
			return nil, fmt.Errorf("profiles[%d].est.csr_attrs: %w", i, err)
		}
		p := est.Profile{
			RequireChannelBinding: pc.EST.RequireChannelBinding,
			ReenrollByRegistrar:   pc.EST.Reenroll == "registrar",
		}
		if pc.EST.CSRAttrs != nil {
			p.CSRAttrs = oids
		}
		if u, ok := upstreams[pc.Issuer]; ok {
			p.Chain = u.Chain
		}
		if k := pc.EST.ServerKeyGen; k != nil {
			p.ServerKeyGen = &est.KeySpec{Type: k.KeyType, Bits: k.Bits, Curve: k.Curve}
		}
		profiles[pc.Name] = p
	}
	var trusted *x509.CertPool
	if len(cfg.EST.TrustedClientCAs) > 0 {
		trusted = x509.NewCertPool()
		for i, f := range cfg.EST.TrustedClientCAs {
			data, err := os.ReadFile(cfg.ResolvePath(f))
			if err != nil {
				return nil, fmt.Errorf("est.trusted_client_cas[%d]: %w", i, err)
			}
			if !trusted.AppendCertsFromPEM(data) {
				return nil, fmt.Errorf("est.trusted_client_cas[%d]: %s holds no PEM certificate", i, f)
			}
		}
	}
	return est.New(est.Options{
		Enroller:         g.enroller,
		CACerts:          g.ca.Chain(),
		DefaultProfile:   cfg.EST.DefaultProfile,
		Profiles:         profiles,
		TrustedClientCAs: trusted,
		MaxBodyBytes:     cfg.HTTP.MaxBodyBytes,
	})
}

// estTLSConfig returns the EST listener's TLS settings: TLS 1.2 or later,
// client certificates requested but not required (simplereenroll and
// trusted-issuer authentication need them; Basic needs none), and the
// configured server certificate or one the CA issues itself.
func estTLSConfig(cfg *configs.Config, g *gateway) (*tls.Config, error) {
	var cert *tls.Certificate
	if cfg.EST.CertFile != "" {
		c, err := tls.LoadX509KeyPair(cfg.ResolvePath(cfg.EST.CertFile), cfg.ResolvePath(cfg.EST.KeyFile))
		if err != nil {
			return nil, fmt.Errorf("est.cert_file/key_file: %w", err)
		}
		cert = &c
	} else {
		c, _, err := g.ca.ServerTLS(cfg.ResolvePath("est"), estHosts(cfg), estServerValidity)
		if err != nil {
			return nil, fmt.Errorf("est server certificate: %w", err)
		}
		cert = c
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{*cert},
		// The handshake proves the client holds its certificate's key;
		// est decides what the certificate is worth.
		ClientAuth: tls.RequestClientCert,
	}, nil
}

// estHosts are the names the generated server certificate carries.
func estHosts(cfg *configs.Config) []string {
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	if h, err := os.Hostname(); err == nil && h != "" {
		hosts = append(hosts, h)
	}
	if u, err := url.Parse(cfg.PublicURL); err == nil && u.Hostname() != "" {
		hosts = append(hosts, u.Hostname())
	}
	if h, _, err := net.SplitHostPort(cfg.EST.Listen); err == nil && h != "" && h != "0.0.0.0" && h != "::" {
		hosts = append(hosts, h)
	}
	return dedupe(append(hosts, cfg.EST.Hosts...))
}

// estListener is the running EST server.
type estListener struct {
	srv *http.Server
	ln  net.Listener
}

// startEST listens on est.listen with TLS; it returns nil when EST is off.
func startEST(cfg *configs.Config, g *gateway, log zerolog.Logger) (*estListener, error) {
	if !cfg.EST.Enabled() {
		return nil, nil
	}
	tlsCfg, err := estTLSConfig(cfg, g)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.EST.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s (est.listen): %w", cfg.EST.Listen, err)
	}
	mux := http.NewServeMux()
	mux.Handle(est.PathPrefix, g.httpMetrics.wrap("est", g.est.Handler()))
	for path, h := range g.mdm.webhooks {
		mux.Handle("POST "+path, g.httpMetrics.wrap("jamf_webhook", h))
	}
	srv := &http.Server{
		Handler:           withRequestContext(log, cfg.HTTP.RequestTimeout.Std(), mux),
		ConnState:         g.conns.hook,
		TLSConfig:         tlsCfg,
		ReadHeaderTimeout: cfg.HTTP.ReadHeaderTimeout.Std(),
		ReadTimeout:       cfg.HTTP.ReadTimeout.Std(),
		WriteTimeout:      cfg.HTTP.WriteTimeout.Std(),
		IdleTimeout:       cfg.HTTP.IdleTimeout.Std(),
		MaxHeaderBytes:    32 << 10,
	}
	return &estListener{srv: srv, ln: ln}, nil
}

// url is the EST base URL for the banner.
func (e *estListener) url() string {
	host, port, _ := net.SplitHostPort(e.ln.Addr().String())
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return "https://" + net.JoinHostPort(host, port) + est.PathPrefix
}
