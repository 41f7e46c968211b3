package intune_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/certgate/certgate/integration/fakes/fakehttp"
	"github.com/certgate/certgate/integration/fakes/graph"
	"github.com/certgate/certgate/validate/intune"
)

const (
	devID   = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
	entraID = "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d"
)

func TestManagedDevice(t *testing.T) {
	e := newEnv(t, func(c *intune.Config) { c.Timeout = 2 * time.Second })
	enrolled := time.Date(2026, 2, 1, 8, 0, 0, 0, time.UTC)
	e.cloud.Graph.PutManagedDevice(graph.ManagedDevice{ID: devID, AzureADDeviceID: entraID, ManagementState: "wipePending",
		ComplianceState: "noncompliant", EnrolledDateTime: enrolled})
	ctx := context.Background()
	for _, wrap := range []bool{false, true} {
		e.cloud.Graph.WrapManagedDevice(wrap)
		d, err := e.v.ManagedDevice(ctx, devID)
		if err != nil {
			t.Fatalf("wrap %v: %v", wrap, err)
		}
		if d.ID != devID || d.ManagementState != "wipePending" || d.ComplianceState != "noncompliant" || !d.EnrolledDateTime.Equal(enrolled) || d.AzureADDeviceID != entraID {
			t.Fatalf("wrap %v: %+v", wrap, d)
		}
	}
	req := e.cloud.Graph.RequestsFor(graph.RouteManagedDevice)
	if tok := strings.TrimPrefix(req[0].Header.Get("Authorization"), "Bearer "); tok == "" {
		t.Fatal("no bearer token")
	} else if aud, _ := e.cloud.Entra.Audience(tok); aud != graph.Audience {
		t.Fatalf("token audience %q, want Graph", aud)
	}

	e.cloud.Graph.DeleteManagedDevice(devID)
	if _, err := e.v.ManagedDevice(ctx, devID); !errors.Is(err, intune.ErrDeviceNotFound) {
		t.Fatalf("deleted device: %v, want ErrDeviceNotFound", err)
	}
	e.cloud.Graph.PutManagedDevice(graph.ManagedDevice{ID: devID})
	for _, tc := range []struct {
		name  string
		fault fakehttp.Fault
		want  string
	}{
		{"fail/5xx", fakehttp.Fault{Status: 503, Body: graph.ErrorBody("ServiceUnavailable", "down", "")}, "HTTP 503: ServiceUnavailable"},
		{"fail/429", graph.Throttled(7), "HTTP 429: TooManyRequests, retry after 7s"},
		{"fail/HTML 200", fakehttp.Fault{Status: 200, ContentType: "text/html", Body: "<html>hi</html>"}, "not JSON"},
		{"fail/reset", fakehttp.Fault{Reset: true}, "managed_device"},
		{"fail/timeout", fakehttp.Fault{Hang: true}, "deadline"},
		{"fail/403", graph.InsufficientPrivileges(), "HTTP 403"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.cloud.Graph.SetFault(graph.RouteManagedDevice, tc.fault)
			defer e.cloud.Graph.ClearFaults(graph.RouteManagedDevice)
			_, err := e.v.ManagedDevice(ctx, devID)
			if err == nil || errors.Is(err, intune.ErrDeviceNotFound) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want a transient error containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), e.cloud.ClientSecret) {
				t.Fatal("error holds the client secret")
			}
		})
	}
	if _, err := e.v.ManagedDevice(ctx, "../../x"); err == nil {
		t.Fatal("a device ID that is not a GUID was looked up")
	}
}

func TestEntraDevice(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	e.cloud.Graph.PutEntraDevice(graph.EntraDevice{DeviceID: entraID, AccountEnabled: true})
	d, err := e.v.EntraDevice(ctx, entraID)
	if err != nil || d.DeviceID != entraID || d.AccountEnabled == nil || !*d.AccountEnabled {
		t.Fatalf("EntraDevice: %+v, %v", d, err)
	}
	e.cloud.Graph.SetAccountEnabled(entraID, false)
	if d, err = e.v.EntraDevice(ctx, entraID); err != nil || *d.AccountEnabled {
		t.Fatalf("disabled: %+v, %v", d, err)
	}
	e.cloud.Graph.DeleteEntraDevice(entraID)
	if _, err := e.v.EntraDevice(ctx, entraID); !errors.Is(err, intune.ErrDeviceNotFound) {
		t.Fatalf("deleted: %v, want ErrDeviceNotFound", err)
	}
	e.cloud.Graph.SetFault(graph.RouteDevices, fakehttp.Fault{Status: http.StatusInternalServerError, Body: "oops"})
	if _, err := e.v.EntraDevice(ctx, entraID); err == nil || errors.Is(err, intune.ErrDeviceNotFound) {
		t.Fatalf("5xx: %v, want a transient error", err)
	}
	if _, err := e.v.EntraDevice(ctx, "x' or true or deviceId eq 'y"); err == nil {
		t.Fatal("a filter injection was sent")
	}
}
