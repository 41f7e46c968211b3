package jamf

import (
	"strconv"
	"sync"
)

// Computer is a computer inventory record. Only the fields certgate may
// look up or show are modelled.
type Computer struct {
	// ID is the JSS ID ($JSSID); zero when adding means the next free
	// one.
	ID           string
	UDID         string
	Name         string
	SerialNumber string
	ManagementID string
	MACAddress   string
	// Username and Email are the assigned user (USER_AND_LOCATION).
	Username string
	Email    string
}

// MobileDevice is a mobile device inventory record.
type MobileDevice struct {
	// ID is the JSS ID (mobileDeviceId); zero when adding means the next
	// free one.
	ID           string
	UDID         string
	Name         string
	SerialNumber string
	// Unmanaged is the inverse of general.managed, so that the zero
	// value is a managed device, the usual case.
	Unmanaged bool
	Username  string
	Email     string
}

// User is a Jamf Pro user object (Classic API).
type User struct {
	// ID is the JSS ID; zero when adding means the next free one.
	ID    string
	Name  string
	Email string
}

// inventory holds the fake's objects by JSS ID.
type inventory struct {
	mu        sync.Mutex
	computers map[string]Computer
	mobiles   map[string]MobileDevice
	users     map[string]User
	nextID    map[string]int
}

func newInventory() inventory {
	return inventory{
		computers: make(map[string]Computer),
		mobiles:   make(map[string]MobileDevice),
		users:     make(map[string]User),
		nextID:    map[string]int{"computer": 1, "mobile": 1, "user": 1},
	}
}

// assign returns id, or the next free ID of kind when id is empty, and
// keeps the sequence ahead of numeric IDs chosen by tests.
func (inv *inventory) assign(kind, id string) string {
	if id == "" {
		id = strconv.Itoa(inv.nextID[kind])
	}
	if n, err := strconv.Atoi(id); err == nil && n >= inv.nextID[kind] {
		inv.nextID[kind] = n + 1
	}
	return id
}

// AddComputer adds or replaces a computer and returns its JSS ID.
func (f *Fake) AddComputer(c Computer) string {
	f.inv.mu.Lock()
	defer f.inv.mu.Unlock()
	c.ID = f.inv.assign("computer", c.ID)
	f.inv.computers[c.ID] = c
	return c.ID
}

// DeleteComputer deletes the computer with that JSS ID and reports
// whether it existed.
func (f *Fake) DeleteComputer(id string) bool {
	f.inv.mu.Lock()
	defer f.inv.mu.Unlock()
	_, ok := f.inv.computers[id]
	delete(f.inv.computers, id)
	return ok
}

// AddMobileDevice adds or replaces a mobile device and returns its JSS
// ID.
func (f *Fake) AddMobileDevice(d MobileDevice) string {
	f.inv.mu.Lock()
	defer f.inv.mu.Unlock()
	d.ID = f.inv.assign("mobile", d.ID)
	f.inv.mobiles[d.ID] = d
	return d.ID
}

// DeleteMobileDevice deletes the mobile device with that JSS ID and
// reports whether it existed.
func (f *Fake) DeleteMobileDevice(id string) bool {
	f.inv.mu.Lock()
	defer f.inv.mu.Unlock()
	_, ok := f.inv.mobiles[id]
	delete(f.inv.mobiles, id)
	return ok
}

// AddUser adds or replaces a user and returns its JSS ID.
func (f *Fake) AddUser(u User) string {
	f.inv.mu.Lock()
	defer f.inv.mu.Unlock()
	u.ID = f.inv.assign("user", u.ID)
	f.inv.users[u.ID] = u
	return u.ID
}

// DeleteUser deletes the user with that JSS ID and reports whether it
// existed.
func (f *Fake) DeleteUser(id string) bool {
	f.inv.mu.Lock()
	defer f.inv.mu.Unlock()
	_, ok := f.inv.users[id]
	delete(f.inv.users, id)
	return ok
}

// computerField returns a computer's value of an RSQL/sort field.
func computerField(c Computer, field string) (string, bool) {
	switch field {
	case "id":
		return c.ID, true
	case "udid":
		return c.UDID, true
	case "general.name":
		return c.Name, true
	case "general.managementId":
		return c.ManagementID, true
	case "hardware.serialNumber":
		return c.SerialNumber, true
	case "hardware.macAddress":
		return c.MACAddress, true
	case "userAndLocation.username":
		return c.Username, true
	case "userAndLocation.email":
		return c.Email, true
	}
	return "", false
}

// mobileField returns a mobile device's value of an RSQL/sort field.
func mobileField(d MobileDevice, field string) (string, bool) {
	switch field {
	case "mobileDeviceId":
		return d.ID, true
	case "udid":
		return d.UDID, true
	case "serialNumber":
		return d.SerialNumber, true
	case "displayName":
		return d.Name, true
	case "managed":
		return strconv.FormatBool(!d.Unmanaged), true
	case "username":
		return d.Username, true
	case "emailAddress":
		return d.Email, true
	}
	return "", false
}
