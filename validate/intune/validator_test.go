package intune_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certgate/certgate/integration/fakes/entra"
	"github.com/certgate/certgate/integration/fakes/fakehttp"
	"github.com/certgate/certgate/integration/fakes/graph"
	fakeintune "github.com/certgate/certgate/integration/fakes/intune"
	"github.com/certgate/certgate/validate"
	"github.com/certgate/certgate/validate/intune"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestValidateSuccess(t *testing.T) {
	e := newEnv(t, nil)
	e.cloud.Intune.RequireUserAgent(true)
	e.cloud.Intune.AllowChallenge("chal-ok", fakeintune.Challenge{TransactionID: "tx-1", NotAfter: e.clock.Now().Add(time.Hour)})
	req := request(t, "chal-ok", "tx-1")

	dec, err := e.v.Validate(context.Background(), req)
	if err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if dec.DeviceID != deviceGUID {
		t.Errorf("DeviceID = %q, want %q", dec.DeviceID, deviceGUID)
	}
	ev := e.cloud.Intune.Events()
	if len(ev) != 1 || ev[0].Route != fakeintune.RouteValidate {
		t.Fatalf("Intune events = %+v, want one validateRequest", ev)
	}
	got := ev[0]
	if !bytes.Equal(got.CSR, req.RawCSR) {
		t.Errorf("Intune saw a different CSR")
	}
	if got.TransactionID != "tx-1" || got.Code != fakeintune.CodeSuccess {
		t.Errorf("transaction %q code %q, want tx-1 Success", got.TransactionID, got.Code)
	}
	if got.Validate.CallerInfo != "certgate-test/1.0" {
		t.Errorf("callerInfo = %q", got.Validate.CallerInfo)
	}
	h := got.Header
	if v := h.Get("api-version"); v != "2018-02-20" {
		t.Errorf("api-version = %q", v)
	}
	if v := h.Get("client-request-id"); !uuidRE.MatchString(v) {
		t.Errorf("client-request-id = %q, want a v4 UUID", v)
	}
	if v := h.Get("UserAgent"); v != "certgate-test/1.0" {
		t.Errorf("UserAgent = %q", v)
	}
	tok, _ := strings.CutPrefix(h.Get("Authorization"), "Bearer ")
	if aud, ok := e.cloud.Entra.Audience(tok); !ok || aud != entra.AudienceIntune {
		t.Errorf("bearer token audience = %q, %v; want Intune", aud, ok)
	}
	// Discovery used a Graph token, and asked once.
	gr := e.cloud.Graph.RequestsFor(graph.RouteEndpoints)
	if len(gr) != 1 {
		t.Fatalf("discovery requests = %d, want 1", len(gr))
	}
	gtok, _ := strings.CutPrefix(gr[0].Header.Get("Authorization"), "Bearer ")
	if aud, ok := e.cloud.Entra.Audience(gtok); !ok || aud != entra.AudienceGraph {
		t.Errorf("discovery token audience = %q, %v; want Graph", aud, ok)
	}
	if v := gr[0].Header.Get("client-request-id"); !uuidRE.MatchString(v) {
		t.Errorf("discovery client-request-id = %q", v)
	}
	// The token request used the reference library's Intune scope.
	var scopes []string
	for _, r := range e.cloud.Entra.RequestsFor(entra.RouteToken) {
		scopes = append(scopes, r.Form.Get("scope"))
	}
	slices.Sort(scopes)
	if want := []string{"https://api.manage.microsoft.com//.default", "https://graph.microsoft.com/.default"}; !slices.Equal(scopes, want) {
		t.Errorf("token scopes = %q, want %q", scopes, want)
	}
}

// Every code Intune may answer other than Success is a Rejection naming
// it, whether Intune sends it with HTTP 200 or 400 (which one it uses is
// unconfirmed).
func TestValidateRejectionCodes(t *testing.T) {
	if !slices.Equal(intune.RejectionCodes, fakeintune.Codes[1:]) {
		t.Fatalf("RejectionCodes and the fake's codes differ:\n%q\n%q", intune.RejectionCodes, fakeintune.Codes[1:])
	}
	codes := append(slices.Clone(fakeintune.Codes[1:]), "SomethingNew")
	for _, status := range []int{http.StatusOK, http.StatusBadRequest} {
		e := newEnv(t, nil)
		e.cloud.Intune.SetRejectStatus(status)
		for _, code := range codes {
			name := "fail/" + http.StatusText(status) + "/" + code
			t.Run(name, func(t *testing.T) {
				e.cloud.Intune.AllowChallenge("c-"+code, fakeintune.Challenge{Code: code, Description: "secret-looking detail"})
				_, err := e.v.Validate(context.Background(), request(t, "c-"+code, "tx-"+code))
				e.assertNoSecret(t, err)
				var rej *validate.Rejection
				if code == "SomethingNew" && status != http.StatusOK {
					// An unknown code on a 4xx may be anything: not a
					// verdict we recognise, so an error (still refused).
					if err == nil || errors.As(err, &rej) {
						t.Fatalf("Validate = %v, want a plain error", err)
					}
					return
				}
				if !errors.As(err, &rej) {
					t.Fatalf("Validate = %v, want a Rejection", err)
				}
				if want := "intune: " + code; rej.Reason != want {
					t.Errorf("Reason = %q, want %q", rej.Reason, want)
				}
				if strings.Contains(err.Error(), "secret-looking") {
					t.Errorf("error %q repeats Intune's description", err)
				}
			})
		}
	}
}

