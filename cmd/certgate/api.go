package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/rs/zerolog"

	"github.com/certgate/certgate/ca/escrow"
	"github.com/certgate/certgate/ca/local"
	"github.com/certgate/certgate/cmd/certgate/adminapi"
	"github.com/certgate/certgate/configs"
	"github.com/certgate/certgate/enroll"
	"github.com/certgate/certgate/store"
	"github.com/certgate/certgate/validate"
)

// apiOptions builds the admin API's options. enr, c and sealer may be nil
// (the CLI without a server has no enrollment service), which turns the
// routes needing them into 501s.
func apiOptions(cfg *configs.Config, st recordStore, rv adminapi.Revoker, auth adminapi.Authenticator, enr *enroll.Service, c *local.CA, sealer *escrow.Sealer) adminapi.Options {
	profiles := make(map[string]adminapi.ProfileInfo, len(cfg.Profiles))
	for _, p := range cfg.Profiles {
		info := adminapi.ProfileInfo{OneTime: p.Validator.OneTime, OneTimeTTL: p.Validator.OneTimeTTL.Std(),
			Static: p.Validator.Type == "static"}
		if info.Static && p.Validator.HasStaticSecrets() {
			// Hashes only: a failure to read a secret here leaves the
			// config's secrets unretired by rotation, which serve reports.
			if secrets, err := p.Validator.LoadSecrets(cfg.DataDir, os.Getenv); err == nil {
				for _, sec := range secrets {
					info.StaticHashes = append(info.StaticHashes, validate.ChallengeHash(sec))
				}
			}
		}
		profiles[p.Name] = info
	}
	opts := adminapi.Options{Store: st, Revoker: rv, Auth: auth, Profiles: profiles}
	if enr != nil {
		opts.TestIssuer = testIssuer{enr}
	}
	if c != nil {
		opts.AdminCerts = adminCertIssuer{ca: c, st: st}
	}
	if sealer != nil {
		opts.Keys = keyRecoverer{sealer}
	}
	return opts
}

// testCertValidity is the lifetime of an admin's test certificate.
const testCertValidity = time.Hour

// testIssuer runs a test certificate through the enrollment service.
type testIssuer struct{ enr *enroll.Service }

// IssueTest tries an ECDSA key first and an RSA one if the profile takes
// no ECDSA.
func (t testIssuer) IssueTest(ctx context.Context, profile, by string) (*store.CertRecord, []byte, error) {
	var lastErr error
	for _, gen := range []func() (crypto.Signer, error){
		func() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) },
		func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, 2048) },
	} {
		key, err := gen()
		if err != nil {
			return nil, nil, err
		}
		id := make([]byte, 4)
		_, _ = rand.Read(id)
		der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
			Subject: pkix.Name{CommonName: "certgate-test-" + hex.EncodeToString(id)},
		}, key)
		if err != nil {
			return nil, nil, err
		}
		csr, err := x509.ParseCertificateRequest(der)
		if err != nil {
			return nil, nil, err
		}
		res, err := t.enr.Enroll(ctx, &enroll.Request{
			Protocol: "api", Profile: profile, CSR: csr, RawCSR: der,
			AuthorizedBy: "admin API test certificate by " + by, Test: true, MaxValidity: testCertValidity,
		})
		if err != nil {
			lastErr = err
			if enroll.AsFailure(err).Reason == enroll.BadAlg {
				continue
			}
			return nil, nil, err
		}
		keyDER, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, nil, err
		}
		return res.Record, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
	}
	return nil, nil, lastErr
}

// adminCertIssuer signs admin client certificates and records them under
// adminapi.AdminProfile before they are handed out.
type adminCertIssuer struct {
	ca *local.CA
	st store.Store
}

