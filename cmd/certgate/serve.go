package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"

	"github.com/certgate/certgate/ca/local"
	"github.com/certgate/certgate/ca/ocsp"
	"github.com/certgate/certgate/cmd/certgate/adminapi"
	"github.com/certgate/certgate/configs"
	"github.com/certgate/certgate/enroll"
	"github.com/certgate/certgate/scep"
	"github.com/certgate/certgate/store"
)

func runServe(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", stderr)
	configPath := fs.String("config", "", "YAML config file (default: the embedded default)")
	dataDir := fs.String("data-dir", "", "data directory (overrides data_dir and CERTGATE_DATA_DIR)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	getenv := os.Getenv
	if *dataDir != "" {
		getenv = overrideEnv(os.Getenv, "CERTGATE_DATA_DIR", *dataDir)
	}
	cfg, err := configs.Load(*configPath, getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log, stderr)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	return serve(ctx, cfg, log, stdout)
}

// overrideEnv makes a flag win over the environment for one variable.
func overrideEnv(getenv func(string) string, key, value string) func(string) string {
	return func(k string) string {
		if k == key {
			return value
		}
		return getenv(k)
	}
}

// serve runs the gateway until ctx is cancelled, then drains in-flight
// requests and closes the store.
func serve(ctx context.Context, cfg *configs.Config, log zerolog.Logger, stdout io.Writer) error {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	defer ln.Close()
	cfg.PublicURL = fixPublicURLPort(cfg.PublicURL, ln.Addr())

	g, err := build(cfg, log)
	if err != nil {
		return err
	}
	defer func() {
		if err := g.stores.Close(); err != nil {
			log.Error().Err(err).Msg("close store")
		}
	}()

	lean := &leanHTTP{
		handler:       routes(g, log),
		maxHeader:     int64(cfg.HTTP.MaxBodyBytes*4/3) + 16<<10, // a GET PKIOperation carries the message in the URL
		maxBody:       ocsp.DefaultMaxBody,
		idleTimeout:   cfg.HTTP.IdleTimeout.Std(),
		headerTimeout: cfg.HTTP.ReadHeaderTimeout.Std(),
		readTimeout:   cfg.HTTP.ReadTimeout.Std(),
		writeTimeout:  cfg.HTTP.WriteTimeout.Std(),
		conns:         g.conns,
		draining:      g.draining,
	}
	if !testHookNoFastPath {
		lean.fast = newLeanFast(g, log)
	}
	g.registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "certgate_http_keepalive_takeovers_total",
		Help: "Keep-alive connections whose first request was OCSP, served since by certgate's lean HTTP/1.1 loop instead of net/http.",
	}, func() float64 { return float64(lean.takeovers.Load()) }))
	if lean.fast != nil {
		g.registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "certgate_http_ocsp_fast_answers_total",
			Help: "OCSP answers the lean loop sent from the responder's memory without the HTTP handler chain (also counted in certgate_http_requests_total).",
		}, func() float64 { return float64(lean.fast.served.Load()) }))
	}
	srv := &http.Server{
		Handler:           lean.handoff(lean.handler),
		ConnState:         g.conns.hook,
		ReadHeaderTimeout: cfg.HTTP.ReadHeaderTimeout.Std(),
		ReadTimeout:       cfg.HTTP.ReadTimeout.Std(),
		WriteTimeout:      cfg.HTTP.WriteTimeout.Std(),
		IdleTimeout:       cfg.HTTP.IdleTimeout.Std(),
		MaxHeaderBytes:    int(lean.maxHeader),
		ErrorLog:          nil,
	}
	bg, stopBackground := context.WithCancel(context.Background())
	defer stopBackground()
	go g.leader.Lead(bg, func(ctx context.Context) { g.lead(ctx, log) })
	if g.stores.shared != nil {
		followRevocations(bg, g.stores.shared, g.revocation, log)
	}
	estL, err := startEST(cfg, g, log)
	if err != nil {
		return err
	}
	apiL, err := startAPI(cfg, g, log)
	if err != nil {
		if estL != nil {
			estL.ln.Close()
		}
		return err
	}
	admin, err := startAdmin(cfg.ResolvePath(cfg.AdminSocket), g.apiSocket.Handler(), log)
	if err != nil {
		if estL != nil {
			estL.ln.Close()
		}
		if apiL != nil {
			apiL.ln.Close()
		}
		return err
	}

	errc := make(chan error, 3)
	go func() { errc <- srv.Serve(ln) }()
	servers := []*http.Server{srv}
	if estL != nil {
		servers = append(servers, estL.srv)
		go func() { errc <- fmt.Errorf("est: %w", estL.srv.ServeTLS(estL.ln, "", "")) }()
	}
	if apiL != nil {
		servers = append(servers, apiL.srv)
		go func() { errc <- fmt.Errorf("admin api: %w", apiL.srv.ServeTLS(apiL.ln, "", "")) }()
	}
	printBanner(stdout, g, ln.Addr(), estL, apiL)
	log.Info().Str("addr", ln.Addr().String()).Str("public_url", cfg.PublicURL).Str("version", version).Msg("certgate listening")

	select {
	case err := <-errc:
		admin.close(context.Background())
		for _, s := range servers {
			_ = s.Close()
		}
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	log.Info().Msg("shutting down: draining in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.HTTP.ShutdownTimeout.Std())
	defer cancel()
	g.draining.Store(true)
	lean.closeIdle()
	drain(servers, g.conns, g.draining, cfg.HTTP.ShutdownTimeout.Std())
	for _, s := range servers {
		if serr := s.Shutdown(sctx); serr != nil && err == nil {
			err = serr
		}
	}
	admin.close(sctx)
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info().Msg("stopped")
	return nil
}

// build opens the CA and store and wires the services.
func build(cfg *configs.Config, log zerolog.Logger) (*gateway, error) {
	c, created, err := openCA(cfg)
	if err != nil {
		return nil, err
	}
	sts, err := openStores(cfg, os.Getenv)
	if err != nil {
		return nil, err
	}
	g := &gateway{cfg: cfg, ca: c, store: sts.records, stores: sts, registry: newRegistry(), createdCA: created, draining: new(atomic.Bool), conns: newConnTracker()}
	g.httpMetrics = newHTTPMetrics(g.registry)
	sealer, err := openEscrow(cfg)
	if err != nil {
		sts.Close()
		return nil, err
	}
	var shared store.Cache
	if sts.shared != nil {
		shared = sts.shared
	}
	g.revocation, err = newRevocation(cfg, c, sts.records, sts.cache, shared, g.registry, log)
	if err != nil {
		sts.Close()
		return nil, err
	}
	g.leader, err = newLeader(sts.shared, g.registry, log)
	if err != nil {
		sts.Close()
		return nil, err
	}
	g.mdm = &mdmValidators{reg: g.registry}
	upstreams, err := buildUpstreams(cfg, g.registry, os.Getenv)
	if err != nil {
		sts.Close()
		return nil, err
	}
	profiles, err := buildProfiles(cfg, c, sts.records, sealer, g.mdm, upstreams, os.Getenv)
	if err != nil {
		sts.Close()
		return nil, err
	}
	g.devicePollers, err = devicePollers(cfg, g.mdm, sts.records, g.revocation, g.registry, os.Getenv, log)
	if err != nil {
		sts.Close()
		return nil, err
	}
	g.enroller, err = enroll.NewService(enroll.Options{
		Profiles: profiles, Store: sts.records, Requests: sts.records, Revoker: g.revocation, Metrics: enroll.NewMetrics(g.registry),
	})
	if err != nil {
		sts.Close()
		return nil, err
	}
	g.scep, err = scep.New(scep.Options{
		Enroller:       g.enroller,
		RACert:         c.Certificate(),
		RAKey:          c.Signer(),
		CACerts:        c.Chain(),
		DefaultProfile: cfg.SCEP.DefaultProfile,
		MaxBodyBytes:   cfg.HTTP.MaxBodyBytes,
		Registerer:     g.registry,
	})
	if err != nil {
		sts.Close()
		return nil, err
	}
	g.est, err = buildEST(cfg, g, upstreams)
	if err != nil {
		sts.Close()
		return nil, err
	}
	g.api, err = adminapi.New(apiOptions(cfg, sts.records, g.revocation, adminapi.TLSAuth{Tokens: sts.records, Certs: sts.records}, g.enroller, c, sealer))
	if err != nil {
		sts.Close()
		return nil, err
	}
	g.apiSocket, err = adminapi.New(apiOptions(cfg, sts.records, g.revocation, adminapi.SocketAuth{}, g.enroller, c, sealer))
	if err != nil {
		sts.Close()
		return nil, err
	}
	return g, nil
}

// routes is the public HTTP surface. Paths are a stable interface:
// deployments and scripts rely on /scep, /healthz, /readyz and /metrics.
func routes(g *gateway, log zerolog.Logger) http.Handler {
	hm := g.httpMetrics
	mux := http.NewServeMux()
	scepH := hm.wrap("scep", g.scep.Handler())
	mux.Handle("/scep", scepH)
	mux.Handle("/scep/", scepH)
	mux.Handle(scep.NDESPath, scepH)
	mux.Handle(scep.NDESPath+"/", scepH)
	mux.Handle("GET /ca/{file}", hm.wrap("ca", caCertHandler(g.ca)))
	mux.Handle("/crl/", hm.wrap("crl", g.revocation.crlH))
	mux.Handle("GET /healthz", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	}))
	mux.Handle("GET /readyz", readyHandler(g.store, g.draining))
	mux.Handle("GET /metrics", promhttp.HandlerFor(g.registry, promhttp.HandlerOpts{Registry: g.registry}))
	// OCSP is routed before the mux: ServeMux would "clean" the "//" that
	// base64 GET requests sometimes contain (see ocsp.Responder.Wrap).
	ocspH := hm.wrap(ocspRoute, g.revocation.ocsp)
	router := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ocsp.IsPath(r.URL.Path) {
			ocspH.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
	return withRequestContext(log, g.cfg.HTTP.RequestTimeout.Std(), router)
}

