package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/certgate/certgate/configs"
	"github.com/certgate/certgate/store"
	"github.com/certgate/certgate/validate"
	"github.com/certgate/certgate/validate/devicestate"
	"github.com/certgate/certgate/validate/intune"
	"github.com/certgate/certgate/validate/jamf"
	"github.com/certgate/certgate/validate/workspaceone"
)

// devicePollers builds one device-state poller per profile with
// device_state, asking the MDM client its validator already built (one
// token cache, one concurrency cap per MDM). Call it after buildProfiles.
func devicePollers(cfg *configs.Config, mdm *mdmValidators, st devicestate.Store, rv devicestate.Revoker, reg prometheus.Registerer, getenv func(string) string, log zerolog.Logger) ([]*devicestate.Poller, error) {
	var out []*devicestate.Poller
	var metrics *devicestate.Metrics
	for i, pc := range cfg.Profiles {
		if pc.DeviceState == nil {
			continue
		}
		if metrics == nil && reg != nil {
			m, err := devicestate.NewMetrics(reg)
			if err != nil {
				return nil, err
			}
			metrics = m
		}
		ds := pc.DeviceState.Effective()
		src, err := mdm.deviceSource(cfg, pc, ds.Source, getenv)
		if err != nil {
			return nil, fmt.Errorf("profiles[%d] (%s).device_state: %w", i, pc.Name, err)
		}
		out = append(out, &devicestate.Poller{
			Profile: pc.Name, SourceName: ds.Source, Source: src,
			Policy: devicestate.Policy{ComplianceCheck: ds.ComplianceCheck, GracePeriod: ds.GracePeriod.Std(),
				FailClosed: ds.OnError == "fail_closed", MaxStaleness: ds.MaxStaleness.Std()},
			Interval: ds.Interval.Std(), Store: st, Revoker: rv, Metrics: metrics,
			Log: log.With().Str("profile", pc.Name).Logger(),
		})
	}
	return out, nil
}

// deviceSource returns the Source of a profile's device_state.
func (m *mdmValidators) deviceSource(cfg *configs.Config, pc configs.Profile, source string, getenv func(string) string) (devicestate.Source, error) {
	switch source {
	case "intune", "entra":
		v, err := m.intune(cfg, *pc.Validator.Intune, getenv)
		if err != nil {
			return nil, err
		}
		if source == "entra" {
			return entraDevices{v}, nil
		}
		return intuneDevices{v}, nil
	case "jamf":
		if c := m.jamfCheckers[pc.Name]; c != nil {
			return jamfDevices{c}, nil
		}
	case "workspaceone":
		if c := m.ws1Checkers[pc.Name]; c != nil {
			return ws1Devices{c}, nil
		}
	}
	return nil, fmt.Errorf("source %s: the profile's validator has no client for it", source)
}

// permanentStates are the Intune managementState values after which
// SCEPman revokes (RevokeCertificatesOnWipe, INTEGRATIONS.md §5.2),
// lower-cased.
var permanentStates = map[string]bool{
	"retirepending": true, "retirefailed": true, "wipepending": true, "wipefailed": true,
	"unhealthy": true, "deletepending": true, "retireissued": true, "wipeissued": true,
}

// intuneDevices asks Graph for Intune managed devices.
type intuneDevices struct{ v *intune.Validator }

func (s intuneDevices) Lookup(ctx context.Context, key string) (devicestate.Observation, error) {
	d, err := s.v.ManagedDevice(ctx, key)
	if errors.Is(err, intune.ErrDeviceNotFound) {
		return devicestate.Observation{Detail: "not found in Intune"}, nil
	}
	if err != nil {
		return devicestate.Observation{}, err
	}
	return devicestate.Observation{
		Found:     true,
		Permanent: permanentStates[strings.ToLower(d.ManagementState)],
		// Only "noncompliant": inGracePeriod is Intune's own grace, and
		// unknown or error say nothing about the device.
		NonCompliant: strings.EqualFold(d.ComplianceState, "noncompliant"),
		EnrolledAt:   d.EnrolledDateTime,
		Detail:       "managementState " + printable(d.ManagementState) + ", complianceState " + printable(d.ComplianceState),
	}, nil
}