// The fake's own checks of the CSR against a registered challenge, seen
// through the validator.
func TestValidateChallengeChecks(t *testing.T) {
	e := newEnv(t, nil)
	now := e.clock.Now()
	e.cloud.Intune.AllowChallenge("expired", fakeintune.Challenge{NotAfter: now.Add(-time.Second)})
	e.cloud.Intune.AllowChallenge("untargeted", fakeintune.Challenge{Untargeted: true})
	e.cloud.Intune.AllowChallenge("subject", fakeintune.Challenge{Subject: "CN=other"})
	e.cloud.Intune.AllowChallenge("san", fakeintune.Challenge{URIs: []string{"IntuneDeviceId://someone-else"}})
	e.cloud.Intune.AllowChallenge("tx", fakeintune.Challenge{TransactionID: "tx-other"})
	e.cloud.Intune.AllowChallenge("good", fakeintune.Challenge{Subject: "CN=device",
		URIs: []string{"IntuneDeviceId://" + deviceGUID}, KeyBits: 256})
	tests := []struct {
		name, challenge, want string
	}{
		{"ok/matching", "good", ""},
		{"fail/unknown challenge", "never-registered", "ChallengeDecodingError"},
		{"fail/no challenge", "", "ChallengePasswordMissing"},
		{"fail/expired", "expired", "ChallengeExpired"},
		{"fail/untargeted", "untargeted", "ScepProfileNoLongerTargetedToTheClient"},
		{"fail/subject", "subject", "SubjectNameMismatch"},
		{"fail/san", "san", "SubjectAltNameMismatch"},
		{"fail/transaction", "tx", "BadCertificateRequestIdInChallenge"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.v.Validate(context.Background(), request(t, tt.challenge, "tx-1"))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var rej *validate.Rejection
			if !errors.As(err, &rej) || rej.Reason != "intune: "+tt.want {
				t.Fatalf("Validate = %v, want Rejection %q", err, tt.want)
			}
		})
	}
}

// Requests the validator refuses before asking Intune.
func TestValidateBadRequest(t *testing.T) {
	e := newEnv(t, nil)
	good := request(t, "x", "tx")
	tests := []struct {
		name string
		req  *validate.Request
		want string
	}{
		{"fail/nil request", nil, "intune: no request"},
		{"fail/no CSR", &validate.Request{TransactionID: "tx"}, "intune: request has no CSR"},
		{"fail/garbage CSR", &validate.Request{TransactionID: "tx", RawCSR: []byte("not DER")}, "intune: CSR does not parse"},
		{"fail/no transaction ID", &validate.Request{RawCSR: good.RawCSR}, "intune: request has no SCEP transaction ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.v.Validate(context.Background(), tt.req)
			var rej *validate.Rejection
			if !errors.As(err, &rej) || rej.Reason != tt.want {
				t.Fatalf("Validate = %v, want Rejection %q", err, tt.want)
			}
		})
	}
	if n := len(e.cloud.Intune.Requests()) + len(e.cloud.Entra.Requests()); n != 0 {
		t.Errorf("%d calls made for requests refused locally", n)
	}
}

