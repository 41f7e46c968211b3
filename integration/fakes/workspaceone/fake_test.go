package workspaceone_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/certgate/certgate/integration/fakes/fakehttp"
	"github.com/certgate/certgate/integration/fakes/workspaceone"
)

const (
	adminUser  = "api-admin"
	adminPass  = "admin-passw0rd"
	tenantCode = "tenant-api-key-123"
)

func newFake(t *testing.T) *workspaceone.Fake {
	t.Helper()
	f := workspaceone.New(tenantCode)
	t.Cleanup(f.Close)
	f.AddAdmin(adminUser, adminPass)
	return f
}

// creds are what a request carries; the zero value carries the good ones.
type creds struct {
	user, pass, tenant, accept  string
	noBasic, noTenant, noAccept bool
}

type answer struct {
	status int
	header http.Header
	body   string
	json   map[string]any
}

func lookup(t *testing.T, f *workspaceone.Fake, pathQuery string, c creds) answer {
	t.Helper()
	return lookupCtx(t, context.Background(), f, pathQuery, c)
}

func lookupCtx(t *testing.T, ctx context.Context, f *workspaceone.Fake, pathQuery string, c creds) answer {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, f.URL()+pathQuery, nil)
	user, pass, tenant, accept := adminUser, adminPass, tenantCode, "application/json"
	if c.user != "" {
		user = c.user
	}
	if c.pass != "" {
		pass = c.pass
	}
	if c.tenant != "" {
		tenant = c.tenant
	}
	if c.accept != "" {
		accept = c.accept
	}
	if !c.noBasic {
		req.SetBasicAuth(user, pass)
	}
	if !c.noTenant {
		req.Header.Set("aw-tenant-code", tenant)
	}
	if !c.noAccept {
		req.Header.Set("Accept", accept)
	}
	resp, err := f.Client().Do(req)
	if err != nil {
		t.Errorf("GET %s: %v", pathQuery, err)
		return answer{}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, body: string(b)}
	_ = json.Unmarshal(b, &a.json)
	return a
}

func bySerial(serial string) string {
	return "/api/mdm/devices?" + url.Values{"searchby": {"Serialnumber"}, "id": {serial}}.Encode()
}

func errorCode(a answer) any { return a.json["errorCode"] }