// caCertHandler serves the issuing CA certificate in DER at the AIA
// caIssuers URL (/ca/<name>.crt) and the root at /ca/root.crt.
func caCertHandler(c *local.CA) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var der []byte
		switch r.PathValue("file") {
		case c.Name() + ".crt":
			der = c.Certificate().Raw
		case "root.crt":
			der = c.Root().Raw
		default:
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/pkix-cert")
		_, _ = w.Write(der)
	})
}

// readyHandler fails while the store cannot answer a read.
func readyHandler(st store.Store, draining *atomic.Bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if draining.Load() {
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		}
		_, err := st.Search(r.Context(), store.Query{Limit: 1})
		if err != nil {
			zerolog.Ctx(r.Context()).Warn().Err(err).Msg("readyz: store not ready")
			http.Error(w, "store not ready", http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ready\n")
	})
}

// fixPublicURLPort replaces a ":0" port (listen on any free port) in the
// derived public URL with the port actually bound.
func fixPublicURLPort(publicURL string, addr net.Addr) string {
	u, err := url.Parse(publicURL)
	if err != nil || u.Port() != "0" {
		return publicURL
	}
	_, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return publicURL
	}
	u.Host = net.JoinHostPort(u.Hostname(), port)
	return strings.TrimSuffix(u.String(), "/")
}

