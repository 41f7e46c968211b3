package main

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/certgate/certgate/ca"
	"github.com/certgate/certgate/ca/escrow"
	"github.com/certgate/certgate/ca/local"
	"github.com/certgate/certgate/cmd/certgate/adminapi"
	"github.com/certgate/certgate/configs"
	"github.com/certgate/certgate/enroll"
	"github.com/certgate/certgate/est"
	"github.com/certgate/certgate/scep"
	"github.com/certgate/certgate/store"
	"github.com/certgate/certgate/validate"
	"github.com/certgate/certgate/validate/devicestate"
)

// gateway is everything serve runs, built from a config. wire.go is the
// only file that knows every package.
type gateway struct {
	cfg      *configs.Config
	ca       *local.CA
	store    recordStore
	stores   *stores
	enroller *enroll.Service
	scep     *scep.Server
	est      *est.Server
	// api serves /api/v1/ on the TLS listener; apiSocket the same routes
	// on the admin socket, every caller an admin.
	api, apiSocket *adminapi.Server
	// httpMetrics instruments the SCEP and EST listeners alike.
	httpMetrics *httpMetrics
	registry    *prometheus.Registry
	// createdCA is true when this start created the CA.
	createdCA bool
	// revocation serves OCSP and CRLs and carries out revocations.
	revocation *revocation
	// leader runs revocation's background work on one replica at a time.
	leader leader
	// mdm holds the MDM validators, whose background work serve runs.
	mdm *mdmValidators
	// devicePollers check device state, one per profile with
	// device_state; serve runs them.
	devicePollers []*devicestate.Poller
	// draining is set once shutdown begins; /readyz then fails.
	draining *atomic.Bool
	// conns follows every listener's connections for the drain.
	conns *connTracker
}

// storePath is where the bbolt database lives in the data dir.
func storePath(cfg *configs.Config) string { return cfg.ResolvePath("certgate.db") }

// caDir is the local CA's directory.
func caDir(cfg *configs.Config) string { return cfg.ResolvePath(cfg.CA.Dir) }

// openCA loads the local CA, creating it on first start.
func openCA(cfg *configs.Config) (*local.CA, bool, error) {
	dir := caDir(cfg)
	created := false
	if !local.Exists(dir) {
		if err := local.Init(dir, local.InitOptions{}); err != nil {
			return nil, false, fmt.Errorf("create CA in %s: %w", dir, err)
		}
		created = true
	}
	c, err := local.Load(dir, local.Options{Name: cfg.CA.Name, PublicURL: cfg.PublicURL})
	if err != nil {
		return nil, false, fmt.Errorf("load CA from %s: %w", dir, err)
	}
	return c, created, nil
}

// buildProfiles pairs each configured profile with its policy, the local CA
// and its validator.
// validatorStore is what the static and one-time validators keep in the
// store.
type validatorStore interface {
	validate.ChallengeConsumer
	validate.SecretStore
	// PutChallenge stores challenges minted by webhooks (Jamf).
	PutChallenge(ctx context.Context, c *store.Challenge) error
}

func buildProfiles(cfg *configs.Config, issuer ca.Issuer, challenges validatorStore, sealer *escrow.Sealer, mdm *mdmValidators, upstreams map[string]enroll.Forwarder, getenv func(string) string) (map[string]*enroll.Profile, error) {
	out := make(map[string]*enroll.Profile, len(cfg.Profiles))
	for i, pc := range cfg.Profiles {
		policy, err := pc.ProfileConfig.Build()
		if err != nil {
			return nil, fmt.Errorf("profiles[%d]: %w", i, err)
		}
		var v validate.Validator
		var notifier enroll.Notifier
		switch pc.Validator.Type {
		case "intune":
			iv, err := mdm.intune(cfg, *pc.Validator.Intune, getenv)
			if err != nil {
				return nil, fmt.Errorf("profiles[%d] (%s): %w", i, pc.Name, err)
			}
			v, notifier = iv, iv
		case "jamf":
			if v, err = mdm.jamfValidator(cfg, pc, challenges, getenv); err != nil {
				return nil, fmt.Errorf("profiles[%d] (%s): %w", i, pc.Name, err)
			}
		case "workspaceone":
			if v, err = mdm.workspaceOneValidator(cfg, pc, challenges, getenv); err != nil {
				return nil, fmt.Errorf("profiles[%d] (%s): %w", i, pc.Name, err)
			}
		default:
			v, err = buildValidator(cfg, pc.Validator, challenges, getenv)
		}
		if err != nil {
			return nil, fmt.Errorf("profiles[%d] (%s): %w", i, pc.Name, err)
		}
		ep := &enroll.Profile{Policy: policy, Issuer: issuer, Validator: v,
			UniqueSubject: pc.AllowDuplicates != nil && !*pc.AllowDuplicates,
			Approval:      pc.Approval == "manual", Notifier: notifier}
		if k := pc.EST.ServerKeyGen; k != nil && k.Escrow {
			ep.Escrow = sealer
		}
		if pc.Issuer != "" {
			ep.Upstream = upstreams[pc.Issuer]
		}
		out[policy.Name] = ep
	}
	return out, nil
}

// buildValidator makes a profile's validator: its static secrets, one-time
// challenges, or either.
func buildValidator(cfg *configs.Config, vc configs.ValidatorConfig, st validatorStore, getenv func(string) string) (validate.Validator, error) {
	var static *validate.Static
	if vc.HasStaticSecrets() {
		configured, err := vc.LoadSecrets(cfg.DataDir, getenv)
		if err != nil {
			return nil, err
		}
		if static, err = validate.NewStatic(configured); err != nil {
			return nil, err
		}
	}
	// The config's secrets, overridden by rotations made through the
	// admin API (kept in the store, so every replica sees them).
	chain := validate.AnyOf{validate.NewManagedStatic(static, st, nil)}
	if vc.OneTime {
		ot, err := validate.NewOneTime(st, nil)
		if err != nil {
			return nil, err
		}
		chain = append(chain, ot)
	}
	if len(chain) == 1 {
		return chain[0], nil
	}
	return chain, nil
}

// newRegistry returns a registry with Go runtime and process metrics.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectorsGo(),
		collectorsProcess(),
	)
	return reg
}
