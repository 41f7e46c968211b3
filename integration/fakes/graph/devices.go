package graph

import (
	"net/http"
	"regexp"
	"time"
)

// Route names of the device-state endpoints, for SetFault and
// RequestsFor.
const (
	RouteManagedDevice = "managedDevice"
	RouteDevices       = "devices"
)

// ManagementStates are the managedDevice managementState values
// (INTEGRATIONS.md §5.4), in enum order.
var ManagementStates = []string{"managed", "retirePending", "retireFailed", "wipePending", "wipeFailed", "unhealthy",
	"deletePending", "retireIssued", "wipeIssued", "wipeCanceled", "retireCanceled", "discovered", "unknownFutureValue"}

// ManagedDevice is an Intune device as Graph's managedDevice shows it.
type ManagedDevice struct {
	ID               string
	AzureADDeviceID  string
	ManagementState  string // default "managed"
	ComplianceState  string // default "compliant"
	EnrolledDateTime time.Time
	DeviceName       string
}

// EntraDevice is an Entra ID device object.
type EntraDevice struct {
	// ID is the directory object ID; DeviceID the device ID certificates
	// carry.
	ID             string
	DeviceID       string
	AccountEnabled bool
	DisplayName    string
}

// devices is the fake's device directory, under Fake.mu.
type devices struct {
	managed map[string]ManagedDevice
	entra   map[string]EntraDevice // by DeviceID
	// wrapValue answers managedDevice inside {"value": ...}, as the Graph
	// doc's example does (real Graph answers the entity at the top level;
	// which one this endpoint uses is unconfirmed).
	wrapValue bool
}

// PutManagedDevice adds or replaces an Intune device.
func (f *Fake) PutManagedDevice(d ManagedDevice) {
	if d.ManagementState == "" {
		d.ManagementState = "managed"
	}
	if d.ComplianceState == "" {
		d.ComplianceState = "compliant"
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dev.managed[d.ID] = d
}

// DeleteManagedDevice removes an Intune device: lookups get 404.
func (f *Fake) DeleteManagedDevice(id string) bool {
	return f.updateManaged(id, nil)
}

// SetManagementState sets an Intune device's managementState (one of
// ManagementStates, or anything else to test unknown values).
func (f *Fake) SetManagementState(id, state string) bool {
	return f.updateManaged(id, func(d *ManagedDevice) { d.ManagementState = state })
}

// SetComplianceState sets an Intune device's complianceState (compliant,
// noncompliant, inGracePeriod, unknown, ...).
func (f *Fake) SetComplianceState(id, state string) bool {
	return f.updateManaged(id, func(d *ManagedDevice) { d.ComplianceState = state })
}

// WrapManagedDevice makes managedDevice answers wrap the entity in
// "value" (on) or give it at the top level (off, the default).
func (f *Fake) WrapManagedDevice(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dev.wrapValue = on
}

// updateManaged applies fn to device id, or deletes it when fn is nil.
func (f *Fake) updateManaged(id string, fn func(*ManagedDevice)) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.dev.managed[id]
	if !ok {
		return false
	}
	if fn == nil {
		delete(f.dev.managed, id)
		return true
	}
	fn(&d)
	f.dev.managed[id] = d
	return true
}

// PutEntraDevice adds or replaces an Entra device.
func (f *Fake) PutEntraDevice(d EntraDevice) {
	if d.ID == "" {
		d.ID = newID()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dev.entra[d.DeviceID] = d
}

// DeleteEntraDevice removes an Entra device: lookups list nothing.
func (f *Fake) DeleteEntraDevice(deviceID string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.dev.entra[deviceID]
	delete(f.dev.entra, deviceID)
	return ok
}

// SetAccountEnabled enables or disables an Entra device.
func (f *Fake) SetAccountEnabled(deviceID string, on bool) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.dev.entra[deviceID]
	if ok {
		d.AccountEnabled = on
		f.dev.entra[deviceID] = d
	}
	return ok
}

func (f *Fake) getManagedDevice(w http.ResponseWriter, r *http.Request) {
	if !f.authorised(w, r) {
		return
	}
	id := r.PathValue("id")
	f.mu.Lock()
	d, ok := f.dev.managed[id]
	wrap := f.dev.wrapValue
	f.mu.Unlock()
	if !ok {
		writeError(w, r, http.StatusNotFound, "ResourceNotFound", "The requested resource does not exist.")
		return
	}
	body := map[string]any{
		"@odata.context":    "https://graph.microsoft.com/v1.0/$metadata#deviceManagement/managedDevices/$entity",
		"id":                d.ID,
		"deviceName":        d.DeviceName,
		"azureADDeviceId":   d.AzureADDeviceID,
		"managementState":   d.ManagementState,
		"complianceState":   d.ComplianceState,
		"enrolledDateTime":  d.EnrolledDateTime.UTC().Format(time.RFC3339),
		"operatingSystem":   "Windows",
		"managedDeviceName": d.DeviceName,
	}
	if wrap {
		writeJSON(w, http.StatusOK, map[string]any{"value": body})
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// deviceFilter is the one $filter the fake understands.
var deviceFilter = regexp.MustCompile(`^deviceId eq '([^']*)'$`)

func (f *Fake) listDevices(w http.ResponseWriter, r *http.Request) {
	if !f.authorised(w, r) {
		return
	}
	m := deviceFilter.FindStringSubmatch(r.URL.Query().Get("$filter"))
	if m == nil {
		writeError(w, r, http.StatusBadRequest, "Request_UnsupportedQuery", "Unsupported or invalid query filter clause specified.")
		return
	}
	f.mu.Lock()
	var list []map[string]any
	if d, ok := f.dev.entra[m[1]]; ok {
		list = append(list, map[string]any{"id": d.ID, "deviceId": d.DeviceID, "accountEnabled": d.AccountEnabled, "displayName": d.DisplayName})
	}
	f.mu.Unlock()
	if list == nil {
		list = []map[string]any{}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#devices(id,deviceId,accountEnabled)",
		"value":          list,
	})
}