// Anything but a clear answer fails closed with a plain error, never a
// Rejection and never an allowed request.
func TestValidateFailsClosed(t *testing.T) {
	const txt = "text/plain"
	tests := []struct {
		name  string
		setup func(e *env)
		want  string // substring of the error
		// intuneCalls is how many validateRequest calls must have been made.
		intuneCalls int
	}{
		{"fail/500 JSON", func(e *env) {
			e.cloud.Intune.SetFault(fakeintune.RouteValidate, fakehttp.Fault{Status: 500, Body: `{"error":{"code":"InternalError"}}`})
		}, "intune: validateRequest: HTTP 500", 1},
		{"fail/500 saying Success", func(e *env) {
			e.cloud.Intune.SetFault(fakeintune.RouteValidate, fakehttp.Fault{Status: 500, Body: fakeintune.ResultBody("Success", "")})
		}, "HTTP 500, code Success", 1},
		{"fail/503 HTML", func(e *env) {
			e.cloud.Intune.SetFault(fakeintune.RouteValidate, fakehttp.HTML(503))
		}, "HTTP 503", 1},
		{"fail/200 HTML", func(e *env) {
			e.cloud.Intune.SetFault(fakeintune.RouteValidate, fakehttp.HTML(200))
		}, "HTTP 200 with a body that is not a result", 1},
		{"fail/200 empty", func(e *env) {
			e.cloud.Intune.SetFault(fakeintune.RouteValidate, fakehttp.Fault{Status: 200, ContentType: txt})
		}, "not a result", 1},
		{"fail/200 without code", func(e *env) {
			e.cloud.Intune.SetFault(fakeintune.RouteValidate, fakehttp.Fault{Status: 200, Body: `{"errorDescription":""}`})
		}, "not a result", 1},
		{"fail/200 code not a string", func(e *env) {
			e.cloud.Intune.SetFault(fakeintune.RouteValidate, fakehttp.Fault{Status: 200, Body: `{"code":0}`})
		}, "not a result", 1},
		{"fail/401 with a rejection code", func(e *env) {
			e.cloud.Intune.SetFault(fakeintune.RouteValidate, fakehttp.Fault{Status: 401, Body: fakeintune.ResultBody("ChallengeExpired", "")})
		}, "HTTP 401, code ChallengeExpired", 1},
		{"fail/403", func(e *env) {
			e.cloud.Intune.SetFault(fakeintune.RouteValidate, fakehttp.Fault{Status: 403, Body: `{"error":{"code":"Forbidden"}}`})
		}, "HTTP 403", 1},
		{"fail/429", func(e *env) {
			e.cloud.Intune.SetFault(fakeintune.RouteValidate, fakehttp.Fault{Status: 429, Body: fakeintune.ResultBody("ChallengeExpired", "")})
		}, "HTTP 429", 1},
		{"fail/timeout", func(e *env) {
			e.cloud.Intune.SetFault(fakeintune.RouteValidate, fakehttp.Fault{Hang: true})
		}, "context deadline exceeded", 1},
		{"fail/connection reset", func(e *env) {
			e.cloud.Intune.SetFault(fakeintune.RouteValidate, fakehttp.Fault{Reset: true})
		}, "intune: validateRequest: Post", 1},
		{"fail/token bad secret", func(e *env) {
			e.cloud.Entra.AddClient(e.cloud.ClientID, "rotated-secret")
		}, "intune: token for graph: HTTP 401: invalid_client (AADSTS7000215)", 0},
		{"fail/token unknown tenant", func(e *env) {
			e.cloud.Entra.SetFault(entra.RouteToken, fakehttp.Fault{Status: 400,
				Body: entra.ErrorBody("invalid_request", 90002, "Tenant 'x' not found.")})
		}, "invalid_request (AADSTS90002)", 0},
		{"fail/token 500 HTML", func(e *env) {
			e.cloud.Entra.SetFault(entra.RouteToken, fakehttp.HTML(500))
		}, "intune: token for graph: HTTP 500", 0},
		{"fail/token 200 HTML", func(e *env) {
			e.cloud.Entra.SetFault(entra.RouteToken, fakehttp.HTML(200))
		}, "intune: token for graph: response is not JSON", 0},
		{"fail/token timeout", func(e *env) {
			e.cloud.Entra.SetFault(entra.RouteToken, fakehttp.Fault{Hang: true})
		}, "context deadline exceeded", 0},
		{"fail/token reset", func(e *env) {
			e.cloud.Entra.SetFault(entra.RouteToken, fakehttp.Fault{Reset: true})
		}, "intune: token for graph: Post", 0},
		{"fail/intune token refused", func(e *env) {
			e.cloud.Entra.AddClient(e.cloud.ClientID, e.cloud.ClientSecret)
			e.cloud.Entra.AddFault(entra.RouteToken, fakehttp.Fault{Times: 1}) // Graph token passes
			e.cloud.Entra.AddFault(entra.RouteToken, fakehttp.Fault{Status: 400,
				Body: entra.ErrorBody("invalid_scope", 70011, "The provided value for the input parameter 'scope' is not valid.")})
		}, "intune: token for intune: HTTP 400: invalid_scope (AADSTS70011)", 0},
		{"fail/discovery 403", func(e *env) {
			e.cloud.Graph.SetFault(graph.RouteEndpoints, graph.InsufficientPrivileges())
		}, "intune: discovery: HTTP 403: Authorization_RequestDenied", 0},
		{"fail/discovery 429", func(e *env) {
			e.cloud.Graph.SetFault(graph.RouteEndpoints, graph.Throttled(7))
		}, "HTTP 429: TooManyRequests, retry after 7s", 0},
		{"fail/discovery without SCEP entry", func(e *env) {
			eps := graph.StandardEndpoints(e.cloud.Intune.URL())
			e.cloud.Graph.SetEndpoints(slices.DeleteFunc(eps, func(x graph.Endpoint) bool { return x.ProviderName == graph.SCEPService })...)
		}, "Graph lists no ScepRequestValidationFEService", 0},
		{"fail/discovery HTML", func(e *env) {
			e.cloud.Graph.SetFault(graph.RouteEndpoints, fakehttp.HTML(200))
		}, "intune: discovery: response is not an endpoint list", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *intune.Config) { c.Timeout = timeoutFor(tt.name) })
			e.cloud.Intune.AllowChallenge("chal", fakeintune.Challenge{})
			tt.setup(e)
			dec, err := e.v.Validate(context.Background(), request(t, "chal", "tx-1"))
			if err == nil {
				t.Fatalf("Validate allowed the request (%+v)", dec)
			}
			var rej *validate.Rejection
			if errors.As(err, &rej) {
				t.Fatalf("Validate = Rejection %q, want a plain error", rej.Reason)
			}
			if !strings.HasPrefix(err.Error(), "intune: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
			if n := e.cloud.Intune.Count(fakeintune.RouteValidate); n != tt.intuneCalls {
				t.Errorf("validateRequest calls = %d, want %d (no retries)", n, tt.intuneCalls)
			}
			e.assertNoSecret(t, err)
		})
	}
}

