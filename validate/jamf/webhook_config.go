package jamf

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/certgate/certgate/store"
)

// Defaults of WebhookConfig.
const (
	// DefaultChallengeTTL is how long a minted challenge stays usable: a
	// device normally enrolls within seconds of receiving its profile,
	// but one that is asleep or offline may take a while. NDES uses the
	// same hour.
	DefaultChallengeTTL = time.Hour
	// DefaultMaxBody caps the webhook body; a SCEPChallenge event is a few
	// hundred bytes.
	DefaultMaxBody = 64 << 10
)

// ChallengeStore is the part of the store the webhook needs
// (store.Challenges implements it).
type ChallengeStore interface {
	// PutChallenge stores c; store.ErrConflict when (Profile, Hash)
	// exists.
	PutChallenge(ctx context.Context, c *store.Challenge) error
}

// BindTo says what a minted challenge is bound to (see the package
// documentation).
type BindTo int

// Bindings. The zero value binds to the payload identifier, as the
// contract says.
const (
	// BindPayloadIdentifier stores event.payloadIdentifier as the
	// challenge's DeviceID; an event without one is refused.
	BindPayloadIdentifier BindTo = iota
	// BindDeviceUDID stores a device UDID from the event (event.udid,
	// event.device.udid or event.device.uuid) as DeviceID; an event
	// without one is refused.
	BindDeviceUDID
	// BindNone binds the challenge to nothing but the profile.
	BindNone
)

// String names the binding.
func (b BindTo) String() string {
	switch b {
	case BindPayloadIdentifier:
		return "payloadIdentifier"
	case BindDeviceUDID:
		return "deviceUDID"
	case BindNone:
		return "none"
	}
	return fmt.Sprintf("BindTo(%d)", int(b))
}

// WebhookConfig configures a Webhook. Zero values take the documented
// defaults; Profile, Username, Password and Store are required.
type WebhookConfig struct {
	// Profile is the certgate profile the challenges are for.
	Profile string
	// Username and Password are the HTTP Basic credentials configured
	// for the webhook in Jamf Pro.
	Username string
	Password string
	// Store keeps the minted challenges (by hash).
	Store ChallengeStore

	// TTL is how long a challenge is valid; zero means
	// DefaultChallengeTTL.
	TTL time.Duration
	// MaxBody caps the request body; zero means DefaultMaxBody.
	MaxBody int64
	// Bind is what a challenge is bound to; zero means
	// BindPayloadIdentifier.
	Bind BindTo
	// SCEPServerURL, when set, must equal the event's scepServerUrl
	// (scheme and host ignoring case, trailing slash ignored), so a
	// profile pointing at another SCEP server gets no challenge of this
	// one. Zero checks nothing.
	SCEPServerURL string
	// MaxEventAge, when set, refuses events whose eventTimestamp is
	// missing or further than this from now, either way. Zero checks
	// nothing: Jamf's retry behaviour is unknown (§9.8).
	MaxEventAge time.Duration

	// Metrics, when set, records webhook calls.
	Metrics *Metrics
	// Now is the clock for challenge lifetimes; nil means time.Now.
	Now func() time.Time
}

// Validate reports the first configuration error, naming the field.
func (c WebhookConfig) Validate() error {
	switch {
	case c.Profile == "":
		return errors.New("jamf: webhook config: profile: required")
	case c.Username == "" || c.Password == "":
		return errors.New("jamf: webhook config: username and password: both are required")
	case c.Store == nil:
		return errors.New("jamf: webhook config: store: required")
	case c.TTL < 0:
		return errors.New("jamf: webhook config: ttl: must not be negative")
	case c.MaxBody < 0:
		return errors.New("jamf: webhook config: maxBody: must not be negative")
	case c.Bind < BindPayloadIdentifier || c.Bind > BindNone:
		return errors.New("jamf: webhook config: bind: unknown binding")
	case c.MaxEventAge < 0:
		return errors.New("jamf: webhook config: maxEventAge: must not be negative")
	}
	if c.SCEPServerURL != "" {
		if u, err := url.Parse(c.SCEPServerURL); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			return errors.New("jamf: webhook config: scepServerURL: must be an absolute http(s) URL")
		}
	}
	return nil
}

// String describes c without its credentials.
func (c WebhookConfig) String() string {
	return fmt.Sprintf("jamf.WebhookConfig{Profile: %q, credentials: (redacted), Bind: %s}", c.Profile, c.Bind)
}

// GoString is String, for %#v.
func (c WebhookConfig) GoString() string { return c.String() }

func (c WebhookConfig) withDefaults() WebhookConfig {
	if c.TTL == 0 {
		c.TTL = DefaultChallengeTTL
	}
	if c.MaxBody == 0 {
		c.MaxBody = DefaultMaxBody
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}
