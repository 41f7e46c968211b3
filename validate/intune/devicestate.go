package intune

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"time"
)

// ErrDeviceNotFound is what ManagedDevice and EntraDevice return when
// Graph definitively says there is no such device (a 404, or an empty
// list): it was deleted, or never existed.
var ErrDeviceNotFound = errors.New("intune: device not found")

// ManagedDevice is what certgate reads of a Graph managedDevice
// (INTEGRATIONS.md §5.4).
type ManagedDevice struct {
	ID              string `json:"id"`
	AzureADDeviceID string `json:"azureADDeviceId"`
	// ManagementState is e.g. managed, retirePending, wipeIssued.
	ManagementState string `json:"managementState"`
	// ComplianceState is e.g. compliant, noncompliant, inGracePeriod.
	ComplianceState string `json:"complianceState"`
	// EnrolledDateTime is zero when Graph gives none.
	EnrolledDateTime time.Time `json:"enrolledDateTime"`
}

// EntraDevice is what certgate reads of a Graph (Entra ID) device.
type EntraDevice struct {
	ID             string `json:"id"`
	DeviceID       string `json:"deviceId"`
	AccountEnabled *bool  `json:"accountEnabled"`
}

// Operation labels of the device-state calls.
const (
	opManagedDevice = "managed_device"
	opEntraDevice   = "entra_device"
)

// ManagedDevice looks an Intune device up by its Intune device ID with
// GET /v1.0/deviceManagement/managedDevices/{id}. Graph's 404 is
// ErrDeviceNotFound; any other answer that is not a managedDevice
// (5xx, 429, 401/403, HTML, a timeout) is another error. The call is
// bounded by Config.Timeout.
func (v *Validator) ManagedDevice(ctx context.Context, id string) (dev *ManagedDevice, err error) {
	start := time.Now()
	defer func() { v.metrics.observe(opManagedDevice, lookupResult(err), start) }()
	if !guidRE.MatchString(id) {
		return nil, errors.New("intune: managed device: the device ID is not a GUID")
	}
	ctx, cancel := context.WithTimeout(ctx, v.cfg.Timeout)
	defer cancel()
	resp, err := v.graphGet(ctx, opManagedDevice, "/v1.0/deviceManagement/managedDevices/"+url.PathEscape(id))
	if err != nil {
		return nil, err
	}
	switch {
	case resp.status == http.StatusNotFound:
		return nil, ErrDeviceNotFound
	case resp.status != http.StatusOK:
		return nil, resp.errorf(opManagedDevice, "HTTP %d%s%s", resp.status, graphErrorCode(resp.body), resp.retryAfter)
	}
	// Real single-entity GETs answer the entity at the top level; the
	// Graph doc's example wraps it in "value" (unconfirmed, §5.4):
	// accept both, and a one-element list.
	var d ManagedDevice
	if err := json.Unmarshal(resp.body, &d); err != nil {
		return nil, resp.errorf(opManagedDevice, "response is not JSON")
	}
	if d.ID == "" {
		var wrapped struct {
			Value json.RawMessage `json:"value"`
		}
		_ = json.Unmarshal(resp.body, &wrapped)
		var list []ManagedDevice
		if json.Unmarshal(wrapped.Value, &d) != nil && json.Unmarshal(wrapped.Value, &list) == nil && len(list) == 1 {
			d = list[0]
		}
	}
	if d.ID == "" {
		return nil, resp.errorf(opManagedDevice, "response is not a managedDevice")
	}
	return &d, nil
}

// EntraDevice looks a device up in Entra ID by its device ID with
// GET /v1.0/devices?$filter=deviceId eq '{id}'. An empty list is
// ErrDeviceNotFound; other failures are as for ManagedDevice.
func (v *Validator) EntraDevice(ctx context.Context, deviceID string) (dev *EntraDevice, err error) {
	start := time.Now()
	defer func() { v.metrics.observe(opEntraDevice, lookupResult(err), start) }()
	// A GUID cannot break out of the quoted OData literal.
	if !guidRE.MatchString(deviceID) {
		return nil, errors.New("intune: entra device: the device ID is not a GUID")
	}
	ctx, cancel := context.WithTimeout(ctx, v.cfg.Timeout)
	defer cancel()
	q := url.Values{"$filter": {"deviceId eq '" + deviceID + "'"}, "$select": {"id,deviceId,accountEnabled"}}
	resp, err := v.graphGet(ctx, opEntraDevice, "/v1.0/devices?"+q.Encode())
	if err != nil {
		return nil, err
	}
	if resp.status != http.StatusOK {
		return nil, resp.errorf(opEntraDevice, "HTTP %d%s%s", resp.status, graphErrorCode(resp.body), resp.retryAfter)
	}
	var list struct {
		Value []EntraDevice `json:"value"`
	}
	if err := json.Unmarshal(resp.body, &list); err != nil || list.Value == nil {
		return nil, resp.errorf(opEntraDevice, "response is not a device list")
	}
	if len(list.Value) == 0 {
		return nil, ErrDeviceNotFound
	}
	// deviceId is unique in a tenant; the first entry is the device.
	d := list.Value[0]
	if d.AccountEnabled == nil {
		return nil, resp.errorf(opEntraDevice, "device has no accountEnabled")
	}
	return &d, nil
}

// lookupResult is the metric result of a device lookup: ok for an
// answer, not found included.
func lookupResult(err error) string {
	if err == nil || errors.Is(err, ErrDeviceNotFound) {
		return resultOK
	}
	return resultError
}