// entraDevices asks Graph for Entra ID devices.
type entraDevices struct{ v *intune.Validator }

func (s entraDevices) Lookup(ctx context.Context, key string) (devicestate.Observation, error) {
	d, err := s.v.EntraDevice(ctx, key)
	if errors.Is(err, intune.ErrDeviceNotFound) {
		return devicestate.Observation{Detail: "not found in Entra ID"}, nil
	}
	if err != nil {
		return devicestate.Observation{}, err
	}
	enabled := *d.AccountEnabled // EntraDevice checks it is there
	return devicestate.Observation{Found: true, Disabled: !enabled, Detail: fmt.Sprintf("accountEnabled %t", enabled)}, nil
}

// jamfDevices asks Jamf Pro for the computer or mobile device of a
// "<kind>/<JSSID>" device ID. Jamf has no disabled state (§5.2).
type jamfDevices struct{ c *jamf.DeviceChecker }

func (s jamfDevices) Lookup(ctx context.Context, key string) (devicestate.Observation, error) {
	ref, err := jamf.ParseDeviceID(key)
	if err != nil {
		return devicestate.Observation{}, err
	}
	err = s.c.CheckDevice(ctx, ref)
	var rej *validate.Rejection
	switch {
	case errors.As(err, &rej):
		return devicestate.Observation{Detail: "not found in Jamf Pro"}, nil
	case err != nil:
		return devicestate.Observation{}, err
	}
	return devicestate.Observation{Found: true, Detail: "found in Jamf Pro"}, nil
}

// ws1Devices asks Workspace ONE for a "ws1:<lookup>:<key>" device ID.
// A device no longer enrolled (with require_enrolled) counts as retired.
type ws1Devices struct{ c *workspaceone.Checker }

func (s ws1Devices) Lookup(ctx context.Context, key string) (devicestate.Observation, error) {
	lookup, k, err := workspaceone.ParseDeviceID(key)
	if err != nil {
		return devicestate.Observation{}, err
	}
	if !strings.EqualFold(lookup, s.c.Lookup()) {
		return devicestate.Observation{}, fmt.Errorf("workspaceone: device ID by %s, but the checker looks up by %s", lookup, s.c.Lookup())
	}
	st, err := s.c.Check(ctx, k)
	if err != nil {
		return devicestate.Observation{}, err
	}
	o := devicestate.Observation{Found: st.Status != workspaceone.StatusNotFound,
		Permanent:    st.Status == workspaceone.StatusNotEnrolled,
		NonCompliant: st.Status == workspaceone.StatusNonCompliant,
		Detail:       "status " + st.Status.String()}
	return o, nil
}

// printable keeps an MDM's enum value fit for a log line: short, and
// without characters an attacker-controlled answer could use.
func printable(s string) string {
	if len(s) > 40 {
		s = s[:40]
	}
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' {
			return r
		}
		return '?'
	}, s)
}

// ocspValidityFor bounds OCSP answers for the device-bound certificates
// of profiles with device_state: good ones at ocsp_good_validity, held
// ones at no more than HoldOCSPValidity (a hold may be lifted soon).
// Permanent revocations keep ocsp.validity. Nil when no profile checks
// device state.
func ocspValidityFor(cfg *configs.Config) func(*store.CertRecord) time.Duration {
	bounds := map[string]time.Duration{}
	for _, pc := range cfg.Profiles {
		if pc.DeviceState != nil {
			bounds[pc.Name] = pc.DeviceState.Effective().OCSPGoodValidity.Std()
		}
	}
	if len(bounds) == 0 {
		return nil
	}
	return func(rec *store.CertRecord) time.Duration {
		b, ok := bounds[rec.Profile]
		switch {
		case !ok || rec.DeviceID == "":
			return 0
		case rec.Status == store.StatusValid:
			return b
		case rec.RevocationReason == store.ReasonCertificateHold:
			return min(b, configs.HoldOCSPValidity.Std())
		}
		return 0
	}
}
