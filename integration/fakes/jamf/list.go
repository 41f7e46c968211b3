package jamf

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Paging limits of the inventory endpoints.
const (
	DefaultPageSize = 100
	MaxPageSize     = 2000
)

// listing describes one inventory endpoint over records of type T.
type listing[T any] struct {
	// field returns a record's value of a filter or sort field.
	field func(T, string) (string, bool)
	// sections are the valid section names; render shows the record with
	// the requested ones.
	sections    []string
	render      func(T, map[string]bool) map[string]any
	defaultSort string
	// idField breaks ties, so pages do not overlap.
	idField string
}

// serve answers a list request over recs with the Jamf Pro envelope
// {"totalCount","results"}.
func (l listing[T]) serve(w http.ResponseWriter, r *http.Request, recs []T) {
	q := r.URL.Query()
	page, ok := intParam(q, "page", 0)
	if !ok || page < 0 {
		apiError(w, http.StatusBadRequest, "INVALID_FIELD", "page", "page must be a non-negative integer")
		return
	}
	size, ok := intParam(q, "page-size", DefaultPageSize)
	if !ok || size < 1 || size > MaxPageSize {
		apiError(w, http.StatusBadRequest, "INVALID_FIELD", "page-size", "page-size must be between 1 and 2000")
		return
	}
	sections, bad := l.requestedSections(q)
	if bad != "" {
		apiError(w, http.StatusBadRequest, "INVALID_FIELD", "section", "unknown section "+bad)
		return
	}
	if f := q.Get("filter"); f != "" {
		node, err := parseFilter(f, func(name string) bool { _, ok := l.field(*new(T), name); return ok })
		if err != nil {
			apiError(w, http.StatusBadRequest, "INVALID_FIELD", "filter", err.Error())
			return
		}
		recs = slices.DeleteFunc(recs, func(rec T) bool {
			return !node.match(func(name string) string { v, _ := l.field(rec, name); return v })
		})
	}
	keys, bad := l.sortKeys(q)
	if bad != "" {
		apiError(w, http.StatusBadRequest, "INVALID_FIELD", "sort", "cannot sort by "+bad)
		return
	}
	slices.SortStableFunc(recs, func(a, b T) int {
		for _, k := range keys {
			va, _ := l.field(a, k.field)
			vb, _ := l.field(b, k.field)
			if c := compareValues(va, vb); c != 0 {
				if k.desc {
					return -c
				}
				return c
			}
		}
		ia, _ := l.field(a, l.idField)
		ib, _ := l.field(b, l.idField)
		return compareValues(ia, ib)
	})
	results := []map[string]any{}
	if from := page * size; from < len(recs) && from >= 0 {
		for _, rec := range recs[from:min(from+size, len(recs))] {
			results = append(results, l.render(rec, sections))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"totalCount": len(recs), "results": results})
}

// requestedSections returns the section parameters (repeated or
// comma-separated), GENERAL when none; bad names an unknown one.
func (l listing[T]) requestedSections(q url.Values) (map[string]bool, string) {
	out := make(map[string]bool)
	for _, v := range q["section"] {
		for s := range strings.SplitSeq(v, ",") {
			s = strings.TrimSpace(s)
			if !slices.Contains(l.sections, s) {
				return nil, s
			}
			out[s] = true
		}
	}
	if len(out) == 0 {
		out["GENERAL"] = true
	}
	return out, ""
}

type sortKey struct {
	field string
	desc  bool
}

// sortKeys parses sort=field[:asc|:desc],... (repeatable); bad names an
// unusable key.
func (l listing[T]) sortKeys(q url.Values) ([]sortKey, string) {
	specs := q["sort"]
	if len(specs) == 0 {
		specs = []string{l.defaultSort}
	}
	var keys []sortKey
	for _, spec := range specs {
		for s := range strings.SplitSeq(spec, ",") {
			name, dir, _ := strings.Cut(strings.TrimSpace(s), ":")
			if _, ok := l.field(*new(T), name); !ok {
				return nil, s
			}
			switch strings.ToLower(dir) {
			case "", "asc":
				keys = append(keys, sortKey{field: name})
			case "desc":
				keys = append(keys, sortKey{field: name, desc: true})
			default:
				return nil, s
			}
		}
	}
	return keys, ""
}

// compareValues orders numbers numerically and other strings without
// regard to case, as Jamf sorts IDs.
func compareValues(a, b string) int {
	na, ea := strconv.ParseInt(a, 10, 64)
	nb, eb := strconv.ParseInt(b, 10, 64)
	if ea == nil && eb == nil {
		return cmp.Compare(na, nb)
	}
	return cmp.Compare(strings.ToLower(a), strings.ToLower(b))
}

