package jamf

import (
	"context"
	"errors"

	"github.com/certgate/certgate/validate"
)

// DeviceLookup says whether a Jamf object still exists: nil when it
// does, a *validate.Rejection when Jamf does not know it, any other error
// when Jamf could not be asked. DeviceChecker implements it.
type DeviceLookup interface {
	CheckDevice(ctx context.Context, d DeviceRef) error
}

// SubjectBinding is the validator for Jamf's static-challenge mode
// (§7.1): it accepts a request that its inner validator accepts and whose
// subject names a Jamf object (see ParseSubject), optionally still known
// to Jamf, and reports the object as Decision.DeviceID.
type SubjectBinding struct {
	next    validate.Validator
	devices DeviceLookup
}

var _ validate.Validator = (*SubjectBinding)(nil)

// NewSubjectBinding wraps next, which checks the challenge (typically a
// *validate.Static holding Jamf's static secret) and is required: the
// subject alone authorises nothing. devices may be nil to skip the Jamf
// API check.
func NewSubjectBinding(next validate.Validator, devices DeviceLookup) (*SubjectBinding, error) {
	if next == nil {
		return nil, errors.New("jamf: subject binding: no challenge validator to wrap")
	}
	return &SubjectBinding{next: next, devices: devices}, nil
}

// Validate implements validate.Validator. The challenge is checked first,
// so an unauthenticated request never makes certgate call Jamf.
func (s *SubjectBinding) Validate(ctx context.Context, r *validate.Request) (validate.Decision, error) {
	if r == nil {
		return validate.Decision{}, &validate.Rejection{Reason: "jamf: no request"}
	}
	if _, err := s.next.Validate(ctx, r); err != nil {
		return validate.Decision{}, err
	}
	if r.CSR == nil {
		return validate.Decision{}, &validate.Rejection{Reason: "jamf: request has no CSR"}
	}
	ref, err := ParseSubject(r.CSR.Subject)
	if err != nil {
		return validate.Decision{}, err
	}
	if s.devices != nil {
		if err := s.devices.CheckDevice(ctx, ref); err != nil {
			return validate.Decision{}, err
		}
	}
	return validate.Decision{DeviceID: ref.DeviceID()}, nil
}
