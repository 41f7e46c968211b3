package jamf_test

import (
	"context"
	"errors"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certgate/certgate/integration/fakes/fakehttp"
	fakejamf "github.com/certgate/certgate/integration/fakes/jamf"
	"github.com/certgate/certgate/validate/jamf"
)

// CheckDevice: present objects pass, absent ones are rejections, and
// every failure to get an answer is an error that is not a rejection.
func TestCheckDevice(t *testing.T) {
	e := newEnv(t, func(c *jamf.CheckerConfig) { c.Timeout = time.Second })
	mac := e.fake.AddComputer(fakejamf.Computer{ID: "123", UDID: "MAC"})
	ipad := e.fake.AddMobileDevice(fakejamf.MobileDevice{ID: "77", UDID: "IPAD"})
	deleted := e.fake.AddComputer(fakejamf.Computer{ID: "124", UDID: "OLD"})
	computer := jamf.DeviceRef{Kind: jamf.KindComputer, JSSID: mac}
	type fault = fakehttp.Fault
	tests := []struct {
		name   string
		ref    jamf.DeviceRef
		faults []fault
		reason string // rejection reason
		err    string // prefix of a non-rejection error
	}{
		{"ok/computer", computer, nil, "", ""},
		{"ok/mobile device", jamf.DeviceRef{Kind: jamf.KindMobileDevice, JSSID: ipad}, nil, "", ""},
		{"ok/user on computer", jamf.DeviceRef{Kind: jamf.KindUserOnComputer, JSSID: mac}, nil, "", ""},
		{"fail/503", computer, []fault{{Status: 503, Body: fakejamf.ErrorBody(503, "BUSY", "", "busy")}}, "",
			"jamf: computers lookup: HTTP 503: BUSY"},
		{"fail/absent", jamf.DeviceRef{Kind: jamf.KindComputer, JSSID: "999"}, nil, "jamf: computers object not found in Jamf Pro", ""},
		{"fail/deleted", jamf.DeviceRef{Kind: jamf.KindComputer, JSSID: deleted}, nil, "jamf: computers object not found in Jamf Pro", ""},
		{"fail/absent mobile", jamf.DeviceRef{Kind: jamf.KindUserOnDevice, JSSID: mac}, nil, "jamf: users-on-devices object not found in Jamf Pro", ""},
		{"fail/invalid JSS ID", jamf.DeviceRef{Kind: jamf.KindComputer, JSSID: "1;id=gt=0"}, nil, "jamf: not a valid JSS ID", ""},
		{"fail/500 JSON", computer, []fault{{Status: 500, Body: fakejamf.ErrorBody(500, "INTERNAL_ERROR", "", "boom")}}, "",
			"jamf: computers lookup: HTTP 500: INTERNAL_ERROR"},
		{"fail/502 HTML", computer, []fault{fakehttp.HTML(502)}, "", "jamf: computers lookup: HTTP 502"},
		{"fail/200 HTML", computer, []fault{{Status: 200, ContentType: "text/html", Body: "<html>maintenance</html>"}}, "",
			"jamf: computers lookup: HTTP 200 with a body that is not an inventory page"},
		{"fail/200 JSON without results", computer, []fault{{Status: 200, Body: `{"totalCount":0}`}}, "",
			"jamf: computers lookup: HTTP 200 with a body that is not an inventory page"},
		{"fail/bad record", computer, []fault{{Status: 200, Body: `{"totalCount":1,"results":[{"id":{"x":1}}]}`}}, "",
			"jamf: computers lookup: a result is not an inventory record"},
		{"fail/404 endpoint", computer, []fault{{Status: 404, Body: fakejamf.ErrorBody(404, "NOT_FOUND", "", "no such endpoint")}}, "",
			"jamf: computers lookup: HTTP 404: NOT_FOUND"},
		{"fail/reset", computer, []fault{{Reset: true}}, "", "jamf: computers lookup: "},
		{"fail/timeout", computer, []fault{{Hang: true}}, "", "jamf: computers lookup: "},
		{"fail/401 twice", computer, []fault{{Status: 401, Body: fakejamf.ErrorBody(401, "INVALID_TOKEN", "", "")}}, "",
			"jamf: computers lookup: HTTP 401: INVALID_TOKEN"},
	}
	e.fake.DeleteComputer(deleted)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.fake.ClearFaults()
			for _, f := range tt.faults {
				e.fake.AddFault(fakejamf.RouteComputers, f)
			}
			err := e.c.CheckDevice(context.Background(), tt.ref)
			e.assertNoSecret(t, err)
			switch {
			case tt.reason != "":
				if !isRejection(err) || err.Error() != "validate: rejected: "+tt.reason {
					t.Fatalf("CheckDevice = %v, want rejection %q", err, tt.reason)
				}
			case tt.err != "":
				if err == nil || isRejection(err) || !strings.HasPrefix(err.Error(), tt.err) {
					t.Fatalf("CheckDevice = %v, want a non-rejection error %q", err, tt.err)
				}
			default:
				if err != nil {
					t.Fatalf("CheckDevice = %v", err)
				}
			}
		})
	}
}