// IssueAdminCert implements adminapi.AdminCertIssuer.
func (a adminCertIssuer) IssueAdminCert(ctx context.Context, csr *x509.CertificateRequest, name string, role adminapi.Role, validity time.Duration) (*store.CertRecord, error) {
	cert, err := a.ca.IssueAdminClient(csr.PublicKey, name, adminapi.AdminCertOrg, role.String(), validity)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	rec := &store.CertRecord{
		Serial: cert.SerialNumber, SerialHex: store.SerialHex(cert.SerialNumber), Issuer: a.ca.Name(),
		Subject: cert.Subject.String(), CommonName: cert.Subject.CommonName,
		NotBefore: cert.NotBefore, NotAfter: cert.NotAfter, Profile: adminapi.AdminProfile, Protocol: "api",
		Status: store.StatusReserved, CreatedAt: now,
	}
	if err := a.st.Reserve(ctx, rec); err != nil {
		return nil, fmt.Errorf("record admin certificate: %w", err)
	}
	rec.DER, rec.Status, rec.IssuedAt = cert.Raw, store.StatusValid, now
	if err := a.st.Issue(ctx, rec); err != nil {
		return nil, fmt.Errorf("record admin certificate: %w", err)
	}
	return rec, nil
}

// keyRecoverer opens escrowed keys with the data dir's escrow key.
type keyRecoverer struct{ s *escrow.Sealer }

// RecoverKey implements adminapi.KeyRecoverer.
func (k keyRecoverer) RecoverKey(_ context.Context, rec *store.CertRecord) ([]byte, error) {
	return k.s.Open(rec.SerialHex, rec.EscrowedKey)
}

// apiListener is the admin API's running TLS server.
type apiListener struct {
	srv *http.Server
	ln  net.Listener
}

// startAPI listens on admin_api.listen with TLS: a server certificate from
// the CA (in <data_dir>/api/), and client certificates verified against
// the issuing CA when given (admin certificates; bearer tokens need none).
func startAPI(cfg *configs.Config, g *gateway, log zerolog.Logger) (*apiListener, error) {
	if !cfg.AdminAPI.Enabled() {
		return nil, nil
	}
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	if h, _, err := net.SplitHostPort(cfg.AdminAPI.Listen); err == nil && h != "" && h != "0.0.0.0" && h != "::" {
		hosts = append(hosts, h)
	}
	hosts = dedupe(append(hosts, cfg.AdminAPI.Hosts...))
	cert, _, err := g.ca.ServerTLS(cfg.ResolvePath("api"), hosts, estServerValidity)
	if err != nil {
		return nil, fmt.Errorf("admin API server certificate: %w", err)
	}
	clientCAs := x509.NewCertPool()
	clientCAs.AddCert(g.ca.Certificate())
	ln, err := net.Listen("tcp", cfg.AdminAPI.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s (admin_api.listen): %w", cfg.AdminAPI.Listen, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/v1/", g.httpMetrics.wrap("api", g.api.Handler()))
	srv := &http.Server{
		Handler:   withRequestContext(log, cfg.HTTP.RequestTimeout.Std(), mux),
		ConnState: g.conns.hook,
		TLSConfig: &tls.Config{
			MinVersion:   tls.VersionTLS12,
			Certificates: []tls.Certificate{*cert},
			ClientAuth:   tls.VerifyClientCertIfGiven,
			ClientCAs:    clientCAs,
		},
		ReadHeaderTimeout: cfg.HTTP.ReadHeaderTimeout.Std(),
		ReadTimeout:       cfg.HTTP.ReadTimeout.Std(),
		// A CSV export of a large inventory streams for a while.
		WriteTimeout:   10 * time.Minute,
		IdleTimeout:    cfg.HTTP.IdleTimeout.Std(),
		MaxHeaderBytes: 32 << 10,
	}
	return &apiListener{srv: srv, ln: ln}, nil
}

func (a *apiListener) url() string {
	host, port, _ := net.SplitHostPort(a.ln.Addr().String())
	return "https://" + net.JoinHostPort(host, port) + "/api/v1/"
}

// dedupe keeps the first of each string.
func dedupe(in []string) []string {
	seen := map[string]bool{}
	out := in[:0]
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// errNoServer is returned when a command needs the running server.
var errNoServer = errors.New("this command needs the running server (certgate serve)")
