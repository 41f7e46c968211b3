package graph_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/certgate/certgate/integration/fakes/fakehttp"
	"github.com/certgate/certgate/integration/fakes/graph"
	"github.com/certgate/certgate/integration/fakes/microsoft"
)

func TestGraphDevices(t *testing.T) {
	c := microsoft.New()
	defer c.Close()
	tok := token(t, c, "https://graph.microsoft.com/.default")
	intuneTok := token(t, c, "https://api.manage.microsoft.com//.default")
	const id = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
	c.Graph.PutManagedDevice(graph.ManagedDevice{ID: id})
	c.Graph.PutEntraDevice(graph.EntraDevice{DeviceID: id, AccountEnabled: true})
	get := func(t *testing.T, path, token string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, c.Graph.URL()+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := c.Graph.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var body map[string]any
		_ = json.Unmarshal(b, &body)
		return resp.StatusCode, body
	}
	managed := "/v1.0/deviceManagement/managedDevices/" + id
	filter := "/v1.0/devices?" + url.Values{"$filter": {"deviceId eq '" + id + "'"}}.Encode()

	t.Run("ok/managed device at the top level, defaults", func(t *testing.T) {
		status, body := get(t, managed, tok)
		if status != 200 || body["id"] != id || body["managementState"] != "managed" || body["complianceState"] != "compliant" {
			t.Fatalf("%d %v", status, body)
		}
	})
	t.Run("ok/wrapped in value", func(t *testing.T) {
		c.Graph.WrapManagedDevice(true)
		defer c.Graph.WrapManagedDevice(false)
		status, body := get(t, managed, tok)
		if v, _ := body["value"].(map[string]any); status != 200 || v["id"] != id {
			t.Fatalf("%d %v", status, body)
		}
	})
	t.Run("ok/controls", func(t *testing.T) {
		c.Graph.SetManagementState(id, "wipePending")
		c.Graph.SetComplianceState(id, "noncompliant")
		if _, body := get(t, managed, tok); body["managementState"] != "wipePending" || body["complianceState"] != "noncompliant" {
			t.Fatalf("%v", body)
		}
		c.Graph.SetAccountEnabled(id, false)
		_, body := get(t, filter, tok)
		if list, _ := body["value"].([]any); len(list) != 1 || list[0].(map[string]any)["accountEnabled"] != false {
			t.Fatalf("%v", body)
		}
	})
	t.Run("ok/deleted", func(t *testing.T) {
		c.Graph.DeleteManagedDevice(id)
		c.Graph.DeleteEntraDevice(id)
		if status, body := get(t, managed, tok); status != 404 || body["error"] == nil {
			t.Fatalf("managed device: %d %v, want 404 with a Graph error", status, body)
		}
		if status, body := get(t, filter, tok); status != 200 || len(body["value"].([]any)) != 0 {
			t.Fatalf("devices: %d %v, want an empty value", status, body)
		}
	})
	t.Run("fail/intune token", func(t *testing.T) {
		if status, _ := get(t, managed, intuneTok); status != 401 {
			t.Fatalf("%d, want 401", status)
		}
	})
	t.Run("fail/unsupported filter", func(t *testing.T) {
		if status, _ := get(t, "/v1.0/devices?$filter=startswith(displayName,'a')", tok); status != 400 {
			t.Fatalf("%d, want 400", status)
		}
	})
	t.Run("ok/fail twice then succeed", func(t *testing.T) {
		c.Graph.PutManagedDevice(graph.ManagedDevice{ID: id})
		c.Graph.SetFault(graph.RouteManagedDevice, fakehttp.Fault{Times: 2, Status: 503, Body: graph.ErrorBody("ServiceUnavailable", "x", "")})
		for _, want := range []int{503, 503, 200} {
			if status, _ := get(t, managed, tok); status != want {
				t.Fatalf("%d, want %d", status, want)
			}
		}
	})
}
