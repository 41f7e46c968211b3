package graph_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/certgate/certgate/integration/fakes/microsoft"
)

// token gets a bearer token for scope from the cloud's Entra.
func token(t *testing.T, c *microsoft.Cloud, scope string) string {
	t.Helper()
	resp, err := c.Entra.Client().PostForm(c.Entra.TokenURL(c.Tenant), url.Values{
		"grant_type": {"client_credentials"}, "client_id": {c.ClientID},
		"client_secret": {c.ClientSecret}, "scope": {scope}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.AccessToken == "" {
		t.Fatalf("token: %v %+v", err, body)
	}
	return body.AccessToken
}

func TestGraphDiscovery(t *testing.T) {
	c := microsoft.New()
	defer c.Close()
	graphTok := token(t, c, "https://graph.microsoft.com/.default")
	intuneTok := token(t, c, "https://api.manage.microsoft.com//.default")
	const path = "/v1.0/servicePrincipals/appId=0000000a-0000-0000-c000-000000000000/endpoints"
	tests := []struct {
		name   string
		path   string
		token  string
		status int
		code   string
	}{
		{"ok/graph token", path, graphTok, 200, ""},
		{"fail/no token", path, "", 401, "InvalidAuthenticationToken"},
		{"fail/intune token", path, intuneTok, 401, "InvalidAuthenticationToken"},
		{"fail/unknown token", path, "forged", 401, "InvalidAuthenticationToken"},
		{"fail/other app", "/v1.0/servicePrincipals/appId=1/endpoints", graphTok, 404, "Request_ResourceNotFound"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, c.Graph.URL()+tt.path, nil)
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			req.Header.Set("client-request-id", "0f0e0d0c-0b0a-4908-8706-050403020100")
			resp, err := c.Graph.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct {
				Value []struct{ ProviderName, URI string } `json:"value"`
				Error struct {
					Code       string            `json:"code"`
					InnerError map[string]string `json:"innerError"`
				} `json:"error"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if resp.Header.Get("client-request-id") != "0f0e0d0c-0b0a-4908-8706-050403020100" || resp.Header.Get("request-id") == "" {
				t.Errorf("request ids not echoed: %v", resp.Header)
			}
			if tt.code != "" {
				if body.Error.Code != tt.code || body.Error.InnerError["request-id"] == "" {
					t.Errorf("error body %+v, want code %s", body.Error, tt.code)
				}
				return
			}
			uris := map[string]string{}
			for _, v := range body.Value {
				uris[v.ProviderName] = v.URI
			}
			if uris["ScepRequestValidationFEService"] != c.Intune.SCEPServiceURI() || uris["PkiConnectorFEService"] != c.Intune.PKIServiceURI() || len(body.Value) < 3 {
				t.Errorf("endpoints %+v do not point at the Intune fake", body.Value)
			}
		})
	}
}