// A call that outlives the configured timeout is an error, and so is
// one whose caller gives up.
func TestCheckDeviceTimeoutIsError(t *testing.T) {
	e := newEnv(t, func(c *jamf.CheckerConfig) { c.Timeout = 50 * time.Millisecond })
	e.fake.AddComputer(fakejamf.Computer{ID: "1"})
	e.fake.SetFault(fakejamf.RouteComputers, fakehttp.Fault{Hang: true})
	err := e.c.CheckDevice(context.Background(), jamf.DeviceRef{Kind: jamf.KindComputer, JSSID: "1"})
	if err == nil || isRejection(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("CheckDevice = %v, want a deadline error", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = e.c.CheckDevice(ctx, jamf.DeviceRef{Kind: jamf.KindComputer, JSSID: "1"})
	if err == nil || isRejection(err) || !errors.Is(err, context.Canceled) {
		t.Fatalf("CheckDevice with a cancelled context = %v, want context.Canceled", err)
	}
}

// Each lookup sends the filter and paging the contract describes.
func TestFindRequest(t *testing.T) {
	e := newEnv(t, func(c *jamf.CheckerConfig) { c.PageSize = 50 })
	e.fake.AddComputer(fakejamf.Computer{ID: "5", UDID: "ABC-1", SerialNumber: "C02XYZ", Name: "Lab Mac"})
	e.fake.AddMobileDevice(fakejamf.MobileDevice{ID: "6", UDID: "IPAD-1", SerialNumber: "DMPQ", Name: "Lab iPad"})
	tests := []struct {
		name   string
		q      jamf.Query
		route  string
		filter string
		want   jamf.Device
	}{
		{"ok/computer by udid ignoring case", jamf.Query{Inventory: jamf.Computers, Field: "udid", Value: "abc-1"},
			fakejamf.RouteComputers, `udid=="abc-1"`,
			jamf.Device{Inventory: jamf.Computers, ID: "5", UDID: "ABC-1", SerialNumber: "C02XYZ", Name: "Lab Mac"}},
		{"ok/computer by serial", jamf.Query{Inventory: jamf.Computers, Field: "hardware.serialNumber", Value: "C02XYZ"},
			fakejamf.RouteComputers, `hardware.serialNumber=="C02XYZ"`,
			jamf.Device{Inventory: jamf.Computers, ID: "5", UDID: "ABC-1", SerialNumber: "C02XYZ", Name: "Lab Mac"}},
		{"ok/computer by name with space", jamf.Query{Inventory: jamf.Computers, Field: "general.name", Value: "lab mac"},
			fakejamf.RouteComputers, `general.name=="lab mac"`,
			jamf.Device{Inventory: jamf.Computers, ID: "5", UDID: "ABC-1", SerialNumber: "C02XYZ", Name: "Lab Mac"}},
		{"ok/mobile by udid", jamf.Query{Inventory: jamf.MobileDevices, Field: "udid", Value: "IPAD-1"},
			fakejamf.RouteMobileDevices, `udid=="IPAD-1"`,
			jamf.Device{Inventory: jamf.MobileDevices, ID: "6", UDID: "IPAD-1", SerialNumber: "DMPQ", Name: "Lab iPad"}},
		{"ok/mobile by serial", jamf.Query{Inventory: jamf.MobileDevices, Field: "serialNumber", Value: "dmpq"},
			fakejamf.RouteMobileDevices, `serialNumber=="dmpq"`,
			jamf.Device{Inventory: jamf.MobileDevices, ID: "6", UDID: "IPAD-1", SerialNumber: "DMPQ", Name: "Lab iPad"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.fake.ResetRequests()
			got, err := e.c.Find(context.Background(), tt.q)
			if err != nil || *got != tt.want {
				t.Fatalf("Find = %+v, %v, want %+v", got, err, tt.want)
			}
			reqs := e.fake.RequestsFor(tt.route)
			if len(reqs) != 1 {
				t.Fatalf("%d requests on %s, want 1", len(reqs), tt.route)
			}
			q, _ := url.ParseQuery(reqs[0].RawQuery)
			if q.Get("filter") != tt.filter || q.Get("page") != "0" || q.Get("page-size") != "50" ||
				strings.Join(q["section"], ",") != "GENERAL,HARDWARE" || q.Get("sort") == "" {
				t.Errorf("query %v, want filter %s, page 0, page-size 50, sections and a sort", q, tt.filter)
			}
			if h := reqs[0].Header; h.Get("Accept") != "application/json" || !strings.HasPrefix(h.Get("Authorization"), "Bearer ") {
				t.Errorf("headers %v", h)
			}
		})
	}
}

func TestFindRefusesUnsafeQueries(t *testing.T) {
	e := newEnv(t, nil)
	tests := []struct {
		name string
		q    jamf.Query
		want string
	}{
		{"fail/wildcard", jamf.Query{Inventory: jamf.Computers, Field: "udid", Value: "*"}, "jamf: lookup: value is empty"},
		{"fail/RSQL injection", jamf.Query{Inventory: jamf.Computers, Field: "udid", Value: `x",id=gt=0,udid=="y`}, "jamf: lookup: value is empty"},
		{"fail/empty", jamf.Query{Inventory: jamf.Computers, Field: "udid"}, "jamf: lookup: value is empty"},
		{"fail/field of the other inventory", jamf.Query{Inventory: jamf.MobileDevices, Field: "id", Value: "1"}, `jamf: lookup: cannot look mobile-devices up by "id"`},
		{"fail/unknown inventory", jamf.Query{Inventory: "printers", Field: "id", Value: "1"}, `jamf: lookup: cannot look printers up by "id"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.c.Find(context.Background(), tt.q)
			if err == nil || isRejection(err) || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("Find = %v, want %q", err, tt.want)
			}
		})
	}
	if n := len(e.fake.Requests()); n != 0 {
		t.Errorf("refused queries made %d requests", n)
	}
}

// Paging continues while results do not really match, and stops when
// totalCount is covered; pages that contradict totalCount are an error.
// Faults stand in for a server whose filter is looser than ours.
func TestFindPaging(t *testing.T) {
	page := func(total int, ids ...string) fakehttp.Fault {
		var recs []string
		for _, id := range ids {
			recs = append(recs, `{"id":"`+id+`","udid":"decoy-`+id+`"}`)
		}
		body := `{"totalCount":` + strconv.Itoa(total) + `,"results":[` + strings.Join(recs, ",") + `]}`
		return fakehttp.Fault{Times: 1, Status: 200, Body: body}
	}
	real := fakehttp.Fault{Times: 1, Status: 200, Body: `{"totalCount":3,"results":[{"id":9,"udid":"WANTED"}]}`}
	tests := []struct {
		name     string
		faults   []fakehttp.Fault
		requests int
		id       string
		err      string
	}{
		{"ok/third page", []fakehttp.Fault{page(3, "1"), page(3, "2"), real}, 3, "9", ""},
		{"fail/not found once total is covered", []fakehttp.Fault{page(2, "1"), page(2, "2")}, 2, "", "jamf: no such device in Jamf Pro"},
		{"fail/empty page before total", []fakehttp.Fault{page(5, "1"), page(5)}, 2, "", "jamf: computers lookup: page 1 is empty but totalCount is 5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *jamf.CheckerConfig) { c.PageSize = 1 })
			for _, f := range tt.faults {
				e.fake.AddFault(fakejamf.RouteComputers, f)
			}
			got, err := e.c.Find(context.Background(), jamf.Query{Inventory: jamf.Computers, Field: "udid", Value: "wanted"})
			if n := e.fake.Count(fakejamf.RouteComputers); n != tt.requests {
				t.Errorf("%d page requests, want %d", n, tt.requests)
			}
			for i, r := range e.fake.RequestsFor(fakejamf.RouteComputers) {
				if q, _ := url.ParseQuery(r.RawQuery); q.Get("page") != strconv.Itoa(i) {
					t.Errorf("request %d asked for page %s", i, q.Get("page"))
				}
			}
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("Find = %+v, %v, want %q", got, err, tt.err)
				}
				return
			}
			if err != nil || got.ID != tt.id {
				t.Fatalf("Find = %+v, %v, want ID %s", got, err, tt.id)
			}
		})
	}
	t.Run("fail/server ignores the filter", func(t *testing.T) {
		e := newEnv(t, func(c *jamf.CheckerConfig) { c.PageSize = 1 })
		f := page(1000, "1")
		f.Times = 0 // every page
		e.fake.SetFault(fakejamf.RouteComputers, f)
		_, err := e.c.Find(context.Background(), jamf.Query{Inventory: jamf.Computers, Field: "udid", Value: "wanted"})
		if err == nil || errors.Is(err, jamf.ErrNotFound) || !strings.Contains(err.Error(), "more than 20 pages") {
			t.Fatalf("Find = %v, want the page cap error", err)
		}
	})
}

// Jamf asks for at most 5 concurrent connections: 50 concurrent checks
// never have more than 5 requests in flight, and do reach 5.
func TestConcurrencyCap(t *testing.T) {
	e := newEnv(t, nil)
	if n := e.c.MaxConnsPerHost(); n != jamf.MaxConcurrency {
		t.Errorf("transport MaxConnsPerHost = %d, want %d", n, jamf.MaxConcurrency)
	}
	id := e.fake.AddComputer(fakejamf.Computer{UDID: "X"})
	// Fetch the token first, so that every request below is a lookup.
	if err := e.c.CheckDevice(context.Background(), jamf.DeviceRef{Kind: jamf.KindComputer, JSSID: id}); err != nil {
		t.Fatal(err)
	}
	e.fake.ResetMaxInFlight()
	// Lookups are released in waves of exactly 5: a client allowing more
	// would see 6 or more in flight; one allowing fewer would time out.
	e.fake.Hold(jamf.MaxConcurrency)
	const callers = 50
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			errs <- e.c.CheckDevice(context.Background(), jamf.DeviceRef{Kind: jamf.KindComputer, JSSID: id})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("CheckDevice: %v", err)
		}
	}
	if n := e.fake.MaxInFlight(); n != jamf.MaxConcurrency {
		t.Errorf("max in flight = %d, want exactly %d", n, jamf.MaxConcurrency)
	}
	if n := e.fake.Count(fakejamf.RouteComputers); n != callers+1 {
		t.Errorf("lookups = %d, want %d", n, callers+1)
	}
}

// A lower MaxConcurrency is honoured as well.
func TestConcurrencyLowerCap(t *testing.T) {
	e := newEnv(t, func(c *jamf.CheckerConfig) { c.MaxConcurrency = 2 })
	id := e.fake.AddComputer(fakejamf.Computer{UDID: "X"})
	e.fake.Hold(2)
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if err := e.c.CheckDevice(context.Background(), jamf.DeviceRef{Kind: jamf.KindComputer, JSSID: id}); err != nil {
				t.Errorf("CheckDevice: %v", err)
			}
		})
	}
	wg.Wait()
	if n := e.fake.MaxInFlight(); n != 2 {
		t.Errorf("max in flight = %d, want 2", n)
	}
}

// The token is fetched once however many callers need it at once, both
// the first time and when it reaches its refresh point.
func TestTokenRefreshedOnce(t *testing.T) {
	e := newEnv(t, nil)
	e.fake.SetTokenLifetime(10 * time.Minute) // refreshed a minute before expiry
	id := e.fake.AddComputer(fakejamf.Computer{UDID: "X"})
	ref := jamf.DeviceRef{Kind: jamf.KindComputer, JSSID: id}
	const callers = 20
	run := func() {
		t.Helper()
		release := make(chan struct{})
		e.fake.SetFault(fakejamf.RouteOAuthToken, fakehttp.Fault{Times: 1, Wait: release})
		var wg sync.WaitGroup
		errs := make(chan error, callers)
		for range callers {
			wg.Go(func() { errs <- e.c.CheckDevice(context.Background(), ref) })
		}
		for e.c.TokenWaiters() < callers {
			runtime.Gosched() // every caller waits on the one fetch, held by the fake
		}
		close(release)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("CheckDevice: %v", err)
			}
		}
	}
	run()
	if n := e.fake.TokensIssued(); n != 1 {
		t.Errorf("tokens issued for %d concurrent callers = %d, want 1", callers, n)
	}
	e.clock.Advance(8 * time.Minute) // still cached
	if err := e.c.CheckDevice(context.Background(), ref); err != nil || e.fake.TokensIssued() != 1 {
		t.Fatalf("cached token: %v, issued %d", err, e.fake.TokensIssued())
	}
	e.clock.Advance(90 * time.Second) // past the refresh point, before expiry
	run()
	if n := e.fake.TokensIssued(); n != 2 {
		t.Errorf("tokens issued after the refresh = %d, want 2", n)
	}
	if n := e.fake.Count(fakejamf.RouteOAuthToken); n != 2 {
		t.Errorf("token requests = %d, want 2", n)
	}
}

// A token Jamf refuses (401) before its announced expiry is replaced and
// the call retried once.
func TestTokenRejectedIsReplaced(t *testing.T) {
	e := newEnv(t, nil)
	id := e.fake.AddComputer(fakejamf.Computer{UDID: "X"})
	ref := jamf.DeviceRef{Kind: jamf.KindComputer, JSSID: id}
	if err := e.c.CheckDevice(context.Background(), ref); err != nil {
		t.Fatal(err)
	}
	e.fake.RevokeTokens()
	if err := e.c.CheckDevice(context.Background(), ref); err != nil {
		t.Fatalf("CheckDevice after a revocation: %v", err)
	}
	if n := e.fake.TokensIssued(); n != 2 {
		t.Errorf("tokens issued = %d, want 2", n)
	}
	// Expiry by the fake's clock, which the checker shares: it refreshes
	// before Jamf refuses.
	e.clock.Advance(jamf.DefaultTimeout + fakejamf.DefaultTokenLifetime)
	if err := e.c.CheckDevice(context.Background(), ref); err != nil {
		t.Fatalf("CheckDevice after expiry: %v", err)
	}
	if n := e.fake.TokensIssued(); n != 3 {
		t.Errorf("tokens issued = %d, want 3", n)
	}
}

// When the token endpoint fails at refresh time, a token that has not
// expired keeps working; once expired, lookups fail closed.
func TestTokenRefreshFailure(t *testing.T) {
	e := newEnv(t, nil)
	id := e.fake.AddComputer(fakejamf.Computer{UDID: "X"})
	ref := jamf.DeviceRef{Kind: jamf.KindComputer, JSSID: id}
	if err := e.c.CheckDevice(context.Background(), ref); err != nil {
		t.Fatal(err)
	}
	e.fake.SetFault(fakejamf.RouteOAuthToken, fakehttp.HTML(503))
	e.clock.Advance(fakejamf.DefaultTokenLifetime - 30*time.Second)
	if err := e.c.CheckDevice(context.Background(), ref); err != nil {
		t.Fatalf("CheckDevice with the token endpoint down and a token still valid: %v", err)
	}
	e.clock.Advance(time.Minute)
	err := e.c.CheckDevice(context.Background(), ref)
	if err == nil || isRejection(err) || err.Error() != "jamf: computers lookup: token: HTTP 503" {
		t.Fatalf("CheckDevice with an expired token and the endpoint down = %v", err)
	}
	e.assertNoSecret(t, err)
}

func TestTokenEndpoints(t *testing.T) {
	tests := []struct {
		name       string
		user       bool
		oauthShape bool
		faults     map[string]fakehttp.Fault
		routes     map[string]int // token requests per route after two lookups
		err        string
	}{
		{"ok/documented path", false, false, nil, map[string]int{fakejamf.RouteOAuthToken: 2, fakejamf.RouteOAuthTokenV1: 0}, ""},
		{"ok/fallback to v1, remembered", false, false,
			map[string]fakehttp.Fault{fakejamf.RouteOAuthToken: {Status: 404, Body: "Not Found"}},
			map[string]int{fakejamf.RouteOAuthToken: 1, fakejamf.RouteOAuthTokenV1: 2}, ""},
		{"ok/user token", true, false, nil, map[string]int{fakejamf.RouteUserToken: 2, fakejamf.RouteOAuthToken: 0}, ""},
		{"ok/user token in OAuth shape", true, true, nil, map[string]int{fakejamf.RouteUserToken: 2}, ""},
		{"fail/no token endpoint", false, false, map[string]fakehttp.Fault{
			fakejamf.RouteOAuthToken: {Status: 404, Body: "x"}, fakejamf.RouteOAuthTokenV1: {Status: 404, Body: "x"}},
			nil, "jamf: computers lookup: token: HTTP 404 from /api/v1/oauth/token: no such token endpoint"},
		{"fail/token not JSON", false, false, map[string]fakehttp.Fault{fakejamf.RouteOAuthToken: {Status: 200, Body: "<html/>"}},
			nil, "jamf: computers lookup: token: response is not JSON"},
		{"fail/no token in answer", false, false, map[string]fakehttp.Fault{fakejamf.RouteOAuthToken: {Status: 200, Body: `{"expires_in":60}`}},
			nil, "jamf: computers lookup: token: response has no token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *jamf.CheckerConfig) {
				if tt.user {
					c.ClientID, c.ClientSecret, c.Username, c.Password = "", "", apiUser, apiPassword
				}
			})
			e.fake.SetUserTokenOAuthShape(tt.oauthShape)
			for route, f := range tt.faults {
				e.fake.SetFault(route, f)
			}
			id := e.fake.AddComputer(fakejamf.Computer{UDID: "X"})
			ref := jamf.DeviceRef{Kind: jamf.KindComputer, JSSID: id}
			err := e.c.CheckDevice(context.Background(), ref)
			e.assertNoSecret(t, err)
			if tt.err != "" {
				if err == nil || isRejection(err) || err.Error() != tt.err {
					t.Fatalf("CheckDevice = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("CheckDevice: %v", err)
			}
			e.fake.RevokeTokens() // the second lookup needs a new token
			if err := e.c.CheckDevice(context.Background(), ref); err != nil {
				t.Fatalf("second CheckDevice: %v", err)
			}
			for route, want := range tt.routes {
				if n := e.fake.Count(route); n != want {
					t.Errorf("%s requests = %d, want %d", route, n, want)
				}
			}
			for _, r := range e.fake.RequestsFor(fakejamf.RouteUserToken) {
				if u, p, ok := basicAuth(r.Header.Get("Authorization")); !ok || u != apiUser || p != apiPassword {
					t.Errorf("user token request without the account's Basic credentials")
				}
			}
		})
	}
}

// Wrong credentials fail with the server's error code and no secret.
func TestTokenWrongCredentials(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*jamf.CheckerConfig)
		want string
	}{
		{"fail/client secret", func(c *jamf.CheckerConfig) { c.ClientSecret = "wrong-" + clientSecret },
			"jamf: computers lookup: token: HTTP 401: invalid_client"},
		{"fail/user password", func(c *jamf.CheckerConfig) {
			c.ClientID, c.ClientSecret, c.Username, c.Password = "", "", apiUser, "wrong-"+apiPassword
		}, "jamf: computers lookup: user token: HTTP 401: INVALID_CREDENTIALS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.mod)
			err := e.c.CheckDevice(context.Background(), jamf.DeviceRef{Kind: jamf.KindComputer, JSSID: "1"})
			if err == nil || isRejection(err) || err.Error() != tt.want {
				t.Fatalf("CheckDevice = %v, want %q", err, tt.want)
			}
			assertNotIn(t, err, e.secrets()...)
			assertNotIn(t, err, e.cfg.ClientSecret, e.cfg.Password)
		})
	}
}
