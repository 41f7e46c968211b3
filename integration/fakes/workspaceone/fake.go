package workspaceone

import (
	"net/http"
	"sync"

	"github.com/certgate/certgate/integration/fakes/fakehttp"
)

// RouteDevices is the route name of GET /api/mdm/devices (both path
// spellings), for SetFault, RequestsFor and Count.
const RouteDevices = "mdm-devices"

// NotFoundMode is how the fake answers a lookup that matches no device.
type NotFoundMode int

// The answers a real server might give for an unknown device; which one
// it gives is unconfirmed.
const (
	// NotFound404 answers 404 with an error body (the default).
	NotFound404 NotFoundMode = iota
	// NotFoundNoContent answers 204 with no body.
	NotFoundNoContent
	// NotFoundEmptyList answers 200 with an empty search envelope.
	NotFoundEmptyList
)

// admin is an API admin account.
type admin struct {
	password    string
	restDevices bool // the role grants "REST - Devices"
}

// Fake is a running fake Workspace ONE UEM API server.
type Fake struct {
	*fakehttp.Server

	mu           sync.Mutex
	admins       map[string]admin
	tenantCode   string
	tenantStatus int
	notFound     NotFoundMode
	fields       Fields
	devices      devices

	// Flight counts requests in flight (MaxInFlight) and can hold them
	// (Hold), to show a client's concurrency cap without timing.
	fakehttp.Flight
}

// New starts a fake whose tenant API key is tenantCode, and which knows
// no admin and no device yet; add them with AddAdmin and AddDevice.
// Close it when done.
func New(tenantCode string) *Fake {
	f := &Fake{
		Server:       fakehttp.New(),
		admins:       make(map[string]admin),
		tenantCode:   tenantCode,
		tenantStatus: http.StatusForbidden,
		fields:       DocumentedFields(),
		devices:      newDevices(),
	}
	f.Before(f.Flight.Begin)
	f.Handle("GET /api/mdm/devices", RouteDevices, f.lookup)
	f.Handle("GET /API/mdm/devices", RouteDevices, f.lookup)
	f.Start()
	return f
}

// AddAdmin registers an admin account whose role grants "REST - Devices",
// for HTTP Basic. Adding a name again replaces its password.
func (f *Fake) AddAdmin(name, password string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.admins[name] = admin{password: password, restDevices: true}
}

// SetAdminRole grants or withdraws "REST - Devices" from an admin added
// before; without it, lookups get 403. It reports whether the admin
// exists.
func (f *Fake) SetAdminRole(name string, restDevices bool) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	a, ok := f.admins[name]
	if ok {
		a.restDevices = restDevices
		f.admins[name] = a
	}
	return ok
}

// TenantCode returns the tenant API key the fake expects.
func (f *Fake) TenantCode() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tenantCode
}

// SetTenantCodeStatus sets the status of a request with a missing or
// wrong aw-tenant-code: 403 (the default) or 401. Other values are
// ignored, as no real server is expected to use them.
func (f *Fake) SetTenantCodeStatus(status int) {
	if status != http.StatusUnauthorized && status != http.StatusForbidden {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tenantStatus = status
}

// SetNotFoundMode sets how a lookup that matches no device is answered.
func (f *Fake) SetNotFoundMode(m NotFoundMode) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.notFound = m
}

// SetFields sets the JSON names served for the four modelled fields.
func (f *Fake) SetFields(names Fields) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fields = names
}

// Close releases held requests and stops the server.
func (f *Fake) Close() {
	f.Hold(0)
	f.Server.Close()
}
