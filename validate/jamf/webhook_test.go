package jamf_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	fakejamf "github.com/certgate/certgate/integration/fakes/jamf"
	"github.com/certgate/certgate/validate"
	"github.com/certgate/certgate/validate/jamf"
)

const (
	hookUser    = "jamf-webhook"
	hookPass    = "webhook-passw0rd-value"
	payloadID   = "CDB0BC64-F3EB-4B1A-AA5E-9A5D994CA593"
	scepURL     = "https://certgate.example.com/scep/jamf"
	testProfile = "jamf"
)

// hookEnv is a Webhook behind a TLS test server, with a log capture.
type hookEnv struct {
	st     *memStore
	clock  *fakeClock
	srv    *httptest.Server
	logs   *bytes.Buffer
	driver fakejamf.WebhookDriver
}

func newHookEnv(t *testing.T, mod func(*jamf.WebhookConfig)) *hookEnv {
	t.Helper()
	e := &hookEnv{st: newMemStore(), clock: newClock(), logs: &bytes.Buffer{}}
	cfg := jamf.WebhookConfig{Profile: testProfile, Username: hookUser, Password: hookPass,
		Store: e.st, TTL: 10 * time.Minute, Now: e.clock.Now}
	if mod != nil {
		mod(&cfg)
	}
	h, err := jamf.NewWebhook(cfg)
	if err != nil {
		t.Fatalf("NewWebhook: %v", err)
	}
	logger := zerolog.New(e.logs)
	e.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(logger.WithContext(r.Context())))
	}))
	t.Cleanup(e.srv.Close)
	e.driver = fakejamf.WebhookDriver{Client: e.srv.Client(), URL: e.srv.URL + "/jamf/jamf/scep-challenge",
		Username: hookUser, Password: hookPass}
	return e
}

