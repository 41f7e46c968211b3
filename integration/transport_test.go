//go:build integration

package integration

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
)

// TestSCEPTransports enrolls over every path and method a client may use:
// POST on /scep, the profile path and the NDES paths, and GET with the
// message URL-escaped (RFC 8894) or with raw '+' and '/' (Cisco).
func TestSCEPTransports(t *testing.T) {
	srv := startServer(t, newDataDir(t))
	challenge := srv.Challenge()

	for _, tc := range []struct {
		name, path string
		send       func(c *scepClient, ctx context.Context, raw []byte) ([]byte, error)
	}{
		{"ok/post-scep", "/scep", (*scepClient).post},
		{"ok/post-profile", "/scep/default", (*scepClient).post},
		{"ok/post-ndes", "/certsrv/mscep/mscep.dll", (*scepClient).post},
		{"ok/post-ndes-pkiclient", "/certsrv/mscep/mscep.dll/pkiclient.exe", (*scepClient).post},
		{"ok/get-escaped", "/scep", func(c *scepClient, ctx context.Context, raw []byte) ([]byte, error) {
			return c.get(ctx, raw, true)
		}},
		{"ok/get-raw-plus", "/scep", func(c *scepClient, ctx context.Context, raw []byte) ([]byte, error) {
			return c.get(ctx, raw, false)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newSCEPClient(t, srv.URL+tc.path)
			r := pkcsReq(t, "transport-"+tc.name[3:], challenge)
			raw, err := c.build(r)
			if err != nil {
				t.Fatal(err)
			}
			if tc.name == "ok/get-raw-plus" && !strings.Contains(base64.StdEncoding.EncodeToString(raw), "+") {
				t.Fatalf("message base64 has no '+': nothing to test")
			}
			body, err := tc.send(c, t.Context(), raw)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := c.open(body, r.Signer)
			if err != nil {
				t.Fatal(err)
			}
			id := mustIssued(t, rep, r)
			rec := recordBySerial(certsList(t, srv.DataDir), serialHex(id.Cert))
			if rec == nil || rec.Profile != "default" || rec.Protocol != "scep" {
				t.Errorf("record for %s: %+v, want profile default protocol scep", serialHex(id.Cert), rec)
			}
		})
	}

	t.Run("fail/unknown-profile", func(t *testing.T) {
		resp, err := httpClient.Get(srv.URL + "/scep/no-such-profile?operation=GetCACaps")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GetCACaps on an unknown profile: %s, want 404", resp.Status)
		}
	})
}
