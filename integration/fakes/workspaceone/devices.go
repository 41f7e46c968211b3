package workspaceone

import (
	"sort"
	"strings"
	"sync"
)

// Device is a device record. Only the fields certgate reads, and a few
// that make the record look like a real one, are modelled.
type Device struct {
	SerialNumber string
	Udid         string
	// ComplianceStatus is served as given, e.g. "Compliant",
	// "Non-Compliant", "Pending Compliance Check", "Not Available";
	// empty is served as null.
	ComplianceStatus string
	// EnrollmentStatus is served as given, e.g. "Enrolled",
	// "Unenrolled"; empty is served as null.
	EnrollmentStatus string
	// FriendlyName is DeviceFriendlyName; Platform e.g. "Apple".
	FriendlyName string
	Platform     string
}

// Common values of ComplianceStatus and EnrollmentStatus, as the
// console shows them (§10); the API's own spelling is unconfirmed.
const (
	Compliant              = "Compliant"
	NonCompliant           = "Non-Compliant"
	PendingComplianceCheck = "Pending Compliance Check"
	NotAvailable           = "Not Available"
	Enrolled               = "Enrolled"
	Unenrolled             = "Unenrolled"
)

// Fields are the JSON names under which the four modelled fields are
// served. A dotted name ("Compliance.Status") nests the value in
// objects; an empty name leaves the field out.
type Fields struct {
	SerialNumber     string
	Udid             string
	ComplianceStatus string
	EnrollmentStatus string
}

// DocumentedFields returns the commonly documented names (§10):
// SerialNumber, Udid, ComplianceStatus, EnrollmentStatus.
func DocumentedFields() Fields {
	return Fields{SerialNumber: "SerialNumber", Udid: "Udid", ComplianceStatus: "ComplianceStatus", EnrollmentStatus: "EnrollmentStatus"}
}

// AlternativeFields returns camelCase names, the convention of Workspace
// ONE's newer API versions (unconfirmed for this route): serialNumber,
// udid, complianceStatus, enrollmentStatus.
func AlternativeFields() Fields {
	return Fields{SerialNumber: "serialNumber", Udid: "udid", ComplianceStatus: "complianceStatus", EnrollmentStatus: "enrollmentStatus"}
}

// devices holds the fake's records by device ID.
type devices struct {
	mu     sync.Mutex
	byID   map[int]Device
	nextID int
}

func newDevices() devices { return devices{byID: make(map[int]Device), nextID: 1} }

// AddDevice adds d and returns its Workspace ONE device ID.
func (f *Fake) AddDevice(d Device) int {
	s := &f.devices
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextID
	s.nextID++
	s.byID[id] = d
	return id
}

// RemoveDevice deletes a device (a wipe and delete in the console), and
// reports whether it existed.
func (f *Fake) RemoveDevice(id int) bool {
	return f.update(id, func(_ *Device) bool { return false })
}

// SetCompliance changes a device's ComplianceStatus and reports whether
// the device exists.
func (f *Fake) SetCompliance(id int, status string) bool {
	return f.update(id, func(d *Device) bool { d.ComplianceStatus = status; return true })
}

// SetEnrollment changes a device's EnrollmentStatus and reports whether
// the device exists.
func (f *Fake) SetEnrollment(id int, status string) bool {
	return f.update(id, func(d *Device) bool { d.EnrollmentStatus = status; return true })
}

// update applies fn to device id; fn returning false deletes it.
func (f *Fake) update(id int, fn func(*Device) bool) bool {
	s := &f.devices
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.byID[id]
	if !ok {
		return false
	}
	if fn(&d) {
		s.byID[id] = d
	} else {
		delete(s.byID, id)
	}
	return true
}

// find returns the device with the lowest ID whose field matches value
// without regard to case.
func (s *devices) find(field func(Device) string, value string) (int, Device, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]int, 0, len(s.byID))
	for id := range s.byID {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	for _, id := range ids {
		if d := s.byID[id]; strings.EqualFold(field(d), value) {
			return id, d, true
		}
	}
	return 0, Device{}, false
}

// record renders d as the JSON object the API serves, with the four
// modelled fields under names.
func (d Device) record(id int, names Fields) map[string]any {
	rec := map[string]any{
		"Id":                 map[string]any{"Value": id},
		"DeviceFriendlyName": d.FriendlyName,
		"Platform":           d.Platform,
		"CompromisedStatus":  false,
	}
	put(rec, names.SerialNumber, d.SerialNumber)
	put(rec, names.Udid, d.Udid)
	put(rec, names.ComplianceStatus, nullable(d.ComplianceStatus))
	put(rec, names.EnrollmentStatus, nullable(d.EnrollmentStatus))
	return rec
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// put sets v at a dotted path in rec, creating objects on the way; an
// empty path sets nothing.
func put(rec map[string]any, path string, v any) {
	if path == "" {
		return
	}
	parts := strings.Split(path, ".")
	m := rec
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = make(map[string]any)
			m[p] = next
		}
		m = next
	}
	m[parts[len(parts)-1]] = v
}
