package jamf

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Inventory is a Jamf Pro inventory endpoint.
type Inventory string

// The two inventories (§7.3).
const (
	Computers     Inventory = "computers"      // GET /api/v1/computers-inventory
	MobileDevices Inventory = "mobile-devices" // GET /api/v2/mobile-devices/detail
)

// Query selects an inventory record by one field.
type Query struct {
	Inventory Inventory
	// Field is the RSQL field: for Computers "id", "udid",
	// "hardware.serialNumber", "general.managementId" or "general.name";
	// for MobileDevices "mobileDeviceId", "udid" or "serialNumber".
	Field string
	// Value is compared without regard to case. It may hold letters,
	// digits, space and . _ : @ + - (at most 128 bytes): never RSQL
	// syntax or a * wildcard.
	Value string
}

// Device is what certgate reads of an inventory record.
type Device struct {
	Inventory Inventory
	// ID is the JSS ID ($JSSID).
	ID           string
	UDID         string
	SerialNumber string
	Name         string
}

// maxPages bounds one lookup's paging: a lookup by a field that should
// be unique never needs more, and a server ignoring the filter must not
// make a lookup walk the whole inventory.
const maxPages = 20

// filter returns the RSQL filter of q, or an error for a query that
// cannot be expressed safely.
func (q Query) filter() (string, error) {
	if _, ok := fieldsOf(q.Inventory)[q.Field]; !ok {
		return "", fmt.Errorf("jamf: lookup: cannot look %s up by %q", safeCode(string(q.Inventory)), safeCode(q.Field))
	}
	if q.Value == "" || len(q.Value) > 128 || strings.IndexFunc(q.Value, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(" ._:@+-", r))
	}) >= 0 {
		return "", errors.New("jamf: lookup: value is empty, too long or has characters not allowed in a filter")
	}
	return q.Field + `=="` + q.Value + `"`, nil
}

// record is an inventory record of either endpoint; IDs may come as
// strings (documented) or numbers.
type record struct {
	ID             flexString `json:"id"`
	MobileDeviceID flexString `json:"mobileDeviceId"`
	UDID           string     `json:"udid"`
	General        *struct {
		Name         string `json:"name"`
		DisplayName  string `json:"displayName"`
		UDID         string `json:"udid"`
		ManagementID string `json:"managementId"`
	} `json:"general"`
	Hardware *struct {
		SerialNumber string `json:"serialNumber"`
	} `json:"hardware"`
}

// fieldsOf maps each queryable field of inv to its value in a record.
func fieldsOf(inv Inventory) map[string]func(*record) string {
	gen := func(f func(g *record) string) func(*record) string {
		return func(r *record) string {
			if r.General == nil {
				return ""
			}
			return f(r)
		}
	}
	serial := func(r *record) string {
		if r.Hardware == nil {
			return ""
		}
		return r.Hardware.SerialNumber
	}
	switch inv {
	case Computers:
		return map[string]func(*record) string{
			"id":                    func(r *record) string { return string(r.ID) },
			"udid":                  func(r *record) string { return r.UDID },
			"hardware.serialNumber": serial,
			"general.managementId":  gen(func(r *record) string { return r.General.ManagementID }),
			"general.name":          gen(func(r *record) string { return r.General.Name }),
		}
	case MobileDevices:
		return map[string]func(*record) string{
			"mobileDeviceId": func(r *record) string { return string(r.MobileDeviceID) },
			"udid":           gen(func(r *record) string { return r.General.UDID }),
			"serialNumber":   serial,
		}
	}
	return nil
}

// device converts a record of inv.
func (r *record) device(inv Inventory) *Device {
	d := &Device{Inventory: inv, ID: string(r.ID), UDID: r.UDID}
	if inv == MobileDevices {
		d.ID = string(r.MobileDeviceID)
	}
	if r.General != nil {
		d.Name = r.General.Name
		if inv == MobileDevices {
			d.Name, d.UDID = r.General.DisplayName, r.General.UDID
		}
	}
	if r.Hardware != nil {
		d.SerialNumber = r.Hardware.SerialNumber
	}
	return d
}

// search pages through the filtered inventory until a record really
// matches: the filter is the server's to apply, and the match is
// checked again here, so a server that ignores or loosens it cannot
// make another device pass for this one.
func (c *DeviceChecker) search(ctx context.Context, q Query, filter string) (*Device, error) {
	path, sortKey := "/api/v1/computers-inventory", "id:asc"
	if q.Inventory == MobileDevices {
		path, sortKey = "/api/v2/mobile-devices/detail", "mobileDeviceId:asc"
	}
	field := fieldsOf(q.Inventory)[q.Field]
	op := string(q.Inventory) + " lookup"
	seen := 0
	for page := range maxPages {
		params := url.Values{
			"section":   {"GENERAL", "HARDWARE"},
			"page":      {strconv.Itoa(page)},
			"page-size": {strconv.Itoa(c.cfg.PageSize)},
			"sort":      {sortKey},
			"filter":    {filter},
		}
		a, err := c.api.get(ctx, path+"?"+params.Encode())
		if err != nil {
			return nil, fmt.Errorf("jamf: %s: %w", op, err)
		}
		if !a.ok() {
			if code := apiErrorCode(a.body); code != "" {
				return nil, fmt.Errorf("jamf: %s: HTTP %d: %s", op, a.status, code)
			}
			return nil, fmt.Errorf("jamf: %s: HTTP %d", op, a.status)
		}
		var env struct {
			TotalCount *int              `json:"totalCount"`
			Results    []json.RawMessage `json:"results"`
		}
		if err := json.Unmarshal(a.body, &env); err != nil || env.Results == nil {
			return nil, fmt.Errorf("jamf: %s: HTTP %d with a body that is not an inventory page", op, a.status)
		}
		for _, raw := range env.Results {
			var rec record
			if err := json.Unmarshal(raw, &rec); err != nil {
				return nil, fmt.Errorf("jamf: %s: a result is not an inventory record", op)
			}
			if strings.EqualFold(field(&rec), q.Value) {
				return rec.device(q.Inventory), nil
			}
		}
		seen += len(env.Results)
		switch {
		case env.TotalCount != nil && seen >= *env.TotalCount:
			return nil, ErrNotFound
		case env.TotalCount != nil && len(env.Results) == 0:
			return nil, fmt.Errorf("jamf: %s: page %d is empty but totalCount is %d", op, page, *env.TotalCount)
		case env.TotalCount == nil && len(env.Results) < c.cfg.PageSize:
			return nil, ErrNotFound
		}
	}
	return nil, fmt.Errorf("jamf: %s: more than %d pages of matches", op, maxPages)
}

// flexString reads a JSON string or number as a string.
type flexString string

// UnmarshalJSON implements json.Unmarshaler.
func (s *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*s = ""
	case len(b) > 0 && b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = flexString(v)
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return err
		}
		*s = flexString(n.String())
	}
	return nil
}