func intParam(q url.Values, name string, def int) (int, bool) {
	v := q.Get(name)
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	return n, err == nil
}

// Sections the endpoints accept. Only GENERAL, HARDWARE and
// USER_AND_LOCATION have content; the others are shown as null.
var (
	computerSections = []string{"GENERAL", "DISK_ENCRYPTION", "PURCHASING", "APPLICATIONS", "STORAGE",
		"USER_AND_LOCATION", "CONFIGURATION_PROFILES", "PRINTERS", "SERVICES", "HARDWARE",
		"LOCAL_USER_ACCOUNTS", "CERTIFICATES", "ATTACHMENTS", "PLUGINS", "PACKAGE_RECEIPTS", "FONTS",
		"SECURITY", "OPERATING_SYSTEM", "LICENSED_SOFTWARE", "IBEACONS", "SOFTWARE_UPDATES",
		"EXTENSION_ATTRIBUTES", "CONTENT_CACHING", "GROUP_MEMBERSHIPS"}
	mobileSections = []string{"GENERAL", "HARDWARE", "USER_AND_LOCATION", "PURCHASING", "SECURITY",
		"APPLICATIONS", "EBOOKS", "NETWORK", "SERVICE_SUBSCRIPTIONS", "CERTIFICATES", "PROFILES",
		"USER_PROFILES", "EXTENSION_ATTRIBUTES"}
)

// sectionKey is the JSON key of a section: USER_AND_LOCATION →
// userAndLocation.
func sectionKey(s string) string {
	var b strings.Builder
	for i, w := range strings.Split(strings.ToLower(s), "_") {
		if i > 0 && w != "" {
			w = strings.ToUpper(w[:1]) + w[1:]
		}
		b.WriteString(w)
	}
	return b.String()
}

var computers = listing[Computer]{
	field:       computerField,
	sections:    computerSections,
	render:      renderComputer,
	defaultSort: "id:asc",
	idField:     "id",
}

var mobiles = listing[MobileDevice]{
	field:       mobileField,
	sections:    mobileSections,
	render:      renderMobile,
	defaultSort: "mobileDeviceId:asc",
	idField:     "mobileDeviceId",
}

// renderComputer shows c as /api/v1/computers-inventory does.
func renderComputer(c Computer, sections map[string]bool) map[string]any {
	out := map[string]any{"id": c.ID, "udid": c.UDID}
	for _, s := range computerSections {
		if sections[s] {
			out[sectionKey(s)] = nil
		}
	}
	if sections["GENERAL"] {
		out["general"] = map[string]any{"name": c.Name, "managementId": c.ManagementID,
			"remoteManagement": map[string]any{"managed": true}}
	}
	if sections["HARDWARE"] {
		out["hardware"] = map[string]any{"serialNumber": c.SerialNumber, "macAddress": c.MACAddress}
	}
	if sections["USER_AND_LOCATION"] {
		out["userAndLocation"] = map[string]any{"username": c.Username, "email": c.Email}
	}
	return out
}

// renderMobile shows d as /api/v2/mobile-devices/detail does.
func renderMobile(d MobileDevice, sections map[string]bool) map[string]any {
	out := map[string]any{"mobileDeviceId": d.ID, "deviceType": "iOS"}
	for _, s := range mobileSections {
		if sections[s] {
			out[sectionKey(s)] = nil
		}
	}
	if sections["GENERAL"] {
		out["general"] = map[string]any{"udid": d.UDID, "displayName": d.Name, "managed": !d.Unmanaged}
	}
	if sections["HARDWARE"] {
		out["hardware"] = map[string]any{"serialNumber": d.SerialNumber}
	}
	if sections["USER_AND_LOCATION"] {
		out["userAndLocation"] = map[string]any{"username": d.Username, "emailAddress": d.Email}
	}
	return out
}

// listComputers serves GET /api/v1/computers-inventory.
func (f *Fake) listComputers(w http.ResponseWriter, r *http.Request) {
	f.inv.mu.Lock()
	recs := make([]Computer, 0, len(f.inv.computers))
	for _, c := range f.inv.computers {
		recs = append(recs, c)
	}
	f.inv.mu.Unlock()
	computers.serve(w, r, recs)
}

// listMobileDevices serves GET /api/v2/mobile-devices/detail.
func (f *Fake) listMobileDevices(w http.ResponseWriter, r *http.Request) {
	f.inv.mu.Lock()
	recs := make([]MobileDevice, 0, len(f.inv.mobiles))
	for _, d := range f.inv.mobiles {
		recs = append(recs, d)
	}
	f.inv.mu.Unlock()
	mobiles.serve(w, r, recs)
}
