package jamf_test

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
	"time"

	"github.com/certgate/certgate/integration/fakes/fakehttp"
	"github.com/certgate/certgate/integration/fakes/jamf"
)

const (
	clientID = "api-client"
	secret   = "client-s3cret"
)

// clock is a settable clock for token expiry.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newFake(t *testing.T) (*jamf.Fake, *clock) {
	t.Helper()
	f := jamf.New()
	t.Cleanup(f.Close)
	clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	f.SetClock(clk.Now)
	f.AddClient(clientID, secret)
	f.AddAccount("api-user", "user-pass")
	return f, clk
}

type answer struct {
	status int
	header http.Header
	body   []byte
	json   map[string]any
}

func do(t *testing.T, f *jamf.Fake, req *http.Request) answer {
	t.Helper()
	resp, err := f.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, body: b}
	_ = json.Unmarshal(b, &a.json)
	return a
}

func tokenRequest(t *testing.T, f *jamf.Fake, path string, form url.Values) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.URL()+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(t, f, req)
}

func token(t *testing.T, f *jamf.Fake) string {
	t.Helper()
	a := tokenRequest(t, f, "/api/oauth/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {clientID}, "client_secret": {secret}})
	tok, _ := a.json["access_token"].(string)
	if a.status != 200 || tok == "" {
		t.Fatalf("token: HTTP %d %s", a.status, a.body)
	}
	return tok
}

func get(t *testing.T, f *jamf.Fake, tok, pathQuery, accept string) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, f.URL()+pathQuery, nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	return do(t, f, req)
}

func TestOAuthToken(t *testing.T) {
	f, _ := newFake(t)
	f.SetTokenLifetime(90 * time.Second)
	good := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}}
	with := func(k, v string) url.Values {
		c := url.Values{}
		for kk, vv := range good {
			c[kk] = vv
		}
		c.Set(k, v)
		return c
	}
	tests := []struct {
		name   string
		path   string
		form   url.Values
		status int
		err    string
	}{
		{"ok/documented path", "/api/oauth/token", good, 200, ""},
		{"ok/v1 path (JAMFSDK)", "/api/v1/oauth/token", good, 200, ""},
		{"fail/wrong secret", "/api/oauth/token", with("client_secret", "nope"), 401, "invalid_client"},
		{"fail/unknown client", "/api/v1/oauth/token", with("client_id", "who"), 401, "invalid_client"},
		{"fail/grant", "/api/oauth/token", with("grant_type", "password"), 400, "unsupported_grant_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := tokenRequest(t, f, tt.path, tt.form)
			if a.status != tt.status {
				t.Fatalf("HTTP %d %s, want %d", a.status, a.body, tt.status)
			}
			if tt.err != "" {
				if a.json["error"] != tt.err {
					t.Errorf("error = %v, want %s", a.json["error"], tt.err)
				}
				return
			}
			if a.json["token_type"] != "Bearer" || a.json["expires_in"] != float64(90) ||
				a.json["scope"] != "api-role:1" || a.json["access_token"] == "" {
				t.Errorf("body %s", a.body)
			}
		})
	}
}

func TestUserToken(t *testing.T) {
	tests := []struct {
		name       string
		user, pass string
		oauthShape bool
		status     int
		keys       []string
	}{
		{"ok/token and expires", "api-user", "user-pass", false, 200, []string{"token", "expires"}},
		{"ok/oauth shape", "api-user", "user-pass", true, 200, []string{"access_token", "expires_in", "token_type"}},
		{"fail/wrong password", "api-user", "nope", false, 401, []string{"httpStatus", "errors"}},
		{"fail/no credentials", "", "", false, 401, []string{"httpStatus", "errors"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, clk := newFake(t)
			f.SetUserTokenOAuthShape(tt.oauthShape)
			req, _ := http.NewRequest(http.MethodPost, f.URL()+"/api/v1/auth/token", nil)
			if tt.user != "" {
				req.SetBasicAuth(tt.user, tt.pass)
			}
			a := do(t, f, req)
			if a.status != tt.status {
				t.Fatalf("HTTP %d %s, want %d", a.status, a.body, tt.status)
			}
			for _, k := range tt.keys {
				if _, ok := a.json[k]; !ok {
					t.Errorf("body %s lacks %q", a.body, k)
				}
			}
			if tt.status != 200 {
				return
			}
			if !tt.oauthShape {
				exp, err := time.Parse(time.RFC3339, a.json["expires"].(string))
				if err != nil || !exp.Equal(clk.Now().Add(jamf.DefaultTokenLifetime)) {
					t.Errorf("expires %v (%v), want now + default lifetime", a.json["expires"], err)
				}
			}
		})
	}
}