func printBanner(w io.Writer, g *gateway, addr net.Addr, estL *estListener, apiL *apiListener) {
	cfg := g.cfg
	fmt.Fprintf(w, "certgate %s listening on %s\n", version, addr)
	if g.createdCA {
		fmt.Fprintf(w, "  created a new CA in      %s\n", caDir(cfg))
	}
	fmt.Fprintf(w, "  SCEP URL:                %s/scep\n", cfg.PublicURL)
	for _, p := range cfg.Profiles {
		fmt.Fprintf(w, "  profile %-16s %s/scep/%s  challenge: %s\n", p.Name, cfg.PublicURL, p.Name, describeSecretSource(cfg, p.Validator))
	}
	if estL != nil {
		fmt.Fprintf(w, "  EST URL:                 %s  (label = profile: %s<profile>/; Basic password = the profile's challenge)\n", estL.url(), estL.url())
	}
	if apiL != nil {
		fmt.Fprintf(w, "  admin API:               %s  (admin client certificate or bearer token: certgate admin token new NAME --role admin)\n", apiL.url())
	}
	fmt.Fprintf(w, "  CA certificate SHA-256:  %s\n", local.Fingerprint(g.ca.Certificate()))
	fmt.Fprintf(w, "  root CA SHA-256:         %s\n", local.Fingerprint(g.ca.Root()))
	fmt.Fprintf(w, "  data dir:                %s\n", cfg.DataDir)
	fmt.Fprintf(w, "  metrics: %s/metrics  health: %s/healthz\n", cfg.PublicURL, cfg.PublicURL)
}

// describeSecretSource says where a profile's challenge is, never what it is.
func describeSecretSource(cfg *configs.Config, v configs.ValidatorConfig) string {
	var parts []string
	if v.SecretsFile != "" {
		parts = append(parts, "file "+cfg.ResolvePath(v.SecretsFile))
	}
	if v.SecretsEnv != "" {
		parts = append(parts, "env $"+v.SecretsEnv)
	}
	if len(v.Secrets) > 0 {
		parts = append(parts, "inline in the config")
	}
	return strings.Join(parts, ", ")
}

// newLogger builds the zerolog logger: JSON, or a console writer when
// format is console or auto on a terminal.
func newLogger(lc configs.LogConfig, w io.Writer) zerolog.Logger {
	level, err := zerolog.ParseLevel(lc.Level)
	if err != nil || lc.Level == "" {
		level = zerolog.InfoLevel
	}
	out := w
	console := lc.Format == "console"
	if lc.Format == "auto" || lc.Format == "" {
		if f, ok := w.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
			console = true
		}
	}
	if console {
		out = zerolog.ConsoleWriter{Out: w, TimeFormat: time.RFC3339}
	}
	return zerolog.New(out).Level(level).With().Timestamp().Logger()
}
