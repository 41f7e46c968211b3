package configs

import "time"

// DeviceStateConfig turns on device-state revocation for a profile
// (profiles[].device_state): certgate asks the MDM about each device its
// valid or held certificates are bound to, revokes them when the device
// is gone or wiped, and holds them while it is disabled (or, with
// ComplianceCheck, non-compliant). The credentials are those of the
// profile's validator, so Source must match validator.type: intune and
// entra need type intune, jamf needs type jamf with jamf.api, and
// workspaceone needs type workspaceone. YAML only.
type DeviceStateConfig struct {
	// Source is intune (Graph managedDevice by Intune device ID), entra
	// (Graph device by Entra device ID: the certificate's device ID must
	// be the Entra one, e.g. CN={{AAD_Device_ID}}), jamf or
	// workspaceone. Required.
	Source string `yaml:"source"`
	// Interval between checks of every device; 1s..24h, default 1h.
	Interval Duration `yaml:"interval"`
	// ComplianceCheck holds the certificates of devices the MDM reports
	// non-compliant (intune, workspaceone). Default false.
	ComplianceCheck bool `yaml:"compliance_check"`
	// GracePeriod tolerates non-compliance this long after enrollment
	// (the MDM's enrollment time, else the certificate's issue time);
	// 0..720h, default 0.
	GracePeriod Duration `yaml:"grace_period"`
	// OnError is fail_open (default: keep the last known state while the
	// MDM cannot answer) or fail_closed (hold certificates of devices
	// unconfirmed for longer than MaxStaleness, lift when confirmed).
	OnError string `yaml:"on_error"`
	// MaxStaleness: see OnError; 1s..720h, default 24h.
	MaxStaleness Duration `yaml:"max_staleness"`
	// OCSPGoodValidity bounds the validity of good OCSP answers for this
	// profile's device-bound certificates (hold answers get at most 5m),
	// so that a relying party caching them sees a revocation within the
	// bound; 1m..ocsp.validity, default 10m (SCEPman's 600 s).
	OCSPGoodValidity Duration `yaml:"ocsp_good_validity"`
}

// Defaults of DeviceStateConfig's zero values.
const (
	DefaultDeviceStateInterval     = Duration(time.Hour)
	DefaultDeviceStateMaxStaleness = Duration(24 * time.Hour)
	DefaultOCSPGoodValidity        = Duration(10 * time.Minute)
	// HoldOCSPValidity caps the validity of certificateHold answers for
	// device-bound certificates: a hold is lifted as soon as the device is
	// good again, so relying parties should ask again soon (SCEPman's 300 s).
	HoldOCSPValidity = Duration(5 * time.Minute)
)

// Effective returns d with its zero values replaced by the defaults.
func (d DeviceStateConfig) Effective() DeviceStateConfig {
	if d.Interval == 0 {
		d.Interval = DefaultDeviceStateInterval
	}
	if d.OnError == "" {
		d.OnError = "fail_open"
	}
	if d.MaxStaleness == 0 {
		d.MaxStaleness = DefaultDeviceStateMaxStaleness
	}
	if d.OCSPGoodValidity == 0 {
		d.OCSPGoodValidity = DefaultOCSPGoodValidity
	}
	return d
}

// validate checks d against the profile's validator type and the OCSP
// settings.
func (d *DeviceStateConfig) validate(p *problems, key string, v *ValidatorConfig, ocsp OCSPConfig) {
	e := d.Effective()
	need := map[string]string{"intune": "intune", "entra": "intune", "jamf": "jamf", "workspaceone": "workspaceone"}
	want, ok := need[d.Source]
	switch {
	case !ok:
		p.add(key+".source", "%q is not one of intune, entra, jamf, workspaceone", d.Source)
	case v.Type != want:
		p.add(key+".source", "%s needs validator.type %s, whose credentials it uses (the profile's is %q)", d.Source, want, v.Type)
	case d.Source == "jamf" && (v.Jamf == nil || v.Jamf.API == nil):
		p.add(key+".source", "jamf needs validator.jamf.api (the Jamf Pro API client)")
	}
	if d.ComplianceCheck && (d.Source == "entra" || d.Source == "jamf") {
		p.add(key+".compliance_check", "%s reports no compliance; use intune or workspaceone", d.Source)
	}
	if e.Interval < Duration(time.Second) || e.Interval > Duration(24*time.Hour) {
		p.add(key+".interval", "%s is outside 1s..24h", e.Interval)
	}
	if e.GracePeriod < 0 || e.GracePeriod > Duration(720*time.Hour) {
		p.add(key+".grace_period", "%s is outside 0..720h", e.GracePeriod)
	}
	checkOneOf(p, key+".on_error", e.OnError, "fail_open", "fail_closed")
	if e.MaxStaleness < Duration(time.Second) || e.MaxStaleness > Duration(720*time.Hour) {
		p.add(key+".max_staleness", "%s is outside 1s..720h", e.MaxStaleness)
	}
	if e.OCSPGoodValidity < Duration(time.Minute) || e.OCSPGoodValidity > ocsp.Validity {
		p.add(key+".ocsp_good_validity", "%s is outside 1m..%s (ocsp.validity)", e.OCSPGoodValidity, ocsp.Validity)
	}
}
