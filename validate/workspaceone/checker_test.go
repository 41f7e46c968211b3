package workspaceone_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certgate/certgate/integration/fakes/fakehttp"
	fakews1 "github.com/certgate/certgate/integration/fakes/workspaceone"
	"github.com/certgate/certgate/validate/workspaceone"
)

// Check reads each state the contract names, and "not found" from every
// answer a server might give for an unknown device.
func TestCheckStates(t *testing.T) {
	type want struct {
		status     workspaceone.Status
		compliance string
		enrolled   bool
	}
	tests := []struct {
		name     string
		dev      *fakews1.Device // nil: no such device
		notFound fakews1.NotFoundMode
		require  bool
		fault    *fakehttp.Fault
		want     want
	}{
		{"ok/compliant", &fakews1.Device{ComplianceStatus: "Compliant", EnrollmentStatus: "Enrolled"}, 0, false, nil,
			want{workspaceone.StatusCompliant, "Compliant", true}},
		{"ok/pending", &fakews1.Device{ComplianceStatus: "Pending Compliance Check", EnrollmentStatus: "Enrolled"}, 0, false, nil,
			want{workspaceone.StatusNotAssessed, "Pending Compliance Check", true}},
		{"ok/not available", &fakews1.Device{ComplianceStatus: "Not Available"}, 0, false, nil,
			want{workspaceone.StatusNotAssessed, "Not Available", false}},
		{"ok/null compliance", &fakews1.Device{EnrollmentStatus: "Enrolled"}, 0, false, nil,
			want{workspaceone.StatusNotAssessed, "", true}},
		{"ok/unenrolled but not required", &fakews1.Device{ComplianceStatus: "Compliant", EnrollmentStatus: "Unenrolled"}, 0, false, nil,
			want{workspaceone.StatusCompliant, "Compliant", false}},
		{"ok/enrolled, required", &fakews1.Device{ComplianceStatus: "Compliant", EnrollmentStatus: "Enrolled"}, 0, true, nil,
			want{workspaceone.StatusCompliant, "Compliant", true}},
		{"fail/non-compliant", &fakews1.Device{ComplianceStatus: "Non-Compliant", EnrollmentStatus: "Enrolled"}, 0, false, nil,
			want{workspaceone.StatusNonCompliant, "Non-Compliant", true}},
		{"fail/non-compliant, identifier spelling", &fakews1.Device{ComplianceStatus: "NonCompliant"}, 0, false, nil,
			want{workspaceone.StatusNonCompliant, "NonCompliant", false}},
		{"fail/not enrolled, required", &fakews1.Device{ComplianceStatus: "Compliant", EnrollmentStatus: "Unenrolled"}, 0, true, nil,
			want{workspaceone.StatusNotEnrolled, "Compliant", false}},
		{"fail/null enrollment, required", &fakews1.Device{ComplianceStatus: "Compliant"}, 0, true, nil,
			want{workspaceone.StatusNotEnrolled, "Compliant", false}},
		{"fail/unknown, 404", nil, fakews1.NotFound404, false, nil, want{status: workspaceone.StatusNotFound}},
		{"fail/unknown, 204", nil, fakews1.NotFoundNoContent, false, nil, want{status: workspaceone.StatusNotFound}},
		{"fail/unknown, empty list", nil, fakews1.NotFoundEmptyList, false, nil, want{status: workspaceone.StatusNotFound}},
		{"fail/unknown, 404 without body", nil, 0, false, &fakehttp.Fault{Status: 404, ContentType: "application/json"},
			want{status: workspaceone.StatusNotFound}},
		{"fail/unknown, 200 empty", nil, 0, false, &fakehttp.Fault{Status: 200, ContentType: "application/json"},
			want{status: workspaceone.StatusNotFound}},
		{"fail/unknown, 200 null", nil, 0, false, &fakehttp.Fault{Status: 200, Body: "null", ContentType: "application/json"},
			want{status: workspaceone.StatusNotFound}},
		{"fail/unknown, 200 {}", nil, 0, false, &fakehttp.Fault{Status: 200, Body: "{}"}, want{status: workspaceone.StatusNotFound}},
		{"fail/unknown, 200 []", nil, 0, false, &fakehttp.Fault{Status: 200, Body: "[]"}, want{status: workspaceone.StatusNotFound}},
		{"ok/boolean compliant", nil, 0, false,
			&fakehttp.Fault{Status: 200, Body: `{"SerialNumber":"C02XYZ","ComplianceStatus":true,"EnrollmentStatus":"Enrolled"}`},
			want{workspaceone.StatusCompliant, "Compliant", true}},
		{"fail/boolean non-compliant", nil, 0, false,
			&fakehttp.Fault{Status: 200, Body: `{"SerialNumber":"C02XYZ","ComplianceStatus":false}`},
			want{workspaceone.StatusNonCompliant, "Non-Compliant", false}},
		{"ok/list with the device", nil, 0, false, &fakehttp.Fault{Status: 200,
			Body: `{"Devices":[{"SerialNumber":"OTHER","ComplianceStatus":"Non-Compliant"},{"SerialNumber":"c02xyz","ComplianceStatus":"Compliant"}],"Total":2}`},
			want{workspaceone.StatusCompliant, "Compliant", false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *workspaceone.Config) { c.RequireEnrolled = tt.require })
			e.fake.SetNotFoundMode(tt.notFound)
			if tt.dev != nil {
				d := *tt.dev
				d.SerialNumber, d.Udid = "C02XYZ", "UDID-1"
				e.fake.AddDevice(d)
			}
			if tt.fault != nil {
				e.fake.SetFault(fakews1.RouteDevices, *tt.fault)
			}
			st, err := e.c.Check(context.Background(), "C02XYZ")
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if st.Status != tt.want.status || st.Compliance != tt.want.compliance || st.Enrolled != tt.want.enrolled {
				t.Errorf("Check = %+v, want %+v", st, tt.want)
			}
			if tt.dev != nil && (st.SerialNumber != "C02XYZ" || st.Udid != "UDID-1") {
				t.Errorf("identifiers %q %q", st.SerialNumber, st.Udid)
			}
		})
	}
}