// Tokens stop working when they expire by the fake's clock, or when
// revoked.
func TestTokenExpiry(t *testing.T) {
	f, clk := newFake(t)
	f.SetTokenLifetime(time.Minute)
	tok := token(t, f)
	if a := get(t, f, tok, "/api/v1/computers-inventory", ""); a.status != 200 {
		t.Fatalf("fresh token: HTTP %d", a.status)
	}
	clk.Advance(time.Minute)
	if a := get(t, f, tok, "/api/v1/computers-inventory", ""); a.status != 401 {
		t.Fatalf("expired token: HTTP %d, want 401", a.status)
	}
	tok = token(t, f)
	f.RevokeTokens()
	if a := get(t, f, tok, "/JSSResource/computers/id/1", ""); a.status != 401 {
		t.Fatalf("revoked token: HTTP %d, want 401", a.status)
	}
	if a := get(t, f, "", "/api/v2/mobile-devices/detail", ""); a.status != 401 {
		t.Fatalf("no token: HTTP %d, want 401", a.status)
	}
	if n := f.TokensIssued(); n != 2 {
		t.Errorf("TokensIssued = %d, want 2", n)
	}
}

func TestComputersInventory(t *testing.T) {
	f, _ := newFake(t)
	f.AddComputer(jamf.Computer{UDID: "AAAA-1", Name: "Mac one", SerialNumber: "C02AAA", ManagementID: "m-1"})
	f.AddComputer(jamf.Computer{UDID: "BBBB-2", Name: "mac two", SerialNumber: "C02BBB"})
	f.AddComputer(jamf.Computer{UDID: "CCCC-3", Name: "Mac three", SerialNumber: "C02CCC"})
	f.AddComputer(jamf.Computer{ID: "10", UDID: "DDDD-10", Name: "Mac ten", SerialNumber: "C02DDD"})
	tok := token(t, f)
	tests := []struct {
		name    string
		query   string
		status  int
		total   float64
		ids     []string
		hasHW   bool
		errCode string
	}{
		{"ok/all, id order", "", 200, 4, []string{"1", "2", "3", "10"}, false, ""},
		{"ok/filter id", `filter=id=="2"`, 200, 1, []string{"2"}, false, ""},
		{"ok/filter udid ignores case", `filter=udid=="cccc-3"`, 200, 1, []string{"3"}, false, ""},
		{"ok/filter serial unquoted", `filter=hardware.serialNumber==C02DDD`, 200, 1, []string{"10"}, false, ""},
		{"ok/filter management id", `filter=general.managementId=="M-1"`, 200, 1, []string{"1"}, false, ""},
		{"ok/in", `filter=id=in=(1,10,99)`, 200, 2, []string{"1", "10"}, false, ""},
		{"ok/out", `filter=id=out=(1,10)`, 200, 2, []string{"2", "3"}, false, ""},
		{"ok/and or parentheses", "filter=" + url.QueryEscape(`(id==1,id==2);udid!="aaaa-1"`), 200, 1, []string{"2"}, false, ""},
		{"ok/no match", `filter=udid=="gone"`, 200, 0, nil, false, ""},
		{"ok/page", "page=1&page-size=3", 200, 4, []string{"10"}, false, ""},
		{"ok/page past the end", "page=5&page-size=3", 200, 4, nil, false, ""},
		{"ok/sort name desc", "sort=general.name:desc", 200, 4, []string{"2", "3", "10", "1"}, false, ""},
		{"ok/section hardware", "section=GENERAL&section=HARDWARE&filter=id==1", 200, 1, []string{"1"}, true, ""},
		{"fail/unknown field", `filter=color=="red"`, 400, 0, nil, false, "INVALID_FIELD"},
		{"fail/unsupported operator", `filter=id=gt=1`, 400, 0, nil, false, "INVALID_FIELD"},
		{"fail/unterminated", `filter=udid=="x`, 400, 0, nil, false, "INVALID_FIELD"},
		{"fail/page size", "page-size=2001", 400, 0, nil, false, "INVALID_FIELD"},
		{"fail/negative page", "page=-1", 400, 0, nil, false, "INVALID_FIELD"},
		{"fail/section", "section=NOPE", 400, 0, nil, false, "INVALID_FIELD"},
		{"fail/sort", "sort=color:asc", 400, 0, nil, false, "INVALID_FIELD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := url.Values{}
			if tt.query != "" {
				parsed, err := url.ParseQuery(tt.query)
				if err != nil {
					t.Fatal(err)
				}
				q = parsed
			}
			a := get(t, f, tok, "/api/v1/computers-inventory?"+q.Encode(), "")
			if a.status != tt.status {
				t.Fatalf("HTTP %d %s, want %d", a.status, a.body, tt.status)
			}
			if tt.errCode != "" {
				errs, _ := a.json["errors"].([]any)
				if len(errs) != 1 || errs[0].(map[string]any)["code"] != tt.errCode {
					t.Errorf("body %s, want error %s", a.body, tt.errCode)
				}
				return
			}
			if a.json["totalCount"] != tt.total {
				t.Errorf("totalCount %v, want %v", a.json["totalCount"], tt.total)
			}
			results, ok := a.json["results"].([]any)
			if !ok {
				t.Fatalf("results missing: %s", a.body)
			}
			var ids []string
			for _, r := range results {
				rec := r.(map[string]any)
				ids = append(ids, rec["id"].(string))
				if _, ok := rec["general"].(map[string]any); !ok {
					t.Errorf("record %v lacks general", rec)
				}
				if _, hw := rec["hardware"].(map[string]any); hw != tt.hasHW {
					t.Errorf("record %v: hardware present %v, want %v", rec, hw, tt.hasHW)
				}
			}
			if strings.Join(ids, ",") != strings.Join(tt.ids, ",") {
				t.Errorf("ids %v, want %v", ids, tt.ids)
			}
		})
	}
}