func TestLookup(t *testing.T) {
	f := newFake(t)
	id := f.AddDevice(workspaceone.Device{SerialNumber: "C02XYZ", Udid: "UDID-1", ComplianceStatus: workspaceone.Compliant,
		EnrollmentStatus: workspaceone.Enrolled, FriendlyName: "Lab Mac", Platform: "Apple"})
	f.AddDevice(workspaceone.Device{SerialNumber: "C02ABC", Udid: "UDID-2"})
	tests := []struct {
		name      string
		pathQuery string
		c         creds
		status    int
		serial    string // of the answered record
		errCode   float64
	}{
		{"ok/by serial", bySerial("C02XYZ"), creds{}, 200, "C02XYZ", 0},
		{"ok/by serial ignoring case", bySerial("c02xyz"), creds{}, 200, "C02XYZ", 0},
		{"ok/by udid", "/api/mdm/devices?searchby=Udid&id=UDID-2", creds{}, 200, "C02ABC", 0},
		{"ok/upper-case path and searchBy", "/API/mdm/devices?searchBy=SerialNumber&id=C02XYZ", creds{}, 200, "C02XYZ", 0},
		{"ok/versioned accept", bySerial("C02XYZ"), creds{accept: "application/json;version=1"}, 200, "C02XYZ", 0},
		{"fail/unknown search type", "/api/mdm/devices?searchby=Macaddress&id=x", creds{}, 400, "", 400},
		{"fail/no search type", "/api/mdm/devices?id=x", creds{}, 400, "", 400},
		{"fail/no id", "/api/mdm/devices?searchby=Udid", creds{}, 400, "", 400},
		{"fail/no basic", bySerial("C02XYZ"), creds{noBasic: true}, 401, "", 1005},
		{"fail/wrong password", bySerial("C02XYZ"), creds{pass: "nope"}, 401, "", 1005},
		{"fail/unknown admin", bySerial("C02XYZ"), creds{user: "who"}, 401, "", 1005},
		{"fail/no tenant code", bySerial("C02XYZ"), creds{noTenant: true}, 403, "", 1013},
		{"fail/wrong tenant code", bySerial("C02XYZ"), creds{tenant: "other"}, 403, "", 1013},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := lookup(t, f, tt.pathQuery, tt.c)
			if a.status != tt.status {
				t.Fatalf("HTTP %d %s, want %d", a.status, a.body, tt.status)
			}
			if tt.status == 401 && !strings.HasPrefix(a.header.Get("WWW-Authenticate"), "Basic ") {
				t.Errorf("401 without a Basic challenge: %v", a.header)
			}
			if tt.errCode != 0 {
				if errorCode(a) != tt.errCode || a.json["message"] == "" || a.json["activityId"] == "" {
					t.Errorf("error body %s, want errorCode %v, message and activityId", a.body, tt.errCode)
				}
				return
			}
			if a.json["SerialNumber"] != tt.serial || a.json["ComplianceStatus"] == "" {
				t.Errorf("body %s, want device %s", a.body, tt.serial)
			}
		})
	}
	a := lookup(t, f, bySerial("C02XYZ"), creds{})
	want := map[string]any{"Id": map[string]any{"Value": float64(id)}, "SerialNumber": "C02XYZ", "Udid": "UDID-1",
		"ComplianceStatus": "Compliant", "EnrollmentStatus": "Enrolled", "DeviceFriendlyName": "Lab Mac",
		"Platform": "Apple", "CompromisedStatus": false}
	if got, _ := json.Marshal(a.json); string(got) != mustJSON(want) {
		t.Errorf("record %s, want %s", got, mustJSON(want))
	}
	if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// Without Accept: application/json the fake answers XML, as the real API
// does by default.
func TestAcceptXML(t *testing.T) {
	f := newFake(t)
	f.AddDevice(workspaceone.Device{SerialNumber: "S1", ComplianceStatus: workspaceone.Compliant})
	tests := []struct {
		name string
		c    creds
	}{
		{"ok/no accept", creds{noAccept: true}},
		{"ok/xml accept", creds{accept: "application/xml"}},
		{"ok/any", creds{accept: "*/*"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := lookup(t, f, bySerial("S1"), tt.c)
			if a.status != 200 || !strings.HasPrefix(a.header.Get("Content-Type"), "application/xml") ||
				!strings.Contains(a.body, "<SerialNumber>S1</SerialNumber>") {
				t.Errorf("HTTP %d %q %s, want XML", a.status, a.header.Get("Content-Type"), a.body)
			}
		})
	}
}

// The tenant-code status knob, and an admin without the REST role.
func TestAuthVariants(t *testing.T) {
	f := newFake(t)
	f.AddDevice(workspaceone.Device{SerialNumber: "S1"})
	f.SetTenantCodeStatus(401)
	f.SetTenantCodeStatus(500) // ignored
	if a := lookup(t, f, bySerial("S1"), creds{tenant: "wrong"}); a.status != 401 || errorCode(a) != float64(1013) {
		t.Errorf("wrong tenant code with status 401: HTTP %d %s", a.status, a.body)
	}
	f.SetTenantCodeStatus(403)
	if !f.SetAdminRole(adminUser, false) || f.SetAdminRole("nobody", true) {
		t.Fatal("SetAdminRole reported wrong existence")
	}
	if a := lookup(t, f, bySerial("S1"), creds{}); a.status != 403 || errorCode(a) != float64(1019) {
		t.Errorf("admin without role: HTTP %d %s", a.status, a.body)
	}
	f.SetAdminRole(adminUser, true)
	if a := lookup(t, f, bySerial("S1"), creds{}); a.status != 200 {
		t.Errorf("role granted again: HTTP %d %s", a.status, a.body)
	}
	if got := f.TenantCode(); got != tenantCode {
		t.Errorf("TenantCode = %q", got)
	}
}