var challengeRE = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestWebhook(t *testing.T) {
	now := newClock().Now()
	event := func(mod func(*fakejamf.SCEPChallengeEvent)) fakejamf.SCEPChallengeEvent {
		ev := fakejamf.SCEPChallengeEvent{Time: now, SCEPServerURL: scepURL, PayloadIdentifier: payloadID}
		if mod != nil {
			mod(&ev)
		}
		return ev
	}
	tests := []struct {
		name   string
		user   string
		pass   string
		ctype  string
		body   []byte // nil sends ev
		ev     fakejamf.SCEPChallengeEvent
		status int
		auth   bool // WWW-Authenticate expected
	}{
		{"ok/timestamp in milliseconds", hookUser, hookPass, "", nil, event(nil), 200, false},
		{"ok/timestamp in seconds", hookUser, hookPass, "", nil,
			event(func(e *fakejamf.SCEPChallengeEvent) { e.Unit = fakejamf.Seconds }), 200, false},
		{"ok/unknown fields", hookUser, hookPass, "", nil, event(func(e *fakejamf.SCEPChallengeEvent) {
			e.ExtraWebhook = map[string]any{"version": 2, "origin": map[string]any{"host": "jamf"}}
			e.ExtraEvent = map[string]any{"device": map[string]any{"uuid": 7, "serialNumber": "C02"}, "udid": []int{1}, "new": true}
		}), 200, false},
		{"ok/timestamp as string", hookUser, hookPass, "", nil, event(func(e *fakejamf.SCEPChallengeEvent) {
			e.ExtraWebhook = map[string]any{"eventTimestamp": "1772366400000"}
		}), 200, false},
		{"ok/no content type", hookUser, hookPass, "", []byte(event(nil).JSON()), fakejamf.SCEPChallengeEvent{}, 200, false},
		{"fail/missing credentials", "", "", "", nil, event(nil), 401, true},
		{"fail/wrong password", hookUser, "nope", "", nil, event(nil), 401, true},
		{"fail/wrong user", "someone", hookPass, "", nil, event(nil), 401, true},
		{"fail/garbage", hookUser, hookPass, "application/json", []byte("\x00\x01not json"), fakejamf.SCEPChallengeEvent{}, 400, false},
		{"fail/JSON array", hookUser, hookPass, "application/json", []byte(`[1,2]`), fakejamf.SCEPChallengeEvent{}, 400, false},
		{"fail/no event object", hookUser, hookPass, "application/json",
			[]byte(`{"webhook":{"webhookEvent":"SCEPChallenge"}}`), fakejamf.SCEPChallengeEvent{}, 400, false},
		{"fail/other event", hookUser, hookPass, "", nil, event(func(e *fakejamf.SCEPChallengeEvent) {
			e.ExtraWebhook = map[string]any{"webhookEvent": "ComputerAdded"}
		}), 400, false},
		{"fail/timestamp not a number", hookUser, hookPass, "", nil, event(func(e *fakejamf.SCEPChallengeEvent) {
			e.ExtraWebhook = map[string]any{"eventTimestamp": "yesterday"}
		}), 400, false},
		{"fail/stale event", hookUser, hookPass, "", nil,
			event(func(e *fakejamf.SCEPChallengeEvent) { e.Time = now.Add(-2 * time.Hour) }), 400, false},
		{"fail/no payload identifier", hookUser, hookPass, "", nil,
			event(func(e *fakejamf.SCEPChallengeEvent) { e.PayloadIdentifier = "" }), 400, false},
		{"fail/payload identifier not a string", hookUser, hookPass, "", nil, event(func(e *fakejamf.SCEPChallengeEvent) {
			e.ExtraEvent = map[string]any{"payloadIdentifier": 12}
		}), 400, false},
		{"fail/control characters", hookUser, hookPass, "", nil,
			event(func(e *fakejamf.SCEPChallengeEvent) { e.PayloadIdentifier = "a\nb" }), 400, false},
		{"fail/oversized", hookUser, hookPass, "application/json",
			[]byte(`{"webhook":{"webhookEvent":"SCEPChallenge","pad":"` + strings.Repeat("x", 70<<10) + `"}}`),
			fakejamf.SCEPChallengeEvent{}, 413, false},
		{"fail/XML", hookUser, hookPass, "text/xml", []byte(`<SCEPChallenge/>`), fakejamf.SCEPChallengeEvent{}, 415, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// MaxEventAge makes the timestamp unit matter: read in the
			// wrong unit, a fresh event is in 1970 or in the far future.
			e := newHookEnv(t, func(c *jamf.WebhookConfig) { c.MaxEventAge = time.Hour })
			d := e.driver
			d.Username, d.Password = tt.user, tt.pass
			var res fakejamf.WebhookResult
			var err error
			if tt.body != nil {
				res, err = d.Post(context.Background(), tt.ctype, tt.body)
			} else {
				res, err = d.SCEPChallenge(context.Background(), tt.ev)
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tt.status {
				t.Fatalf("HTTP %d %q, want %d; log: %s", res.Status, res.Body, tt.status, e.logs)
			}
			if got := res.ContentType; !strings.HasPrefix(got, "text/plain") {
				t.Errorf("Content-Type %q, want text/plain", got)
			}
			for _, s := range []string{hookUser, hookPass, tt.pass} {
				if s != "" && strings.Contains(e.logs.String(), s) {
					t.Errorf("log holds a credential: %s", e.logs)
				}
			}
			stored := e.st.all()
			if tt.status != 200 {
				if len(stored) != 0 {
					t.Errorf("refused call stored %d challenges", len(stored))
				}
				if challengeRE.MatchString(strings.TrimSpace(res.Body)) {
					t.Errorf("refusal body %q looks like a challenge", res.Body)
				}
				return
			}
			challenge, err := res.Challenge()
			if err != nil || !challengeRE.MatchString(res.Body) {
				t.Fatalf("body %q (%v), want 32 hex digits", res.Body, err)
			}
			if len(stored) != 1 {
				t.Fatalf("stored %d challenges, want 1", len(stored))
			}
			c := stored[0]
			if c.Hash != validate.ChallengeHash(challenge) || c.Hash == challenge {
				t.Errorf("stored hash %q, want the SHA-256 of the challenge", c.Hash)
			}
			if c.Profile != testProfile || c.DeviceID != payloadID || c.Subject != "" {
				t.Errorf("stored %+v, want profile %q bound to DeviceID %q", c, testProfile, payloadID)
			}
			if !c.CreatedAt.Equal(now) || !c.ExpiresAt.Equal(now.Add(10*time.Minute)) {
				t.Errorf("stored times %v..%v, want %v + 10m", c.CreatedAt, c.ExpiresAt, now)
			}
			if strings.Contains(e.logs.String(), challenge) {
				t.Errorf("log holds the challenge: %s", e.logs)
			}
		})
	}
}

