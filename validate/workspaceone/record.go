package workspaceone

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// notFound is the state of a device Workspace ONE does not know.
var notFound = State{Status: StatusNotFound}

// interpret reads an answer to the lookup of key. Only unambiguous
// answers say "not found": 204; 404 with an empty or JSON body (a 404
// page from a proxy or a wrong apiURL is an error, since "not found" may
// later revoke certificates, §11); and 200 with an empty body, null, {},
// [] or an empty search envelope. Everything else must be the device's
// record, or it is an error.
func (c *Checker) interpret(a answer, key string) (State, error) {
	body := bytes.TrimSpace(a.body)
	switch {
	case a.status == http.StatusNoContent:
		return notFound, nil
	case a.status == http.StatusNotFound:
		if len(body) == 0 || json.Valid(body) {
			return notFound, nil
		}
		return State{}, errors.New("HTTP 404 with a body that is not a Workspace ONE answer (check apiURL)")
	case a.status != http.StatusOK:
		return State{}, fmt.Errorf("HTTP %d%s%s", a.status, apiErrorDetail(body), hint(a.status))
	case len(body) == 0:
		return notFound, nil
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return State{}, errors.New("HTTP 200 with a body that is not JSON")
	}
	switch v := v.(type) {
	case nil:
		return notFound, nil
	case []any:
		return c.fromList(v, key)
	case map[string]any:
		if len(v) == 0 {
			return notFound, nil
		}
		if list, found, err := field(v, "Devices"); err == nil && found {
			devices, ok := list.([]any)
			if !ok {
				return State{}, errors.New("HTTP 200 with a Devices member that is not a list")
			}
			return c.fromList(devices, key)
		}
		return c.fromRecord(v, key)
	}
	return State{}, errors.New("HTTP 200 with JSON that is not a device record")
}

// fromList reads a list of records (the search envelope's Devices),
// which a server might answer instead of one record: exactly one must be
// the device. None in an empty list is "not found"; none in a list of
// other devices, or two, is an error, as the server did not do the
// lookup asked of it.
func (c *Checker) fromList(list []any, key string) (State, error) {
	if len(list) == 0 {
		return notFound, nil
	}
	var match map[string]any
	for _, item := range list {
		rec, ok := item.(map[string]any)
		if !ok {
			return State{}, errors.New("HTTP 200 with a list entry that is not a device record")
		}
		if v, _, _ := field(rec, c.keyField()); !isString(v) || !strings.EqualFold(v.(string), key) {
			continue
		}
		if match != nil {
			return State{}, errors.New("answer lists more than one device with this key")
		}
		match = rec
	}
	if match == nil {
		return State{}, errors.New("answer lists devices, none with this key")
	}
	return c.fromRecord(match, key)
}

// keyField is the JSON name of the looked-up identifier.
func (c *Checker) keyField() string {
	if c.cfg.Lookup == LookupUdid {
		return c.cfg.UdidField
	}
	return c.cfg.SerialField
}

