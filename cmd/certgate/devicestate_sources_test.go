package main

import (
	"context"
	"testing"
	"time"

	"github.com/certgate/certgate/integration/fakes/graph"
	"github.com/certgate/certgate/integration/fakes/microsoft"
	"github.com/certgate/certgate/validate/intune"
)

// TestIntuneDeviceStates maps every managementState and the compliance
// states the Graph fake serves to an Observation, over real HTTP.
func TestIntuneDeviceStates(t *testing.T) {
	cloud := microsoft.New()
	defer cloud.Close()
	v, err := intune.New(intune.Config{TenantID: cloud.Tenant, ClientID: cloud.ClientID, ClientSecret: cloud.ClientSecret,
		AuthorityURL: cloud.Entra.URL() + "/", GraphURL: cloud.Graph.URL() + "/", RootCAs: cloud.CertPool(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	src := intuneDevices{v}
	const id = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
	permanent := map[string]bool{"retirePending": true, "retireFailed": true, "wipePending": true, "wipeFailed": true,
		"unhealthy": true, "deletePending": true, "retireIssued": true, "wipeIssued": true}
	for _, state := range graph.ManagementStates {
		t.Run("ok/managementState "+state, func(t *testing.T) {
			cloud.Graph.PutManagedDevice(graph.ManagedDevice{ID: id, ManagementState: state})
			o, err := src.Lookup(context.Background(), id)
			if err != nil || !o.Found || o.Permanent != permanent[state] || o.NonCompliant {
				t.Fatalf("Lookup: %+v, %v; want found, permanent %v", o, err, permanent[state])
			}
		})
	}
	for state, non := range map[string]bool{"compliant": false, "noncompliant": true, "inGracePeriod": false, "unknown": false, "error": false} {
		t.Run("ok/complianceState "+state, func(t *testing.T) {
			enrolled := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			cloud.Graph.PutManagedDevice(graph.ManagedDevice{ID: id, ComplianceState: state, EnrolledDateTime: enrolled})
			o, err := src.Lookup(context.Background(), id)
			if err != nil || o.NonCompliant != non || !o.EnrolledAt.Equal(enrolled) {
				t.Fatalf("Lookup: %+v, %v; want non-compliant %v, enrolled %v", o, err, non, enrolled)
			}
		})
	}
	t.Run("ok/deleted", func(t *testing.T) {
		cloud.Graph.DeleteManagedDevice(id)
		if o, err := src.Lookup(context.Background(), id); err != nil || o.Found {
			t.Fatalf("Lookup: %+v, %v; want not found", o, err)
		}
	})
	t.Run("ok/entra disabled and deleted", func(t *testing.T) {
		e := entraDevices{v}
		cloud.Graph.PutEntraDevice(graph.EntraDevice{DeviceID: id, AccountEnabled: false})
		if o, err := e.Lookup(context.Background(), id); err != nil || !o.Found || !o.Disabled {
			t.Fatalf("disabled: %+v, %v", o, err)
		}
		cloud.Graph.DeleteEntraDevice(id)
		if o, err := e.Lookup(context.Background(), id); err != nil || o.Found {
			t.Fatalf("deleted: %+v, %v", o, err)
		}
	})
	t.Run("fail/graph down is an error, not a verdict", func(t *testing.T) {
		cloud.Graph.PutManagedDevice(graph.ManagedDevice{ID: id})
		cloud.Graph.SetFault(graph.RouteManagedDevice, graph.Throttled(3))
		defer cloud.Graph.ClearFaults()
		if _, err := src.Lookup(context.Background(), id); err == nil {
			t.Fatal("429 gave a verdict")
		}
	})
}