// Challenges are fresh on every call.
func TestWebhookChallengesDiffer(t *testing.T) {
	e := newHookEnv(t, nil)
	seen := make(map[string]bool)
	for range 5 {
		res, err := e.driver.SCEPChallenge(context.Background(), fakejamf.SCEPChallengeEvent{PayloadIdentifier: payloadID})
		if err != nil {
			t.Fatal(err)
		}
		c, err := res.Challenge()
		if err != nil || seen[c] {
			t.Fatalf("challenge %q (%v) repeated or missing", c, err)
		}
		seen[c] = true
	}
}

func TestWebhookBindings(t *testing.T) {
	tests := []struct {
		name   string
		bind   jamf.BindTo
		extra  map[string]any
		status int
		device string
	}{
		{"ok/payload identifier", jamf.BindPayloadIdentifier, nil, 200, payloadID},
		{"ok/device uuid (Fleet extension)", jamf.BindDeviceUDID, map[string]any{"device": map[string]any{"uuid": "UDID-1", "serialNumber": "C02"}}, 200, "UDID-1"},
		{"ok/device udid", jamf.BindDeviceUDID, map[string]any{"udid": "UDID-2"}, 200, "UDID-2"},
		{"ok/none", jamf.BindNone, nil, 200, ""},
		{"fail/no device udid", jamf.BindDeviceUDID, map[string]any{"device": "not an object"}, 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newHookEnv(t, func(c *jamf.WebhookConfig) { c.Bind = tt.bind })
			res, err := e.driver.SCEPChallenge(context.Background(),
				fakejamf.SCEPChallengeEvent{PayloadIdentifier: payloadID, ExtraEvent: tt.extra})
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tt.status {
				t.Fatalf("HTTP %d %q, want %d", res.Status, res.Body, tt.status)
			}
			if tt.status == 200 {
				if s := e.st.all(); len(s) != 1 || s[0].DeviceID != tt.device {
					t.Errorf("stored %+v, want DeviceID %q", s, tt.device)
				}
			}
		})
	}
}

func TestWebhookSCEPServerURL(t *testing.T) {
	tests := []struct {
		name   string
		url    string
		status int
	}{
		{"ok/same", scepURL, 200},
		{"ok/host case and trailing slash", "https://CertGate.Example.com/scep/jamf/", 200},
		{"fail/other path", "https://certgate.example.com/scep/other", 400},
		{"fail/other host", "https://evil.example.com/scep/jamf", 400},
		{"fail/missing", "", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newHookEnv(t, func(c *jamf.WebhookConfig) { c.SCEPServerURL = scepURL })
			res, err := e.driver.SCEPChallenge(context.Background(),
				fakejamf.SCEPChallengeEvent{SCEPServerURL: tt.url, PayloadIdentifier: payloadID})
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tt.status {
				t.Errorf("HTTP %d %q, want %d", res.Status, res.Body, tt.status)
			}
		})
	}
}

func TestWebhookStore(t *testing.T) {
	tests := []struct {
		name      string
		conflicts int
		err       error
		status    int
		puts      int
	}{
		{"ok/one collision retried", 1, nil, 200, 2},
		{"fail/store down", 0, errors.New("bolt: database not open"), 503, 1},
		{"fail/collisions persist", 5, nil, 503, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newHookEnv(t, nil)
			e.st.conflicts, e.st.err = tt.conflicts, tt.err
			res, err := e.driver.SCEPChallenge(context.Background(), fakejamf.SCEPChallengeEvent{PayloadIdentifier: payloadID})
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tt.status || e.st.puts != tt.puts {
				t.Errorf("HTTP %d %q after %d puts, want %d after %d", res.Status, res.Body, e.st.puts, tt.status, tt.puts)
			}
		})
	}
}

