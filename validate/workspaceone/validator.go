package workspaceone

import (
	"context"
	"errors"

	"github.com/certgate/certgate/validate"
)

// Validator checks the device an enrollment names against Workspace
// ONE, after the challenge validator it wraps has accepted the request.
type Validator struct {
	next    validate.Validator
	checker *Checker
	key     keySource
}

var _ validate.Validator = (*Validator)(nil)

// NewValidator wraps next, which checks the challenge and is required:
// a device key in a CSR authorises nothing by itself. Only
// cfg.DeviceKey is read here (cfg is normally the Config c was made
// from), so one Checker, with one concurrency cap, can serve profiles
// whose certificate templates put the key in different places.
func NewValidator(next validate.Validator, c *Checker, cfg Config) (*Validator, error) {
	if next == nil {
		return nil, errors.New("workspaceone: validator: no challenge validator to wrap")
	}
	if c == nil {
		return nil, errors.New("workspaceone: validator: no checker")
	}
	key, err := parseDeviceKey(cfg.DeviceKey)
	if err != nil {
		return nil, err
	}
	return &Validator{next: next, checker: c, key: key}, nil
}

// Validate implements validate.Validator. The challenge is checked
// first, so an unauthenticated request never makes certgate call
// Workspace ONE. A device that Workspace ONE does not know, that is
// non-compliant, or (with RequireEnrolled) not enrolled is a
// *validate.Rejection, and so is a CSR without a usable device key; a
// lookup that got no usable answer is a plain error (fail closed). On
// success the Decision's DeviceID is DeviceID(lookup, key), e.g.
// "ws1:serial:C02XYZ", replacing any the wrapped validator gave.
func (v *Validator) Validate(ctx context.Context, r *validate.Request) (validate.Decision, error) {
	if r == nil {
		return validate.Decision{}, &validate.Rejection{Reason: "workspaceone: no request"}
	}
	if _, err := v.next.Validate(ctx, r); err != nil {
		return validate.Decision{}, err
	}
	key, err := v.key.extract(r.CSR)
	if err != nil {
		return validate.Decision{}, err
	}
	st, err := v.checker.Check(ctx, key)
	if err != nil {
		return validate.Decision{}, err
	}
	switch st.Status {
	case StatusNotFound:
		return validate.Decision{}, &validate.Rejection{Reason: "workspaceone: device not found in Workspace ONE"}
	case StatusNotEnrolled:
		return validate.Decision{}, &validate.Rejection{Reason: "workspaceone: device is not enrolled"}
	case StatusNonCompliant:
		return validate.Decision{}, &validate.Rejection{Reason: "workspaceone: device is non-compliant"}
	}
	if !st.Status.Trusted() {
		// Not reached: Check returns one of the statuses above or a
		// trusted one. Refuse rather than allow if that ever changes.
		return validate.Decision{}, errors.New("workspaceone: lookup gave no usable status")
	}
	return validate.Decision{DeviceID: DeviceID(v.checker.Lookup(), key)}, nil
}
