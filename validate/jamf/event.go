package jamf

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// scepChallengeEvent is what certgate reads of a SCEPChallenge webhook
// (§7.5). Every other field is ignored.
type scepChallengeEvent struct {
	// Time is webhook.eventTimestamp; zero when the event has none.
	Time              time.Time
	WebhookID         string
	SCEPServerURL     string
	PayloadIdentifier string
	DeviceUDID        string
}

// millisThreshold tells the two timestamp units apart: 1e11 seconds is
// in the year 5138 and 1e11 milliseconds in 1973, so any plausible
// event is read right either way.
const millisThreshold = 1e11

// maxIdentifier bounds the identifiers kept from an event; they are
// UUIDs in practice.
const maxIdentifier = 256

// parseSCEPChallenge reads a webhook body. Its errors are safe to log
// and to send back: they name what is wrong, never echo the input.
func parseSCEPChallenge(body []byte) (scepChallengeEvent, error) {
	var raw struct {
		Webhook *struct {
			WebhookEvent   *string         `json:"webhookEvent"`
			ID             json.RawMessage `json:"id"`
			EventTimestamp json.RawMessage `json:"eventTimestamp"`
		} `json:"webhook"`
		Event *struct {
			SCEPServerURL     *string `json:"scepServerUrl"`
			PayloadIdentifier *string `json:"payloadIdentifier"`
			// Device identifiers are speculative (§9.8: Fleet's extension),
			// so a value of another type is ignored rather than refused.
			UDID   json.RawMessage `json:"udid"`
			Device json.RawMessage `json:"device"`
		} `json:"event"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return scepChallengeEvent{}, errors.New("body is not a JSON webhook envelope")
	}
	if raw.Webhook == nil || raw.Event == nil {
		return scepChallengeEvent{}, errors.New("envelope lacks the webhook or event object")
	}
	if raw.Webhook.WebhookEvent == nil || !strings.EqualFold(*raw.Webhook.WebhookEvent, "SCEPChallenge") {
		return scepChallengeEvent{}, errors.New("webhookEvent is not SCEPChallenge")
	}
	var ev scepChallengeEvent
	t, err := parseTimestamp(raw.Webhook.EventTimestamp)
	if err != nil {
		return scepChallengeEvent{}, err
	}
	ev.Time = t
	if id := string(bytes.Trim(raw.Webhook.ID, `"`)); safeCode(id) == id {
		ev.WebhookID = id
	}
	e := raw.Event
	for _, f := range []struct {
		dst *string
		src *string
	}{{&ev.SCEPServerURL, e.SCEPServerURL}, {&ev.PayloadIdentifier, e.PayloadIdentifier}} {
		if f.src != nil {
			*f.dst = identifier(*f.src)
		}
	}
	var dev map[string]json.RawMessage
	_ = json.Unmarshal(e.Device, &dev) // not an object: no device identifiers
	for _, u := range []json.RawMessage{e.UDID, dev["udid"], dev["uuid"]} {
		var v string
		if json.Unmarshal(u, &v) == nil && identifier(v) != "" {
			ev.DeviceUDID = identifier(v)
			break
		}
	}
	if (e.PayloadIdentifier != nil && *e.PayloadIdentifier != "" && ev.PayloadIdentifier == "") ||
		(e.SCEPServerURL != nil && *e.SCEPServerURL != "" && ev.SCEPServerURL == "") {
		return scepChallengeEvent{}, errors.New("event identifier is too long or has control characters")
	}
	return ev, nil
}

// parseTimestamp reads eventTimestamp: epoch milliseconds or seconds, as
// a JSON number or numeric string; absent or null is the zero time.
func parseTimestamp(raw json.RawMessage) (time.Time, error) {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return time.Time{}, nil
	}
	s = strings.Trim(s, `"`)
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 || math.IsInf(f, 0) || f > 1e15 {
		return time.Time{}, errors.New("eventTimestamp is not an epoch time")
	}
	if f >= millisThreshold {
		return time.UnixMilli(int64(f)), nil
	}
	return time.Unix(int64(f), 0), nil
}

// identifier returns s trimmed, or "" when it is too long or holds
// control characters (it is stored and logged).
func identifier(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > maxIdentifier || strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return ""
	}
	return s
}

// sameSCEPURL compares two SCEP URLs: scheme and host ignoring case, path
// exactly but for a trailing slash.
func sameSCEPURL(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	if err1 != nil || err2 != nil {
		return false
	}
	return strings.EqualFold(ua.Scheme, ub.Scheme) && strings.EqualFold(ua.Host, ub.Host) &&
		strings.TrimRight(ua.Path, "/") == strings.TrimRight(ub.Path, "/") && ua.RawQuery == ub.RawQuery
}
