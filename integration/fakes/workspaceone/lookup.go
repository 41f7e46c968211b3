package workspaceone

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"mime"
	"net/http"
	"strings"
)

// lookup serves GET /api/mdm/devices?searchby=...&id=....
func (f *Fake) lookup(w http.ResponseWriter, r *http.Request) {
	defer f.Flight.End(r)
	if status, code, msg := f.authorize(r); status != 0 {
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Basic realm="Workspace ONE UEM"`)
		}
		writeError(w, status, code, msg)
		return
	}
	searchBy, id := param(r, "searchby"), param(r, "id")
	var field func(Device) string
	switch strings.ToLower(searchBy) {
	case "serialnumber":
		field = func(d Device) string { return d.SerialNumber }
	case "udid":
		field = func(d Device) string { return d.Udid }
	default:
		writeError(w, http.StatusBadRequest, 400, "Invalid or unsupported searchby value.")
		return
	}
	if id == "" {
		writeError(w, http.StatusBadRequest, 400, "The id parameter is required.")
		return
	}
	if !f.Flight.Wait(r.Context()) {
		abort(w) // the client gave up while held
		return
	}
	f.mu.Lock()
	names, notFound := f.fields, f.notFound
	f.mu.Unlock()
	devID, d, ok := f.devices.find(field, id)
	if !ok {
		switch notFound {
		case NotFoundNoContent:
			w.WriteHeader(http.StatusNoContent)
		case NotFoundEmptyList:
			writeJSON(w, http.StatusOK, map[string]any{"Devices": []any{}, "Page": 0, "PageSize": 500, "Total": 0})
		default:
			writeError(w, http.StatusNotFound, 404, "Device not found.")
		}
		return
	}
	if !acceptsJSON(r) {
		writeXML(w, devID, d)
		return
	}
	writeJSON(w, http.StatusOK, d.record(devID, names))
}

// authorize checks Basic credentials, the tenant code and the admin's
// role, and returns the failing status with its error code and message,
// or 0.
func (f *Fake) authorize(r *http.Request) (status, code int, msg string) {
	user, pass, ok := r.BasicAuth()
	f.mu.Lock()
	a, known := f.admins[user]
	tenant, tenantStatus := f.tenantCode, f.tenantStatus
	f.mu.Unlock()
	if !ok || !known || subtle.ConstantTimeCompare([]byte(pass), []byte(a.password)) != 1 {
		return http.StatusUnauthorized, 1005, "User credentials are invalid."
	}
	got := r.Header.Get("aw-tenant-code")
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(tenant)) != 1 {
		return tenantStatus, 1013, "The API key (aw-tenant-code) is missing or invalid."
	}
	if !a.restDevices {
		return http.StatusForbidden, 1019, "The admin's role does not grant REST - Devices."
	}
	return 0, 0, ""
}

// param returns the query parameter name, matched without regard to
// case as ASP.NET binds it.
func param(r *http.Request, name string) string {
	for k, vs := range r.URL.Query() {
		if strings.EqualFold(k, name) && len(vs) > 0 {
			return vs[0]
		}
	}
	return ""
}

// acceptsJSON reports whether the Accept header asks for
// application/json, parameters (version=1) allowed.
func acceptsJSON(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == "application/json" {
			return true
		}
	}
	return false
}

// ErrorBody returns a Workspace ONE error body, for faults that imitate
// a specific error.
func ErrorBody(code int, message string) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	out, _ := json.Marshal(map[string]any{"errorCode": code, "message": message, "activityId": activityID(b)})
	return string(out)
}

// activityID formats 16 random bytes as a GUID.
func activityID(b []byte) string {
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func writeError(w http.ResponseWriter, status, code int, message string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(ErrorBody(code, message)))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// xmlDevice is the XML form of a record, always with the documented
// names.
type xmlDevice struct {
	XMLName          xml.Name `xml:"Device"`
	ID               int      `xml:"Id>Value"`
	SerialNumber     string
	Udid             string
	ComplianceStatus string
	EnrollmentStatus string
}

func writeXML(w http.ResponseWriter, id int, d Device) {
	b, _ := xml.Marshal(xmlDevice{ID: id, SerialNumber: d.SerialNumber, Udid: d.Udid,
		ComplianceStatus: d.ComplianceStatus, EnrollmentStatus: d.EnrollmentStatus})
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// abort closes the connection without answering. Returning from the
// handler instead would make net/http send an empty 200, which a client
// whose close races with ours could take for an answer.
func abort(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}