// fromRecord reads the device's state from its record, after checking
// that the record is the device asked for: the lookup is the server's
// to do, and a server that ignored or loosened it must not make another
// device pass for this one.
func (c *Checker) fromRecord(rec map[string]any, key string) (State, error) {
	kf := c.keyField()
	v, found, err := field(rec, kf)
	switch {
	case err != nil:
		return State{}, err
	case !found:
		return State{}, fmt.Errorf("device record has no %s field (check the %s setting)", kf, settingOf(c.cfg.Lookup))
	case !isString(v):
		return State{}, fmt.Errorf("device record's %s is not a string", kf)
	case !strings.EqualFold(v.(string), key):
		return State{}, errors.New("device record is for another device")
	}

	var st State
	st.SerialNumber, _ = stringAt(rec, c.cfg.SerialField)
	st.Udid, _ = stringAt(rec, c.cfg.UdidField)

	cv, found, err := field(rec, c.cfg.ComplianceField)
	switch {
	case err != nil:
		return State{}, err
	case !found:
		return State{}, fmt.Errorf("device record has no %s field (check the complianceField setting)", c.cfg.ComplianceField)
	}
	compliance, ok := statusValue(cv, "Compliant", DefaultNonCompliant)
	if !ok {
		return State{}, fmt.Errorf("device record's %s is neither a string, a boolean nor null", c.cfg.ComplianceField)
	}
	st.Compliance = printable(compliance)

	ev, found, err := field(rec, c.cfg.EnrollmentField)
	if err != nil {
		return State{}, err
	}
	enrollment, ok := statusValue(ev, "Enrolled", "Unenrolled")
	switch {
	case c.cfg.RequireEnrolled && !found:
		return State{}, fmt.Errorf("device record has no %s field (check the enrollmentField setting)", c.cfg.EnrollmentField)
	case c.cfg.RequireEnrolled && !ok:
		return State{}, fmt.Errorf("device record's %s is neither a string, a boolean nor null", c.cfg.EnrollmentField)
	}
	st.Enrollment = printable(enrollment)
	st.Enrolled = ok && normalize(enrollment) == "enrolled"

	norm := normalize(compliance)
	switch {
	case c.cfg.RequireEnrolled && !st.Enrolled:
		st.Status = StatusNotEnrolled
	case c.nonCompliant[norm] || cv == false:
		// A boolean false is non-compliant whatever the list says.
		st.Status = StatusNonCompliant
	case norm == "compliant":
		st.Status = StatusCompliant
	default:
		st.Status = StatusNotAssessed
	}
	return st, nil
}

func settingOf(lookup string) string {
	if lookup == LookupUdid {
		return "udidField"
	}
	return "serialField"
}

// statusValue reads a status field liberally: a string as is, null as
// "", and a boolean as yes or no (some API versions may answer
// booleans; unconfirmed). ok is false for any other type.
func statusValue(v any, yes, no string) (string, bool) {
	switch v := v.(type) {
	case nil:
		return "", true
	case string:
		return v, true
	case bool:
		if v {
			return yes, true
		}
		return no, true
	}
	return "", false
}

// field reads a dotted path from rec. Each name is matched exactly
// first, else without regard to case; two names differing only in case
// with neither exact make the answer ambiguous, which is an error.
func field(rec map[string]any, path string) (any, bool, error) {
	var v any = rec
	for _, name := range strings.Split(path, ".") {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, false, nil
		}
		if v, ok = obj[name]; ok {
			continue
		}
		n := 0
		for k, kv := range obj {
			if strings.EqualFold(k, name) {
				v, n = kv, n+1
			}
		}
		switch n {
		case 0:
			return nil, false, nil
		case 1:
		default:
			return nil, false, fmt.Errorf("device record has several fields named %s in different cases", path)
		}
	}
	return v, true, nil
}

// stringAt reads a string at path; anything else reads as "".
func stringAt(rec map[string]any, path string) (string, bool) {
	v, _, _ := field(rec, path)
	s, ok := v.(string)
	if !ok || !validKey(s) {
		return "", false
	}
	return s, true
}

func isString(v any) bool {
	_, ok := v.(string)
	return ok
}

// printable returns s when it is short printable ASCII, so that values
// copied from the answer cannot carry control characters into logs or
// records.
func printable(s string) string {
	if len(s) > 64 {
		return "unrecognised value"
	}
	for i := range len(s) {
		if s[i] < ' ' || s[i] > '~' {
			return "unrecognised value"
		}
	}
	return s
}

// apiErrorDetail returns ": errorCode N, activityId X" from a Workspace
// ONE error body, with only values that look like codes, or "".
func apiErrorDetail(body []byte) string {
	var e struct {
		ErrorCode  any    `json:"errorCode"`
		ActivityID string `json:"activityId"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	var parts []string
	switch code := e.ErrorCode.(type) {
	case float64:
		if code == float64(int64(code)) {
			parts = append(parts, fmt.Sprintf("errorCode %d", int64(code)))
		}
	case string:
		if code != "" {
			parts = append(parts, "errorCode "+safeCode(code))
		}
	}
	if e.ActivityID != "" {
		parts = append(parts, "activityId "+safeCode(e.ActivityID))
	}
	if len(parts) == 0 {
		return ""
	}
	return ": " + strings.Join(parts, ", ")
}