// validateRequest is never retried: a failure is returned at once and
// the next enrollment makes its own call.
func TestValidateNoRetry(t *testing.T) {
	e := newEnv(t, nil)
	e.cloud.Intune.AllowChallenge("chal", fakeintune.Challenge{})
	e.cloud.Intune.SetFault(fakeintune.RouteValidate, fakehttp.Fault{Times: 1, Status: 500, Body: "{}"})
	req := request(t, "chal", "tx-1")
	if _, err := e.v.Validate(context.Background(), req); err == nil {
		t.Fatal("first Validate succeeded through a 500")
	}
	if n := e.cloud.Intune.Count(fakeintune.RouteValidate); n != 1 {
		t.Fatalf("validateRequest calls after a 500 = %d, want 1", n)
	}
	if _, err := e.v.Validate(context.Background(), req); err != nil {
		t.Fatalf("second Validate: %v", err)
	}
	if n := e.cloud.Intune.Count(fakeintune.RouteValidate); n != 2 {
		t.Fatalf("validateRequest calls = %d, want 2", n)
	}
}

// A caller's deadline shorter than Config.Timeout wins.
func TestValidateCallerDeadline(t *testing.T) {
	e := newEnv(t, nil) // Timeout 5 s
	e.cloud.Intune.AllowChallenge("chal", fakeintune.Challenge{})
	e.cloud.Intune.SetFault(fakeintune.RouteValidate, fakehttp.Fault{Hang: true})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := e.v.Validate(ctx, request(t, "chal", "tx"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Validate = %v, want context.DeadlineExceeded", err)
	}
}

// The device ID is read from the DER Intune judged, even if the parsed
// CSR handed in beside it differs.
func TestValidateDeviceIDFromSentCSR(t *testing.T) {
	e := newEnv(t, nil)
	e.cloud.Intune.AllowChallenge("chal", fakeintune.Challenge{})
	req := request(t, "chal", "tx")
	_, other := newCSR(t, csrOpts{challenge: "chal", uris: []string{"IntuneDeviceId://aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"}})
	req.CSR = other
	dec, err := e.v.Validate(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if dec.DeviceID != deviceGUID {
		t.Errorf("DeviceID = %q, want the sent CSR's %q", dec.DeviceID, deviceGUID)
	}
}

// A code that is not safe to log is still a rejection, under a
// placeholder name.
func TestValidateOddCode(t *testing.T) {
	e := newEnv(t, nil)
	e.cloud.Intune.AllowChallenge("chal", fakeintune.Challenge{Code: "Bad\nCode: injected"})
	_, err := e.v.Validate(context.Background(), request(t, "chal", "tx"))
	var rej *validate.Rejection
	if !errors.As(err, &rej) || rej.Reason != "intune: unrecognised code" {
		t.Fatalf("Validate = %v, want Rejection \"intune: unrecognised code\"", err)
	}
}