func TestMobileDevicesDetail(t *testing.T) {
	f, _ := newFake(t)
	f.AddMobileDevice(jamf.MobileDevice{UDID: "u-1", SerialNumber: "DMP1", Name: "iPad"})
	f.AddMobileDevice(jamf.MobileDevice{UDID: "u-2", SerialNumber: "DMP2", Unmanaged: true})
	tok := token(t, f)
	tests := []struct {
		name   string
		filter string
		ids    []string
	}{
		{"ok/mobileDeviceId", `mobileDeviceId=="2"`, []string{"2"}},
		{"ok/udid", `udid=="U-1"`, []string{"1"}},
		{"ok/serial", `serialNumber=in=(DMP1,DMP2)`, []string{"1", "2"}},
		{"ok/managed", `managed==false`, []string{"2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := get(t, f, tok, "/api/v2/mobile-devices/detail?section=GENERAL&filter="+url.QueryEscape(tt.filter), "")
			if a.status != 200 {
				t.Fatalf("HTTP %d %s", a.status, a.body)
			}
			var ids []string
			for _, r := range a.json["results"].([]any) {
				ids = append(ids, r.(map[string]any)["mobileDeviceId"].(string))
			}
			if strings.Join(ids, ",") != strings.Join(tt.ids, ",") {
				t.Errorf("ids %v, want %v", ids, tt.ids)
			}
		})
	}
}

