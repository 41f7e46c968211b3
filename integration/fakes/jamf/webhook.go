package jamf

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// TimestampUnit is the unit of webhook.eventTimestamp.
type TimestampUnit int

// Timestamp units: Jamf's general webhook doc says milliseconds; Fleet,
// emulating Jamf's SCEPChallenge, sends seconds (§7.5, §9.8).
const (
	Milliseconds TimestampUnit = iota
	Seconds
)

// SCEPChallengeEvent is what the driver sends. The zero value sends a
// plausible event stamped with the current time in milliseconds.
type SCEPChallengeEvent struct {
	// ID is webhook.id; zero sends 1.
	ID int
	// Name is webhook.name (the webhook's name in Jamf).
	Name string
	// Time is webhook.eventTimestamp; zero means now.
	Time time.Time
	Unit TimestampUnit
	// SCEPServerURL, PayloadIdentifier and PayloadTypes fill the event
	// object; empty PayloadTypes sends ["com.apple.security.scep"].
	SCEPServerURL     string
	PayloadIdentifier string
	PayloadTypes      []string
	// ExtraWebhook and ExtraEvent add fields to the two objects, e.g.
	// fields a newer Jamf might send or Fleet's "device" extension; they
	// override the standard ones of the same name.
	ExtraWebhook map[string]any
	ExtraEvent   map[string]any
}

// JSON returns the envelope as sent.
func (e SCEPChallengeEvent) JSON() []byte {
	id := e.ID
	if id == 0 {
		id = 1
	}
	t := e.Time
	if t.IsZero() {
		t = time.Now()
	}
	ts := t.UnixMilli()
	if e.Unit == Seconds {
		ts = t.Unix()
	}
	types := e.PayloadTypes
	if len(types) == 0 {
		types = []string{"com.apple.security.scep"}
	}
	webhook := map[string]any{"webhookEvent": "SCEPChallenge", "id": id, "eventTimestamp": ts, "name": e.Name}
	for k, v := range e.ExtraWebhook {
		webhook[k] = v
	}
	event := map[string]any{"scepServerUrl": e.SCEPServerURL, "payloadIdentifier": e.PayloadIdentifier, "payloadTypes": types}
	for k, v := range e.ExtraEvent {
		event[k] = v
	}
	b, _ := json.Marshal(map[string]any{"webhook": webhook, "event": event})
	return b
}

// WebhookDriver plays Jamf Pro calling certgate's challenge webhook.
type WebhookDriver struct {
	// Client sends the requests; nil means http.DefaultClient. Tests pass
	// the client of the server under test, which trusts its certificate.
	Client *http.Client
	// URL is the challenge URL, e.g. https://host/jamf/<profile>/scep-challenge.
	URL string
	// Username and Password are sent with HTTP Basic; both empty sends no
	// Authorization header.
	Username string
	Password string
}

// WebhookResult is certgate's answer.
type WebhookResult struct {
	Status      int
	ContentType string
	// Body is the body as received (at most 64 KiB), not trimmed.
	Body string
}

// driverTimeout is Fleet's client timeout for the webhook, used when
// the caller's context has no deadline.
const driverTimeout = 30 * time.Second

// SCEPChallenge POSTs ev as application/json.
func (d WebhookDriver) SCEPChallenge(ctx context.Context, ev SCEPChallengeEvent) (WebhookResult, error) {
	return d.Post(ctx, "application/json", ev.JSON())
}

// Post POSTs body as is, for malformed and oversized bodies.
func (d WebhookDriver) Post(ctx context.Context, contentType string, body []byte) (WebhookResult, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, driverTimeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(body))
	if err != nil {
		return WebhookResult{}, fmt.Errorf("jamf: webhook driver: %w", err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("User-Agent", "Jamf Pro (fake)")
	if d.Username != "" || d.Password != "" {
		req.SetBasicAuth(d.Username, d.Password)
	}
	client := d.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return WebhookResult{}, fmt.Errorf("jamf: webhook driver: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil && !errors.Is(err, io.EOF) {
		return WebhookResult{}, fmt.Errorf("jamf: webhook driver: reading answer: %w", err)
	}
	return WebhookResult{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Body: string(b)}, nil
}

// Challenge reads the answer as Fleet does when it emulates Jamf: HTTP
// 200 with the challenge as the body, whitespace trimmed; any other
// status or an empty body is an error.
func (r WebhookResult) Challenge() (string, error) {
	if r.Status != http.StatusOK {
		return "", fmt.Errorf("jamf: webhook driver: HTTP %d", r.Status)
	}
	c := strings.TrimSpace(r.Body)
	if c == "" {
		return "", errors.New("jamf: webhook driver: empty challenge")
	}
	return c, nil
}
