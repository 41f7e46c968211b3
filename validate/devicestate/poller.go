package devicestate

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/certgate/certgate/store"
)

// Source looks devices up in one MDM.
type Source interface {
	// Lookup returns what the MDM definitively says of the device whose
	// recorded ID is key (a deleted device is Observation{Found: false}
	// with a nil error). Any error means no usable answer; it must not
	// hold a secret.
	Lookup(ctx context.Context, key string) (Observation, error)
}

// Revoker changes certificates through the server's revocation path, so
// OCSP and CRLs follow.
type Revoker interface {
	Revoke(ctx context.Context, serial *big.Int, reason int, at time.Time) (*store.CertRecord, error)
	ReleaseHold(ctx context.Context, serial *big.Int) (*store.CertRecord, error)
}

// Store is what the Poller reads and keeps.
type Store interface {
	Search(ctx context.Context, q store.Query) ([]*store.CertRecord, error)
	DeviceState(ctx context.Context, source, key string) (*store.DeviceState, error)
	UpdateDeviceState(ctx context.Context, source, key string, fn func(d *store.DeviceState)) (*store.DeviceState, error)
}

// Defaults for the zero values of Poller's fields.
const (
	DefaultInterval    = time.Hour
	DefaultConcurrency = 4
)

// Poller checks one profile's devices on an interval.
type Poller struct {
	// Profile is the profile whose certificates are checked. Required.
	Profile string
	// SourceName is the MDM's name (intune, entra, jamf, workspaceone),
	// under which device states are stored. Required.
	SourceName string
	Source     Source
	Policy     Policy
	// Interval between polls; zero means DefaultInterval.
	Interval time.Duration
	// Concurrency bounds the devices looked up at once; zero means
	// DefaultConcurrency. Sources may cap their calls further (Jamf's 5).
	Concurrency int
	Store       Store
	Revoker     Revoker
	// Metrics may be nil.
	Metrics *Metrics
	// Log receives a line per certificate changed and per failed lookup;
	// give it the profile's name as a field.
	Log zerolog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Run polls until ctx ends, starting now.
func (p *Poller) Run(ctx context.Context) {
	interval := p.Interval
	if interval <= 0 {
		interval = DefaultInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := p.Once(ctx); err != nil && ctx.Err() == nil {
			p.Log.Warn().Err(err).Msg("devicestate: poll failed")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (p *Poller) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// Once checks every device of the profile once. It returns an error only
// when the certificates could not be listed or some device's outcome
// could not be applied or stored; MDM failures are the policy's business.
func (p *Poller) Once(ctx context.Context) error {
	devices, err := p.devices(ctx)
	if err != nil {
		return err
	}
	keys := make([]string, 0, len(devices))
	for k := range devices {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	n := p.Concurrency
	if n <= 0 {
		n = DefaultConcurrency
	}
	var (
		mu        sync.Mutex
		errs      []error
		failed    int
		firstFail error
		stalest   time.Duration
		sem       = make(chan struct{}, n)
		wg        sync.WaitGroup
	)
	for _, key := range keys {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			c := p.device(ctx, key, devices[key])
			mu.Lock()
			defer mu.Unlock()
			if c.err != nil {
				errs = append(errs, c.err)
			}
			if c.lookupErr != nil {
				if failed++; firstFail == nil {
					firstFail = c.lookupErr
				}
			}
			stalest = max(stalest, c.stale)
		}()
	}
	wg.Wait()
	if failed > 0 && ctx.Err() == nil {
		p.Log.Warn().Err(firstFail).Int("failed", failed).Int("devices", len(keys)).Str("source", p.SourceName).
			Bool("fail_closed", p.Policy.FailClosed).Msg("devicestate: the MDM gave no usable answer for some devices; first error shown")
	}
	p.Metrics.setStaleness(p.Profile, stalest.Seconds())
	return errors.Join(errs...)
}

// devices lists the profile's unexpired certificates that are valid or on
// hold and record a device, by device ID.
func (p *Poller) devices(ctx context.Context) (map[string][]*store.CertRecord, error) {
	now := p.now()
	out := map[string][]*store.CertRecord{}
	for _, status := range []store.Status{store.StatusValid, store.StatusRevoked} {
		after := ""
		for {
			page, err := p.Store.Search(ctx, store.Query{Profile: p.Profile, Status: status, ExpiresAfter: now, After: after, Limit: store.DefaultLimit})
			if err != nil {
				return nil, fmt.Errorf("devicestate: list %s certificates of profile %s: %w", status, p.Profile, err)
			}
			for _, r := range page {
				if r.DeviceID == "" || (r.Status == store.StatusRevoked && r.RevocationReason != store.ReasonCertificateHold) {
					continue
				}
				out[r.DeviceID] = append(out[r.DeviceID], r)
			}
			if len(page) < store.DefaultLimit {
				break
			}
			after = page[len(page)-1].SerialHex
		}
	}
	return out, nil
}

// checked is the outcome of one device's check.
type checked struct {
	// stale is how long the device has gone unconfirmed.
	stale time.Duration
	// lookupErr is the MDM's failure to answer, which the policy handled.
	lookupErr error
	// err is a failure to apply or store the outcome.
	err error
}

// device looks one device up, applies the decision to each of its
// certificates and stores the new state.
func (p *Poller) device(ctx context.Context, key string, certs []*store.CertRecord) checked {
	log := p.Log.With().Str("source", p.SourceName).Str("device", key).Logger()
	obs, lookupErr := p.Source.Lookup(ctx, key)
	now := p.now()
	st, err := p.Store.DeviceState(ctx, p.SourceName, key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		st = &store.DeviceState{Source: p.SourceName, Key: key, State: store.DeviceUnknown}
	case err != nil:
		return checked{lookupErr: lookupErr, err: fmt.Errorf("devicestate: device %q: %w", key, err)}
	}
	in := Input{Policy: p.Policy, ConfirmedAt: st.ConfirmedAt, Now: now}
	confirmed := st.ConfirmedAt
	if lookupErr == nil {
		in.Obs = &obs
		confirmed = now
	} else {
		// Debug only: in an MDM outage every device fails, and Once
		// logs one summary line per poll instead.
		log.Debug().Err(lookupErr).Msg("devicestate: lookup failed")
	}
	held := map[string]bool{}
	for _, s := range st.Held {
		held[s] = true
	}
	was := maps.Clone(held)
	worst, stalest := Keep, time.Duration(0)
	var errs []error
	for _, c := range certs {
		in.IssuedAt = c.IssuedAt
		if in.IssuedAt.IsZero() {
			in.IssuedAt = c.NotBefore
		}
		since := confirmed
		if in.IssuedAt.After(since) {
			since = in.IssuedAt
		}
		stalest = max(stalest, now.Sub(since))
		action, why := Decide(in)
		worst = max(worst, action)
		if err := p.apply(ctx, log, c, action, why, held); err != nil {
			errs = append(errs, err)
		}
	}
	result := worst.String()
	if lookupErr != nil {
		result = "error"
	}
	p.Metrics.check(p.Profile, p.SourceName, result)
	// Merge into the state as stored now, not as read above: another
	// replica (or another profile bound to the same device) may have
	// held or released certificates meanwhile, and only this pass's own
	// changes to the held serials are applied.
	_, err = p.Store.UpdateDeviceState(ctx, p.SourceName, key, func(d *store.DeviceState) {
		d.CheckedAt = maxTime(d.CheckedAt, now)
		if lookupErr == nil {
			d.ConfirmedAt, d.EnrolledAt, d.Detail = maxTime(d.ConfirmedAt, now), obs.EnrolledAt, obs.Detail
		}
		switch worst {
		case Revoke:
			d.State = store.DeviceRevoked
		case Hold:
			d.State = store.DeviceHeld
		case Good:
			d.State = store.DeviceGood
		}
		set := map[string]bool{}
		for _, s := range d.Held {
			set[s] = true
		}
		for s := range held {
			if !was[s] {
				set[s] = true
			}
		}
		for s := range was {
			if !held[s] {
				delete(set, s)
			}
		}
		d.Held = slices.Sorted(maps.Keys(set))
		if len(d.Held) == 0 {
			d.Held = nil
		}
	})
	if err != nil {
		errs = append(errs, fmt.Errorf("devicestate: device %q: %w", key, err))
	}
	if lookupErr == nil {
		stalest = 0
	}
	return checked{stale: stalest, lookupErr: lookupErr, err: errors.Join(errs...)}
}

// apply carries out action on c. held is the set of serials this package
// holds; apply keeps it up to date.
func (p *Poller) apply(ctx context.Context, log zerolog.Logger, c *store.CertRecord, action Action, why string, held map[string]bool) error {
	onHold := c.Status == store.StatusRevoked && c.RevocationReason == store.ReasonCertificateHold
	var verb string
	var err error
	switch {
	case action == Revoke:
		verb = "revoke"
		_, err = p.Revoker.Revoke(ctx, c.Serial, store.ReasonCessationOfOperation, p.now())
		delete(held, c.SerialHex)
	case action == Hold && !onHold:
		verb = "hold"
		if _, err = p.Revoker.Revoke(ctx, c.Serial, store.ReasonCertificateHold, p.now()); err == nil {
			held[c.SerialHex] = true
		}
	case action == Good && onHold && held[c.SerialHex]:
		verb = "release"
		_, err = p.Revoker.ReleaseHold(ctx, c.Serial)
		if errors.Is(err, store.ErrConflict) {
			// Revoked for good meanwhile (an operator, another
			// replica): nothing of ours to lift any more.
			err = nil
		}
		delete(held, c.SerialHex)
	default:
		return nil
	}
	if err != nil {
		return fmt.Errorf("devicestate: %s certificate %s: %w", verb, c.SerialHex, err)
	}
	p.Metrics.action(p.Profile, verb)
	log.Info().Str("serial", c.SerialHex).Str("action", verb).Str("why", why).Msg("devicestate: certificate changed")
	return nil
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
