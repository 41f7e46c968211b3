package intune_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/certgate/certgate/integration/fakes/fakehttp"
	"github.com/certgate/certgate/integration/fakes/graph"
	fakeintune "github.com/certgate/certgate/integration/fakes/intune"
	"github.com/certgate/certgate/validate"
	"github.com/certgate/certgate/validate/intune"
)

// When the discovered Intune host fails, the service map is dropped and
// the next call asks Graph again and reaches the service's new home. An
// answer from Intune (even a rejection or a 401) keeps the map.
func TestDiscoveryRerunAfterHostFailure(t *testing.T) {
	tests := []struct {
		name       string
		fault      fakehttp.Fault
		rediscover bool
	}{
		{"ok/500 rediscovers", fakehttp.Fault{Status: 500, Body: "{}"}, true},
		{"ok/503 HTML rediscovers", fakehttp.HTML(503), true},
		{"ok/404 rediscovers", fakehttp.Fault{Status: 404, Body: `{"error":{"code":"NotFound"}}`}, true},
		{"ok/reset rediscovers", fakehttp.Fault{Reset: true}, true},
		{"ok/timeout rediscovers", fakehttp.Fault{Hang: true}, true},
		{"ok/rejection keeps", fakehttp.Fault{Status: 200, Body: fakeintune.ResultBody("ChallengeExpired", "")}, false},
		{"ok/401 keeps", fakehttp.Fault{Status: 401, Body: "{}"}, false},
		{"ok/400 keeps", fakehttp.Fault{Status: 400, Body: `{"error":{"code":"BadRequest"}}`}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *intune.Config) { c.Timeout = timeoutFor(tt.name) })
			e.cloud.Intune.AllowChallenge("chal", fakeintune.Challenge{})
			moved := fakeintune.New(e.cloud.Entra)
			defer moved.Close()
			moved.AllowChallenge("chal", fakeintune.Challenge{})
			ctx := context.Background()
			if _, err := e.v.Validate(ctx, request(t, "chal", "tx")); err != nil {
				t.Fatal(err)
			}
			e.cloud.Intune.SetFault(fakeintune.RouteValidate, tt.fault)
			e.cloud.Graph.SetEndpoints(graph.StandardEndpoints(moved.URL())...)
			if _, err := e.v.Validate(ctx, request(t, "chal", "tx")); err == nil {
				t.Fatal("Validate succeeded through the fault")
			}
			_, err := e.v.Validate(ctx, request(t, "chal", "tx"))
			gotDiscoveries := e.cloud.Graph.Count(graph.RouteEndpoints)
			if !tt.rediscover {
				if gotDiscoveries != 1 || moved.Count(fakeintune.RouteValidate) != 0 {
					t.Fatalf("discoveries = %d, moved host calls = %d; want the map kept", gotDiscoveries, moved.Count(fakeintune.RouteValidate))
				}
				return
			}
			if err != nil {
				t.Fatalf("Validate after the failure: %v", err)
			}
			if gotDiscoveries != 2 || moved.Count(fakeintune.RouteValidate) != 1 {
				t.Fatalf("discoveries = %d, moved host calls = %d; want 2 and 1", gotDiscoveries, moved.Count(fakeintune.RouteValidate))
			}
		})
	}
}

// Discovery is cached across calls and shared between SCEP validation
// and the revocation service.
func TestDiscoveryCached(t *testing.T) {
	e := newEnv(t, nil)
	e.cloud.Intune.AllowChallenge("chal", fakeintune.Challenge{})
	ctx := context.Background()
	for range 3 {
		if _, err := e.v.Validate(ctx, request(t, "chal", "tx")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.v.DownloadRevocationRequests(ctx, 10); err != nil {
		t.Fatal(err)
	}
	if n := e.cloud.Graph.Count(graph.RouteEndpoints); n != 1 {
		t.Errorf("discoveries = %d, want 1", n)
	}
}

// Shapes of the discovery list the client must accept: the legacy
// serviceName spelling, other letter case, entries without a name or
// with a non-https uri (skipped), and a list that changes between calls.
func TestDiscoveryListShapes(t *testing.T) {
	tests := []struct {
		name string
		eps  func(base string) []graph.Endpoint
		want string // "" means Validate succeeds
	}{
		{"ok/legacy serviceName", func(base string) []graph.Endpoint {
			return []graph.Endpoint{{ServiceName: graph.SCEPService, URI: base + graph.SCEPPath}}
		}, ""},
		{"ok/lower case name", func(base string) []graph.Endpoint {
			return []graph.Endpoint{{ProviderName: strings.ToLower(graph.SCEPService), URI: base + graph.SCEPPath}}
		}, ""},
		{"ok/nameless and http entries skipped", func(base string) []graph.Endpoint {
			return []graph.Endpoint{
				{URI: "https://nameless.example/"},
				{ProviderName: graph.SCEPService, URI: "http://plaintext.example/"},
				{ProviderName: "Other", URI: "::bad"},
				{ProviderName: graph.SCEPService, URI: base + graph.SCEPPath},
			}
		}, ""},
		{"fail/only http entry", func(base string) []graph.Endpoint {
			return []graph.Endpoint{{ProviderName: graph.SCEPService, URI: "http://plaintext.example/"}}
		}, "intune: discovery: Graph lists no ScepRequestValidationFEService"},
		{"fail/empty list", func(string) []graph.Endpoint { return nil }, "Graph lists no ScepRequestValidationFEService"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			e.cloud.Intune.AllowChallenge("chal", fakeintune.Challenge{})
			e.cloud.Graph.SetEndpoints(tt.eps(e.cloud.Intune.URL())...)
			_, err := e.v.Validate(context.Background(), request(t, "chal", "tx"))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var rej *validate.Rejection
			if err == nil || errors.As(err, &rej) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// A list missing the SCEP entry is not cached: once the tenant is fixed
// (permission granted), the next call finds the service.
func TestDiscoveryGapNotCached(t *testing.T) {
	e := newEnv(t, nil)
	e.cloud.Intune.AllowChallenge("chal", fakeintune.Challenge{})
	full := graph.StandardEndpoints(e.cloud.Intune.URL())
	e.cloud.Graph.QueueEndpoints(full[:1], full)
	ctx := context.Background()
	if _, err := e.v.Validate(ctx, request(t, "chal", "tx")); err == nil {
		t.Fatal("Validate succeeded without a SCEP entry")
	}
	if _, err := e.v.Validate(ctx, request(t, "chal", "tx")); err != nil {
		t.Fatalf("Validate once the entry is listed: %v", err)
	}
	if n := e.cloud.Graph.Count(graph.RouteEndpoints); n != 2 {
		t.Errorf("discoveries = %d, want 2", n)
	}
}