// Every failure to get a usable answer is an error, never a state, and
// never holds a secret.
func TestCheckErrors(t *testing.T) {
	type fault = fakehttp.Fault
	big := `{"SerialNumber":"C02XYZ","ComplianceStatus":"Compliant","Pad":"` + strings.Repeat("x", 1<<20) + `"}`
	tests := []struct {
		name  string
		key   string
		mod   func(*workspaceone.Config)
		setup func(*fakews1.Fake)
		fault *fault
		want  string // error text; a trailing "…" means a prefix
	}{
		{"fail/500 JSON", "C02XYZ", nil, nil,
			&fault{Status: 500, Body: `{"errorCode":1000,"message":"boom","activityId":"0f1e2d3c-aaaa-bbbb-cccc-000011112222"}`},
			"workspaceone: serial lookup: HTTP 500: errorCode 1000, activityId 0f1e2d3c-aaaa-bbbb-cccc-000011112222"},
		{"fail/500 hostile error body", "C02XYZ", nil, nil,
			&fault{Status: 500, Body: `{"errorCode":"<script>","activityId":"a b\nc"}`},
			"workspaceone: serial lookup: HTTP 500: errorCode unrecognised value, activityId unrecognised value"},
		{"fail/502 HTML", "C02XYZ", nil, nil, ptr(fakehttp.HTML(502)), "workspaceone: serial lookup: HTTP 502"},
		{"fail/503", "C02XYZ", nil, nil, &fault{Status: 503, Body: "Service Unavailable", ContentType: "text/plain"},
			"workspaceone: serial lookup: HTTP 503"},
		{"fail/429", "C02XYZ", nil, nil, &fault{Status: 429, Body: `{"errorCode":429}`, Header: http.Header{"Retry-After": {"60"}}},
			"workspaceone: serial lookup: HTTP 429: errorCode 429"},
		{"fail/wrong password", "C02XYZ", func(c *workspaceone.Config) { c.Password = "wrong-" + adminPass }, nil, nil,
			"workspaceone: serial lookup: HTTP 401: errorCode 1005, activityId …"},
		{"fail/wrong tenant code", "C02XYZ", func(c *workspaceone.Config) { c.TenantCode = "wrong-" + tenantCode }, nil, nil,
			"workspaceone: serial lookup: HTTP 403: errorCode 1013, activityId …"},
		{"fail/wrong tenant code answered 401", "C02XYZ", func(c *workspaceone.Config) { c.TenantCode = "wrong-" + tenantCode },
			func(f *fakews1.Fake) { f.SetTenantCodeStatus(401) }, nil, "workspaceone: serial lookup: HTTP 401: errorCode 1013, activityId …"},
		{"fail/admin without role", "C02XYZ", nil, func(f *fakews1.Fake) { f.SetAdminRole(adminUser, false) }, nil,
			"workspaceone: serial lookup: HTTP 403: errorCode 1019, activityId …"},
		{"fail/404 HTML", "C02XYZ", nil, nil, ptr(fakehttp.HTML(404)),
			"workspaceone: serial lookup: HTTP 404 with a body that is not a Workspace ONE answer (check apiURL)"},
		{"fail/200 HTML", "C02XYZ", nil, nil, &fault{Status: 200, Body: "<html>maintenance</html>"},
			"workspaceone: serial lookup: HTTP 200 with a body that is not JSON"},
		{"fail/200 XML", "C02XYZ", nil, nil,
			&fault{Status: 200, ContentType: "application/xml", Body: "<Device><SerialNumber>C02XYZ</SerialNumber></Device>"},
			"workspaceone: serial lookup: HTTP 200 with a body that is not JSON"},
		{"fail/200 JSON string", "C02XYZ", nil, nil, &fault{Status: 200, Body: `"ok"`, ContentType: "application/json"},
			"workspaceone: serial lookup: HTTP 200 with JSON that is not a device record"},
		{"fail/record for another device", "C02XYZ", nil, nil,
			&fault{Status: 200, Body: `{"SerialNumber":"OTHER","ComplianceStatus":"Compliant"}`},
			"workspaceone: serial lookup: device record is for another device"},
		{"fail/record without serial", "C02XYZ", nil, nil, &fault{Status: 200, Body: `{"ComplianceStatus":"Compliant"}`},
			"workspaceone: serial lookup: device record has no SerialNumber field (check the serialField setting)"},
		{"fail/record without udid", "UDID-1", func(c *workspaceone.Config) { c.Lookup = "udid" }, nil,
			&fault{Status: 200, Body: `{"SerialNumber":"C02XYZ","ComplianceStatus":"Compliant"}`},
			"workspaceone: udid lookup: device record has no Udid field (check the udidField setting)"},
		{"fail/serial not a string", "C02XYZ", nil, nil, &fault{Status: 200, Body: `{"SerialNumber":7,"ComplianceStatus":"Compliant"}`},
			"workspaceone: serial lookup: device record's SerialNumber is not a string"},
		{"fail/record without compliance", "C02XYZ", nil, nil, &fault{Status: 200, Body: `{"SerialNumber":"C02XYZ"}`},
			"workspaceone: serial lookup: device record has no ComplianceStatus field (check the complianceField setting)"},
		{"fail/compliance a number", "C02XYZ", nil, nil, &fault{Status: 200, Body: `{"SerialNumber":"C02XYZ","ComplianceStatus":3}`},
			"workspaceone: serial lookup: device record's ComplianceStatus is neither a string, a boolean nor null"},
		{"fail/enrollment missing, required", "C02XYZ", func(c *workspaceone.Config) { c.RequireEnrolled = true }, nil,
			&fault{Status: 200, Body: `{"SerialNumber":"C02XYZ","ComplianceStatus":"Compliant"}`},
			"workspaceone: serial lookup: device record has no EnrollmentStatus field (check the enrollmentField setting)"},
		{"fail/enrollment an object, required", "C02XYZ", func(c *workspaceone.Config) { c.RequireEnrolled = true }, nil,
			&fault{Status: 200, Body: `{"SerialNumber":"C02XYZ","ComplianceStatus":"Compliant","EnrollmentStatus":{}}`},
			"workspaceone: serial lookup: device record's EnrollmentStatus is neither a string, a boolean nor null"},
		{"fail/fields differing only in case", "C02XYZ", nil, nil,
			&fault{Status: 200, Body: `{"serialnumber":"C02XYZ","SERIALNUMBER":"OTHER","ComplianceStatus":"Compliant"}`},
			"workspaceone: serial lookup: device record has several fields named SerialNumber in different cases"},
		{"fail/list of other devices", "C02XYZ", nil, nil, &fault{Status: 200, Body: `{"Devices":[{"SerialNumber":"OTHER"}]}`},
			"workspaceone: serial lookup: answer lists devices, none with this key"},
		{"fail/list with the device twice", "C02XYZ", nil, nil,
			&fault{Status: 200, Body: `[{"SerialNumber":"C02XYZ","ComplianceStatus":"Compliant"},{"SerialNumber":"C02XYZ","ComplianceStatus":"Non-Compliant"}]`},
			"workspaceone: serial lookup: answer lists more than one device with this key"},
		{"fail/list entry not a record", "C02XYZ", nil, nil, &fault{Status: 200, Body: `[1]`},
			"workspaceone: serial lookup: HTTP 200 with a list entry that is not a device record"},
		{"fail/Devices not a list", "C02XYZ", nil, nil, &fault{Status: 200, Body: `{"Devices":{}}`},
			"workspaceone: serial lookup: HTTP 200 with a Devices member that is not a list"},
		{"fail/too large", "C02XYZ", nil, nil, &fault{Status: 200, Body: big},
			"workspaceone: serial lookup: response larger than 1048576 bytes"},
		{"fail/reset", "C02XYZ", nil, nil, &fault{Reset: true}, "workspaceone: serial lookup: Get \"…"},
		{"fail/timeout", "C02XYZ", func(c *workspaceone.Config) { c.Timeout = 50 * time.Millisecond }, nil, &fault{Hang: true},
			"workspaceone: serial lookup: Get \"…"},
		{"fail/invalid key", "C02 XYZ", nil, nil, nil,
			"workspaceone: lookup: device key is empty, too long or has characters not allowed"},
		{"fail/empty key", "", nil, nil, nil,
			"workspaceone: lookup: device key is empty, too long or has characters not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.mod)
			e.fake.AddDevice(fakews1.Device{SerialNumber: "C02XYZ", Udid: "UDID-1", ComplianceStatus: "Compliant", EnrollmentStatus: "Enrolled"})
			if tt.setup != nil {
				tt.setup(e.fake)
			}
			if tt.fault != nil {
				e.fake.SetFault(fakews1.RouteDevices, *tt.fault)
			}
			st, err := e.c.Check(context.Background(), tt.key)
			assertNoSecret(t, err)
			if err == nil || isRejection(err) || st != (workspaceone.State{}) {
				t.Fatalf("Check = %+v, %v, want a plain error and no state", st, err)
			}
			if prefix, ok := strings.CutSuffix(tt.want, "…"); ok {
				if !strings.HasPrefix(err.Error(), prefix) {
					t.Fatalf("Check error %q, want prefix %q", err, prefix)
				}
			} else if err.Error() != tt.want {
				t.Fatalf("Check error %q, want %q", err, tt.want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// A call that outlives the configured timeout is a deadline error, one
// whose caller gives up is a cancellation, and neither sends twice.
func TestCheckTimeoutAndCancel(t *testing.T) {
	e := newEnv(t, func(c *workspaceone.Config) { c.Timeout = 500 * time.Millisecond })
	e.fake.AddDevice(fakews1.Device{SerialNumber: "S1", ComplianceStatus: "Compliant"})
	e.fake.SetFault(fakews1.RouteDevices, fakehttp.Fault{Hang: true})
	_, err := e.c.Check(context.Background(), "S1")
	if err == nil || isRejection(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Check = %v, want a deadline error", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = e.c.Check(ctx, "S1")
	if err == nil || isRejection(err) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Check with a cancelled context = %v, want context.Canceled", err)
	}
	if n := e.fake.Count(fakews1.RouteDevices); n != 1 {
		t.Errorf("requests = %d, want 1 (no retry, none after cancellation)", n)
	}
}

// The request is the one the contract describes: path, searchby and id,
// HTTP Basic of the configured admin, aw-tenant-code, and Accept JSON.
func TestCheckRequest(t *testing.T) {
	tests := []struct {
		name     string
		apiURL   string // appended to the fake's URL
		lookup   string
		key      string
		searchBy string
	}{
		{"ok/serial", "", "", "C02XYZ", "Serialnumber"},
		{"ok/udid", "/", "udid", "UDID-1", "Udid"},
		{"ok/console REST API URL", "/API/", "serial", "c02xyz", "Serialnumber"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *workspaceone.Config) { c.APIURL += tt.apiURL; c.Lookup = tt.lookup })
			e.fake.AddDevice(fakews1.Device{SerialNumber: "C02XYZ", Udid: "UDID-1", ComplianceStatus: "Compliant"})
			st, err := e.c.Check(context.Background(), tt.key)
			if err != nil || st.Status != workspaceone.StatusCompliant {
				t.Fatalf("Check = %+v, %v", st, err)
			}
			reqs := e.fake.RequestsFor(fakews1.RouteDevices)
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Method != http.MethodGet || r.Path != "/api/mdm/devices" || r.RawQuery != "id="+tt.key+"&searchby="+tt.searchBy {
				t.Errorf("request %s %s?%s", r.Method, r.Path, r.RawQuery)
			}
			user, pass, ok := (&http.Request{Header: r.Header}).BasicAuth()
			if !ok || user != adminUser || pass != adminPass {
				t.Errorf("Authorization is not the admin's Basic credentials")
			}
			if got := r.Header.Get("aw-tenant-code"); got != tenantCode {
				t.Errorf("aw-tenant-code = %q", got)
			}
			if got := r.Header.Get("Accept"); got != "application/json" {
				t.Errorf("Accept = %q", got)
			}
			if got := r.Header.Get("User-Agent"); got != "certgate" {
				t.Errorf("User-Agent = %q", got)
			}
		})
	}
}

// The field-name settings are honoured: names the fake serves under
// other spellings are found once configured, and camelCase is found
// without configuration.
func TestFieldNames(t *testing.T) {
	snake := fakews1.Fields{SerialNumber: "serial_number", Udid: "device_udid",
		ComplianceStatus: "compliance.status", EnrollmentStatus: "enrollment_status"}
	configured := func(c *workspaceone.Config) {
		c.SerialField, c.UdidField, c.ComplianceField, c.EnrollmentField = "serial_number", "device_udid", "compliance.status", "enrollment_status"
	}
	tests := []struct {
		name   string
		served fakews1.Fields
		mod    func(*workspaceone.Config)
		lookup string
		status workspaceone.Status
		err    string
	}{
		{"ok/documented names", fakews1.DocumentedFields(), nil, "serial", workspaceone.StatusNonCompliant, ""},
		{"ok/camelCase without configuration", fakews1.AlternativeFields(), nil, "serial", workspaceone.StatusNonCompliant, ""},
		{"ok/configured names", snake, configured, "serial", workspaceone.StatusNonCompliant, ""},
		{"ok/configured names, udid", snake, configured, "udid", workspaceone.StatusNonCompliant, ""},
		{"fail/names not configured", snake, nil, "serial", 0,
			"workspaceone: serial lookup: device record has no SerialNumber field (check the serialField setting)"},
		{"fail/compliance name not configured", snake, func(c *workspaceone.Config) { c.SerialField = "serial_number" }, "serial", 0,
			"workspaceone: serial lookup: device record has no ComplianceStatus field (check the complianceField setting)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *workspaceone.Config) {
				c.Lookup, c.RequireEnrolled = tt.lookup, true
				if tt.mod != nil {
					tt.mod(c)
				}
			})
			e.fake.SetFields(tt.served)
			e.fake.AddDevice(fakews1.Device{SerialNumber: "C02XYZ", Udid: "UDID-1", ComplianceStatus: "Non-Compliant", EnrollmentStatus: "Enrolled"})
			key := "C02XYZ"
			if tt.lookup == "udid" {
				key = "UDID-1"
			}
			st, err := e.c.Check(context.Background(), key)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("Check = %+v, %v, want %q", st, err, tt.err)
				}
				return
			}
			if err != nil || st.Status != tt.status || !st.Enrolled || st.SerialNumber != "C02XYZ" || st.Udid != "UDID-1" {
				t.Fatalf("Check = %+v, %v, want %v, enrolled, both identifiers", st, err, tt.status)
			}
		})
	}
}