// By-id routes answer until the object is deleted, then 404.
func TestByID(t *testing.T) {
	f, _ := newFake(t)
	c := f.AddComputer(jamf.Computer{UDID: "AAAA", Name: "mac", SerialNumber: "C02"})
	m := f.AddMobileDevice(jamf.MobileDevice{UDID: "BBBB", Name: "ipad", SerialNumber: "DMP"})
	u := f.AddUser(jamf.User{Name: "alice", Email: "alice@example.com"})
	tok := token(t, f)
	tests := []struct {
		name   string
		path   string
		accept string
		want   string // substring of the body
	}{
		{"ok/pro computer", "/api/v1/computers-inventory/" + c, "", `"udid":"AAAA"`},
		{"ok/pro mobile", "/api/v2/mobile-devices/" + m, "", `"serialNumber":"DMP"`},
		{"ok/classic computer xml", "/JSSResource/computers/id/" + c, "", "<computer><general><id>1</id>"},
		{"ok/classic computer json", "/JSSResource/computers/id/" + c, "application/json", `{"computer":{"general":{"id":1,`},
		{"ok/classic mobile json", "/JSSResource/mobiledevices/id/" + m, "application/json", `"udid":"BBBB"`},
		{"ok/classic user by id", "/JSSResource/users/id/" + u, "application/json", `"email":"alice@example.com"`},
		{"ok/classic user by email", "/JSSResource/users/email/ALICE@example.com", "", "<name>alice</name>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := get(t, f, tok, tt.path, tt.accept)
			if a.status != 200 || !strings.Contains(string(a.body), tt.want) {
				t.Errorf("HTTP %d %s, want 200 with %s", a.status, a.body, tt.want)
			}
		})
	}
	if !f.DeleteComputer(c) || !f.DeleteMobileDevice(m) || !f.DeleteUser(u) || f.DeleteComputer(c) {
		t.Fatal("Delete reported wrong existence")
	}
	for _, tt := range tests {
		t.Run("fail/deleted/"+tt.name[3:], func(t *testing.T) {
			if a := get(t, f, tok, tt.path, tt.accept); a.status != 404 {
				t.Errorf("HTTP %d %s, want 404", a.status, a.body)
			}
		})
	}
	a := get(t, f, tok, "/api/v1/computers-inventory?filter="+url.QueryEscape(`id=="`+c+`"`), "")
	if a.status != 200 || a.json["totalCount"] != float64(0) {
		t.Errorf("filtered list of a deleted computer: HTTP %d %s, want 200 and totalCount 0", a.status, a.body)
	}
}

// Hold lets exactly n requests through together, so the maximum in
// flight of a client limited to n is n, without any timing; faults apply
// as in every fake.
func TestHoldAndMaxInFlight(t *testing.T) {
	f, _ := newFake(t)
	f.AddComputer(jamf.Computer{UDID: "A"})
	tok := token(t, f)
	tests := []struct {
		name    string
		hold    int
		limit   int // the client's own cap
		callers int
		want    int
	}{
		{"ok/client limited to the hold", 3, 3, 9, 3},
		{"ok/all at once", 6, 6, 6, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.ResetMaxInFlight()
			f.Hold(tt.hold)
			defer f.Hold(0)
			sem := make(chan struct{}, tt.limit)
			var wg sync.WaitGroup
			statuses := make(chan int, tt.callers)
			for range tt.callers {
				wg.Go(func() {
					sem <- struct{}{}
					defer func() { <-sem }()
					statuses <- get(t, f, tok, "/api/v1/computers-inventory", "").status
				})
			}
			wg.Wait()
			close(statuses)
			for s := range statuses {
				if s != 200 {
					t.Errorf("held request: HTTP %d", s)
				}
			}
			if n := f.MaxInFlight(); n != tt.want {
				t.Errorf("MaxInFlight = %d, want %d", n, tt.want)
			}
			if n := f.InFlight(); n != 0 {
				t.Errorf("InFlight after all answered = %d, want 0", n)
			}
		})
	}
	f.Hold(0)

	f.SetFault(jamf.RouteComputers, fakehttp.Fault{Times: 1, Status: 503, Body: jamf.ErrorBody(503, "SERVICE_UNAVAILABLE", "", "busy")})
	if a := get(t, f, tok, "/api/v1/computers-inventory", ""); a.status != 503 {
		t.Errorf("faulted: HTTP %d, want 503", a.status)
	}
	if a := get(t, f, tok, "/api/v1/computers-inventory", ""); a.status != 200 {
		t.Errorf("after the fault: HTTP %d, want 200", a.status)
	}
}

// A request that gives up while held is released and not counted.
func TestHoldClientGivesUp(t *testing.T) {
	f, _ := newFake(t)
	tok := token(t, f)
	f.Hold(2)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, f.URL()+"/api/v1/computers-inventory", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
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
	if a := get(t, f, tok, "/api/v1/computers-inventory", ""); a.status != 200 {
		t.Errorf("after release: HTTP %d", a.status)
	}
}