func TestNotFoundModes(t *testing.T) {
	f := newFake(t)
	gone := f.AddDevice(workspaceone.Device{SerialNumber: "GONE"})
	if !f.RemoveDevice(gone) || f.RemoveDevice(gone) {
		t.Fatal("RemoveDevice reported wrong existence")
	}
	tests := []struct {
		name   string
		mode   workspaceone.NotFoundMode
		status int
		body   string
	}{
		{"ok/404", workspaceone.NotFound404, 404, ""},
		{"ok/204", workspaceone.NotFoundNoContent, 204, "-"},
		{"ok/empty list", workspaceone.NotFoundEmptyList, 200, `{"Devices":[],"Page":0,"PageSize":500,"Total":0}`},
	}
	for _, tt := range tests {
		for _, serial := range []string{"GONE", "NEVER"} {
			t.Run(tt.name+"/"+serial, func(t *testing.T) {
				f.SetNotFoundMode(tt.mode)
				a := lookup(t, f, bySerial(serial), creds{})
				if a.status != tt.status {
					t.Fatalf("HTTP %d %s, want %d", a.status, a.body, tt.status)
				}
				switch tt.body {
				case "":
					if errorCode(a) != float64(404) {
						t.Errorf("body %s, want an error body", a.body)
					}
				case "-":
					if a.body != "" {
						t.Errorf("body %q, want none", a.body)
					}
				default:
					if a.body != tt.body {
						t.Errorf("body %s, want %s", a.body, tt.body)
					}
				}
			})
		}
	}
}

func TestFields(t *testing.T) {
	f := newFake(t)
	id := f.AddDevice(workspaceone.Device{SerialNumber: "S1", Udid: "U1", ComplianceStatus: workspaceone.NonCompliant,
		EnrollmentStatus: workspaceone.Enrolled})
	tests := []struct {
		name   string
		fields workspaceone.Fields
		want   map[string]any // path → value
		absent []string
	}{
		{"ok/documented", workspaceone.DocumentedFields(),
			map[string]any{"SerialNumber": "S1", "Udid": "U1", "ComplianceStatus": "Non-Compliant", "EnrollmentStatus": "Enrolled"}, nil},
		{"ok/alternative", workspaceone.AlternativeFields(),
			map[string]any{"serialNumber": "S1", "udid": "U1", "complianceStatus": "Non-Compliant", "enrollmentStatus": "Enrolled"},
			[]string{"SerialNumber", "ComplianceStatus"}},
		{"ok/nested and omitted", workspaceone.Fields{SerialNumber: "Serial", ComplianceStatus: "Compliance.Status"},
			map[string]any{"Serial": "S1", "Compliance.Status": "Non-Compliant"}, []string{"Udid", "EnrollmentStatus", "enrollmentStatus"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.SetFields(tt.fields)
			a := lookup(t, f, bySerial("S1"), creds{})
			if a.status != 200 {
				t.Fatalf("HTTP %d %s", a.status, a.body)
			}
			for path, want := range tt.want {
				if got := at(a.json, path); got != want {
					t.Errorf("%s = %v, want %v (body %s)", path, got, want, a.body)
				}
			}
			for _, k := range tt.absent {
				if _, ok := a.json[k]; ok {
					t.Errorf("%s present in %s", k, a.body)
				}
			}
		})
	}
	f.SetFields(workspaceone.DocumentedFields())
	if !f.SetCompliance(id, workspaceone.Compliant) || !f.SetEnrollment(id, "") || f.SetCompliance(99, "x") || f.SetEnrollment(99, "x") {
		t.Fatal("Set* reported wrong existence")
	}
	a := lookup(t, f, bySerial("S1"), creds{})
	if v, ok := a.json["EnrollmentStatus"]; a.json["ComplianceStatus"] != "Compliant" || !ok || v != nil {
		t.Errorf("after changes: %s, want Compliant and a null EnrollmentStatus", a.body)
	}
}