// The NonCompliant setting replaces the default list.
func TestNonCompliantSetting(t *testing.T) {
	tests := []struct {
		name       string
		list       []string
		compliance string
		want       workspaceone.Status
	}{
		{"ok/default list", nil, "Not Available", workspaceone.StatusNotAssessed},
		{"fail/stricter list", []string{"Non-Compliant", "not_available"}, "Not Available", workspaceone.StatusNonCompliant},
		{"ok/list without the default", []string{"Quarantined"}, "Non-Compliant", workspaceone.StatusNotAssessed},
		{"fail/custom value", []string{"Quarantined"}, "QUARANTINED", workspaceone.StatusNonCompliant},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *workspaceone.Config) { c.NonCompliant = tt.list })
			e.fake.AddDevice(fakews1.Device{SerialNumber: "S1", ComplianceStatus: tt.compliance})
			st, err := e.c.Check(context.Background(), "S1")
			if err != nil || st.Status != tt.want {
				t.Fatalf("Check = %+v, %v, want %v", st, err, tt.want)
			}
		})
	}
}

// The default cap is 5: 50 concurrent checks never have more than 5
// lookups in flight, and do reach 5.
func TestConcurrencyCap(t *testing.T) {
	tests := []struct {
		name    string
		max     int // Config.MaxConcurrency
		want    int
		callers int
	}{
		{"ok/default cap", 0, workspaceone.DefaultMaxConcurrency, 50},
		{"ok/lower cap", 2, 2, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *workspaceone.Config) { c.MaxConcurrency = tt.max })
			if n := e.c.MaxConnsPerHost(); n != tt.want {
				t.Errorf("transport MaxConnsPerHost = %d, want %d", n, tt.want)
			}
			e.fake.AddDevice(fakews1.Device{SerialNumber: "S1", ComplianceStatus: "Compliant"})
			// Lookups are released in waves of exactly want: a client
			// allowing more would see more in flight; one allowing fewer
			// would wait until its timeout.
			e.fake.Hold(tt.want)
			var wg sync.WaitGroup
			errs := make(chan error, tt.callers)
			for range tt.callers {
				wg.Go(func() {
					_, err := e.c.Check(context.Background(), "S1")
					errs <- err
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Errorf("Check: %v", err)
				}
			}
			if n := e.fake.MaxInFlight(); n != tt.want {
				t.Errorf("max in flight = %d, want exactly %d", n, tt.want)
			}
			if n := e.fake.Count(fakews1.RouteDevices); n != tt.callers {
				t.Errorf("lookups = %d, want %d", n, tt.callers)
			}
		})
	}
}
