package jamf_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/certgate/certgate/integration/fakes/jamf"
)

// The driver sends the §7.5 envelope with Basic auth and reads the
// answer as Fleet does.
func TestWebhookDriver(t *testing.T) {
	var got struct {
		user, pass string
		hasAuth    bool
		ctype      string
		body       map[string]map[string]any
	}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.user, got.pass, got.hasAuth = r.BasicAuth()
		got.ctype = r.Header.Get("Content-Type")
		b, _ := io.ReadAll(r.Body)
		got.body = nil
		_ = json.Unmarshal(b, &got.body)
		if !got.hasAuth {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, " abc123\n")
	}))
	defer srv.Close()
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		user      string
		ev        jamf.SCEPChallengeEvent
		wantTS    float64
		wantExtra string
		challenge string
	}{
		{"ok/milliseconds", "jamf", jamf.SCEPChallengeEvent{Time: at, PayloadIdentifier: "P-1"}, float64(at.UnixMilli()), "", "abc123"},
		{"ok/seconds", "jamf", jamf.SCEPChallengeEvent{Time: at, Unit: jamf.Seconds, PayloadIdentifier: "P-1"}, float64(at.Unix()), "", "abc123"},
		{"ok/extra fields", "jamf", jamf.SCEPChallengeEvent{Time: at, PayloadIdentifier: "P-1",
			ExtraEvent: map[string]any{"device": map[string]any{"uuid": "U"}}}, float64(at.UnixMilli()), "device", "abc123"},
		{"fail/no credentials", "", jamf.SCEPChallengeEvent{Time: at}, float64(at.UnixMilli()), "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := jamf.WebhookDriver{Client: srv.Client(), URL: srv.URL, Username: tt.user}
			if tt.user != "" {
				d.Password = "pw"
			}
			res, err := d.SCEPChallenge(context.Background(), tt.ev)
			if err != nil {
				t.Fatal(err)
			}
			if got.hasAuth != (tt.user != "") || got.user != tt.user || got.ctype != "application/json" {
				t.Errorf("auth %v %q, content type %q", got.hasAuth, got.user, got.ctype)
			}
			wh, ev := got.body["webhook"], got.body["event"]
			if wh["webhookEvent"] != "SCEPChallenge" || wh["eventTimestamp"] != tt.wantTS {
				t.Errorf("webhook object %v, want SCEPChallenge at %v", wh, tt.wantTS)
			}
			if tt.wantExtra != "" && ev[tt.wantExtra] == nil {
				t.Errorf("event object %v lacks %s", ev, tt.wantExtra)
			}
			c, err := res.Challenge()
			if tt.challenge == "" {
				if err == nil || res.Status != 401 {
					t.Errorf("Challenge = %q, %v (HTTP %d), want an error", c, err, res.Status)
				}
				return
			}
			if err != nil || c != tt.challenge {
				t.Errorf("Challenge = %q, %v, want %q", c, err, tt.challenge)
			}
		})
	}
}