// at reads a dotted path from a decoded JSON object.
func at(m map[string]any, path string) any {
	var v any = m
	for _, p := range strings.Split(path, ".") {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = obj[p]
	}
	return v
}

// Requests are recorded with their headers, and faults apply per route
// before the fake's own answer.
func TestRecordingAndFaults(t *testing.T) {
	f := newFake(t)
	f.AddDevice(workspaceone.Device{SerialNumber: "S1"})
	f.SetFault(workspaceone.RouteDevices, fakehttp.Fault{Times: 1, Status: 503, Body: workspaceone.ErrorBody(503, "busy")})
	if a := lookup(t, f, bySerial("S1"), creds{}); a.status != 503 {
		t.Errorf("faulted: HTTP %d", a.status)
	}
	if a := lookup(t, f, bySerial("S1"), creds{}); a.status != 200 {
		t.Errorf("after the fault: HTTP %d", a.status)
	}
	reqs := f.RequestsFor(workspaceone.RouteDevices)
	if len(reqs) != 2 || !reqs[0].Faulted || reqs[1].Faulted {
		t.Fatalf("recorded %+v", reqs)
	}
	r := reqs[1]
	user, pass, ok := (&http.Request{Header: r.Header}).BasicAuth()
	if !ok || user != adminUser || pass != adminPass || r.Header.Get("aw-tenant-code") != tenantCode ||
		r.Header.Get("Accept") != "application/json" || r.Path != "/api/mdm/devices" || r.RawQuery != "id=S1&searchby=Serialnumber" {
		t.Errorf("recorded request %+v", r)
	}
	if n := f.InFlight(); n != 0 {
		t.Errorf("InFlight = %d after all answered", n)
	}
}

// Hold lets exactly n lookups through together, so the maximum in
// flight of a client limited to n is n, without any timing.
func TestHoldAndMaxInFlight(t *testing.T) {
	f := newFake(t)
	f.AddDevice(workspaceone.Device{SerialNumber: "S1"})
	tests := []struct {
		name    string
		hold    int
		limit   int // the client's own cap
		callers int
	}{
		{"ok/client limited to the hold", 3, 3, 9},
		{"ok/all at once", 6, 6, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.ResetMaxInFlight()
			f.Hold(tt.hold)
			defer f.Hold(0)
			sem := make(chan struct{}, tt.limit)
			var wg sync.WaitGroup
			for range tt.callers {
				wg.Go(func() {
					sem <- struct{}{}
					defer func() { <-sem }()
					if a := lookup(t, f, bySerial("S1"), creds{}); a.status != 200 {
						t.Errorf("held lookup: HTTP %d", a.status)
					}
				})
			}
			wg.Wait()
			if n := f.MaxInFlight(); n != tt.hold {
				t.Errorf("MaxInFlight = %d, want %d", n, tt.hold)
			}
			if n := f.InFlight(); n != 0 {
				t.Errorf("InFlight after all answered = %d, want 0", n)
			}
		})
	}
}

// A lookup that gives up while held is released and uncounted.
func TestHoldClientGivesUp(t *testing.T) {
	f := newFake(t)
	f.AddDevice(workspaceone.Device{SerialNumber: "S1"})
	f.Hold(2)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, f.URL()+bySerial("S1"), nil)
	req.SetBasicAuth(adminUser, adminPass)
	req.Header.Set("aw-tenant-code", tenantCode)
	errc := make(chan error, 1)
	go func() {
		resp, err := f.Client().Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	for f.InFlight() == 0 {
		runtime.Gosched() // until the request has arrived
	}
	cancel()
	if err := <-errc; err == nil {
		t.Fatal("cancelled held request succeeded")
	}
	f.Hold(0)
	if a := lookup(t, f, bySerial("S1"), creds{}); a.status != 200 {
		t.Errorf("after release: HTTP %d", a.status)
	}
	for f.InFlight() != 0 {
		runtime.Gosched() // the given-up request is uncounted once the server is done with it
	}
}