// Other methods are refused, after authentication.
func TestWebhookMethod(t *testing.T) {
	e := newHookEnv(t, nil)
	req, _ := http.NewRequest(http.MethodGet, e.driver.URL, nil)
	req.SetBasicAuth(hookUser, hookPass)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "POST" {
		t.Errorf("GET: HTTP %d Allow %q, want 405 POST", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

// A challenge from the webhook passes the one-time validator once, for
// a CSR that carries the payload identifier (here in a URI SAN, with
// CN=$JSSID as §7.1 has it), and only for such a CSR.
func TestWebhookThenOneTime(t *testing.T) {
	e := newHookEnv(t, nil)
	ot, err := validate.NewOneTime(e.st, e.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	mint := func() string {
		t.Helper()
		res, err := e.driver.SCEPChallenge(context.Background(), fakejamf.SCEPChallengeEvent{PayloadIdentifier: payloadID})
		if err != nil {
			t.Fatal(err)
		}
		c, err := res.Challenge()
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	good := newCSR(t, []attr{cn("123"), ou("computers")}, "urn:uuid:"+payloadID)
	other := newCSR(t, []attr{cn("123"), ou("computers")}, "urn:uuid:00000000-0000-0000-0000-000000000000")
	ch := mint()
	ctx := context.Background()
	dec, err := ot.Validate(ctx, &validate.Request{Profile: testProfile, Challenge: ch, CSR: good})
	if err != nil || dec.DeviceID != payloadID {
		t.Fatalf("first use: %v, %+v", err, dec)
	}
	if _, err := ot.Validate(ctx, &validate.Request{Profile: testProfile, Challenge: ch, CSR: good}); !isRejection(err) {
		t.Errorf("second use: %v, want a rejection", err)
	}
	ch = mint()
	if _, err := ot.Validate(ctx, &validate.Request{Profile: testProfile, Challenge: ch, CSR: other}); !isRejection(err) {
		t.Errorf("CSR without the payload identifier: %v, want a rejection", err)
	}
	ch = mint()
	e.clock.Advance(11 * time.Minute)
	if _, err := ot.Validate(ctx, &validate.Request{Profile: testProfile, Challenge: ch, CSR: good}); !isRejection(err) {
		t.Errorf("after the TTL: %v, want a rejection", err)
	}
}

func TestWebhookConfig(t *testing.T) {
	st := newMemStore()
	ok := jamf.WebhookConfig{Profile: "p", Username: "u", Password: "p", Store: st}
	tests := []struct {
		name string
		mod  func(*jamf.WebhookConfig)
		want string
	}{
		{"ok/minimal", func(*jamf.WebhookConfig) {}, ""},
		{"fail/profile", func(c *jamf.WebhookConfig) { c.Profile = "" }, "jamf: webhook config: profile: required"},
		{"fail/password", func(c *jamf.WebhookConfig) { c.Password = "" }, "jamf: webhook config: username and password: both are required"},
		{"fail/store", func(c *jamf.WebhookConfig) { c.Store = nil }, "jamf: webhook config: store: required"},
		{"fail/ttl", func(c *jamf.WebhookConfig) { c.TTL = -time.Second }, "jamf: webhook config: ttl: must not be negative"},
		{"fail/max body", func(c *jamf.WebhookConfig) { c.MaxBody = -1 }, "jamf: webhook config: maxBody: must not be negative"},
		{"fail/bind", func(c *jamf.WebhookConfig) { c.Bind = 7 }, "jamf: webhook config: bind: unknown binding"},
		{"fail/age", func(c *jamf.WebhookConfig) { c.MaxEventAge = -1 }, "jamf: webhook config: maxEventAge: must not be negative"},
		{"fail/scep url", func(c *jamf.WebhookConfig) { c.SCEPServerURL = "/scep" }, "jamf: webhook config: scepServerURL: must be an absolute http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.mod(&c)
			_, err := jamf.NewWebhook(c)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("NewWebhook: %v", err)
				}
				return
			}
			if err == nil || err.Error() != tt.want {
				t.Fatalf("NewWebhook = %v, want %q", err, tt.want)
			}
		})
	}
	c := ok
	c.Password = "hunter2-secret"
	for _, s := range []string{c.String(), c.GoString()} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("config printed its password: %s", s)
		}
	}
}

// A body without Content-Length is cut off at the cap while read.
func TestWebhookOversizedChunked(t *testing.T) {
	e := newHookEnv(t, func(c *jamf.WebhookConfig) { c.MaxBody = 1 << 10 })
	body := `{"webhook":{"webhookEvent":"SCEPChallenge"},"event":{"payloadIdentifier":"` + strings.Repeat("x", 2<<10) + `"}}`
	req, _ := http.NewRequest(http.MethodPost, e.driver.URL, struct{ io.Reader }{strings.NewReader(body)})
	req.SetBasicAuth(hookUser, hookPass)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if req.ContentLength != 0 || resp.StatusCode != 413 {
		t.Errorf("HTTP %d (request length %d), want 413 for an unannounced oversized body", resp.StatusCode, req.ContentLength)
	}
	if n := len(e.st.all()); n != 0 {
		t.Errorf("stored %d challenges", n)
	}
}
