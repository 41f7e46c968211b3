package jamf

import (
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"
)

// getComputer serves GET /api/v1/computers-inventory/{id}: every
// modelled section, or 404 once deleted.
func (f *Fake) getComputer(w http.ResponseWriter, r *http.Request) {
	f.inv.mu.Lock()
	c, ok := f.inv.computers[r.PathValue("id")]
	f.inv.mu.Unlock()
	if !ok {
		apiError(w, http.StatusNotFound, "INVALID_ID", "id", "Computer not found")
		return
	}
	writeJSON(w, http.StatusOK, renderComputer(c, map[string]bool{"GENERAL": true, "HARDWARE": true, "USER_AND_LOCATION": true}))
}

// getMobileDevice serves GET /api/v2/mobile-devices/{id}, whose record
// is flat (id, name, udid, serialNumber, managed), or 404.
func (f *Fake) getMobileDevice(w http.ResponseWriter, r *http.Request) {
	f.inv.mu.Lock()
	d, ok := f.inv.mobiles[r.PathValue("id")]
	f.inv.mu.Unlock()
	if !ok {
		apiError(w, http.StatusNotFound, "INVALID_ID", "id", "Mobile device not found")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": d.ID, "name": d.Name, "udid": d.UDID,
		"serialNumber": d.SerialNumber, "managed": !d.Unmanaged, "deviceType": "iOS"})
}

// Classic API records. The Classic API answers XML unless the client
// accepts JSON; both carry the same fields.
type classicGeneral struct {
	ID           int    `xml:"id" json:"id"`
	Name         string `xml:"name" json:"name"`
	UDID         string `xml:"udid" json:"udid"`
	SerialNumber string `xml:"serial_number" json:"serial_number"`
	Managed      *bool  `xml:"managed,omitempty" json:"managed,omitempty"`
}

type classicComputer struct {
	XMLName xml.Name       `xml:"computer" json:"-"`
	General classicGeneral `xml:"general" json:"general"`
}

type classicMobileDevice struct {
	XMLName xml.Name       `xml:"mobile_device" json:"-"`
	General classicGeneral `xml:"general" json:"general"`
}

type classicUserRecord struct {
	XMLName xml.Name `xml:"user" json:"-"`
	ID      int      `xml:"id" json:"id"`
	Name    string   `xml:"name" json:"name"`
	Email   string   `xml:"email" json:"email"`
}

// classicComputer serves GET /JSSResource/computers/id/{id}.
func (f *Fake) classicComputer(w http.ResponseWriter, r *http.Request) {
	f.inv.mu.Lock()
	c, ok := f.inv.computers[r.PathValue("id")]
	f.inv.mu.Unlock()
	if !ok {
		classicNotFound(w)
		return
	}
	rec := classicComputer{General: classicGeneral{ID: atoi(c.ID), Name: c.Name, UDID: c.UDID, SerialNumber: c.SerialNumber}}
	writeClassic(w, r, "computer", rec)
}

// classicMobileDevice serves GET /JSSResource/mobiledevices/id/{id}.
func (f *Fake) classicMobileDevice(w http.ResponseWriter, r *http.Request) {
	f.inv.mu.Lock()
	d, ok := f.inv.mobiles[r.PathValue("id")]
	f.inv.mu.Unlock()
	if !ok {
		classicNotFound(w)
		return
	}
	managed := !d.Unmanaged
	rec := classicMobileDevice{General: classicGeneral{ID: atoi(d.ID), Name: d.Name, UDID: d.UDID,
		SerialNumber: d.SerialNumber, Managed: &managed}}
	writeClassic(w, r, "mobile_device", rec)
}

// classicUser serves GET /JSSResource/users/{id|name|email}/{value}.
func (f *Fake) classicUser(w http.ResponseWriter, r *http.Request) {
	key, value := r.PathValue("key"), r.PathValue("value")
	if key != "id" && key != "name" && key != "email" {
		classicNotFound(w)
		return
	}
	f.inv.mu.Lock()
	var found *User
	for _, u := range f.inv.users {
		if key == "id" && u.ID == value || key == "name" && strings.EqualFold(u.Name, value) ||
			key == "email" && strings.EqualFold(u.Email, value) {
			found = &u
			break
		}
	}
	f.inv.mu.Unlock()
	if found == nil {
		classicNotFound(w)
		return
	}
	writeClassic(w, r, "user", classicUserRecord{ID: atoi(found.ID), Name: found.Name, Email: found.Email})
}

// writeClassic answers JSON ({"<root>": rec}) to a client that accepts
// it, and XML otherwise, as the Classic API does.
func writeClassic(w http.ResponseWriter, r *http.Request, root string, rec any) {
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		writeJSON(w, http.StatusOK, map[string]any{root: rec})
		return
	}
	b, err := xml.Marshal(rec)
	if err != nil {
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(b)
}

// classicNotFound is the Classic API's 404, an HTML page.
func classicNotFound(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html;charset=UTF-8")
	w.WriteHeader(http.StatusNotFound)
	_, _ = w.Write([]byte("<html><head><title>Status page</title></head><body><p>The server has not found anything matching the request URI</p></body></html>"))
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
