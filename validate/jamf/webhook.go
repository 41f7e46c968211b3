package jamf

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"github.com/certgate/certgate/store"
	"github.com/certgate/certgate/validate"
)

// Webhook answers Jamf Pro's SCEPChallenge webhook with a fresh one-time
// challenge (§7.5). Mount one per profile, e.g. at
// /jamf/<profile>/scep-challenge. It is safe for concurrent use.
type Webhook struct {
	cfg WebhookConfig
	// user and pass are SHA-256 digests of the credentials: comparing
	// fixed-length digests in constant time hides their length too.
	user, pass [sha256.Size]byte
}

var _ http.Handler = (*Webhook)(nil)

// NewWebhook checks cfg and returns the handler.
func NewWebhook(cfg WebhookConfig) (*Webhook, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	return &Webhook{cfg: cfg, user: sha256.Sum256([]byte(cfg.Username)), pass: sha256.Sum256([]byte(cfg.Password))}, nil
}

// challengeAttempts bounds retries after a hash collision in the store,
// which for 128 random bits means a broken random source or store.
const challengeAttempts = 3

// ServeHTTP implements http.Handler. Answers: 200 text/plain with the
// challenge; 401 for missing or wrong credentials; 405 for a method other
// than POST; 413 for a body over the cap; 415 for an XML body; 400 for
// anything that is not a usable SCEPChallenge event; 503 when the store
// fails. Error bodies are fixed texts, never an error's message.
func (h *Webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	log := zerolog.Ctx(r.Context()).With().Str("component", "jamf_webhook").Str("profile", h.cfg.Profile).Logger()
	result := resultError
	defer func() { h.cfg.Metrics.observe(opWebhook, result, start) }()
	fail := func(status int, res, msg, why string) {
		result = res
		log.Warn().Int("status", status).Str("reason", why).Str("remote_addr", r.RemoteAddr).Msg("jamf: SCEPChallenge webhook refused")
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, msg+"\n")
	}

	if !h.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="certgate jamf", charset="UTF-8"`)
		fail(http.StatusUnauthorized, resultUnauthorized, "unauthorized", "missing or wrong credentials")
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		fail(http.StatusMethodNotAllowed, resultBadRequest, "method not allowed", "method is not POST")
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/xml" || mt == "text/xml" {
		fail(http.StatusUnsupportedMediaType, resultBadRequest, "send the webhook as JSON", "XML webhook body")
		return
	}
	if r.ContentLength > h.cfg.MaxBody {
		fail(http.StatusRequestEntityTooLarge, resultTooLarge, "request body too large", "body over the cap")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxBody))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		fail(http.StatusRequestEntityTooLarge, resultTooLarge, "request body too large", "body over the cap")
		return
	case err != nil:
		fail(http.StatusBadRequest, resultBadRequest, "unreadable body", "body could not be read")
		return
	}
	ev, err := parseSCEPChallenge(body)
	if err != nil {
		fail(http.StatusBadRequest, resultBadRequest, "not a usable SCEPChallenge event", err.Error())
		return
	}
	deviceID, why := h.check(ev)
	if why != "" {
		fail(http.StatusBadRequest, resultBadRequest, "not a usable SCEPChallenge event", why)
		return
	}

	now := h.cfg.Now()
	var challenge string
	for range challengeAttempts {
		challenge, err = newChallenge()
		if err != nil {
			break
		}
		err = h.cfg.Store.PutChallenge(r.Context(), &store.Challenge{
			Hash:      validate.ChallengeHash(challenge),
			Profile:   h.cfg.Profile,
			DeviceID:  deviceID,
			CreatedAt: now,
			ExpiresAt: now.Add(h.cfg.TTL),
		})
		if !errors.Is(err, store.ErrConflict) {
			break
		}
	}
	if err != nil {
		log.Error().Err(err).Msg("jamf: could not store a SCEPChallenge challenge")
		fail(http.StatusServiceUnavailable, resultError, "challenge service unavailable", "store failed")
		return
	}
	result = resultIssued
	log.Info().Str("webhook_id", ev.WebhookID).Str("bound_to", deviceID).Time("expires_at", now.Add(h.cfg.TTL)).
		Msg("jamf: SCEPChallenge challenge issued")
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, challenge)
}

// authorized checks HTTP Basic credentials in constant time, both parts
// always compared.
func (h *Webhook) authorized(r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	u, p := sha256.Sum256([]byte(user)), sha256.Sum256([]byte(pass))
	match := subtle.ConstantTimeCompare(u[:], h.user[:]) & subtle.ConstantTimeCompare(p[:], h.pass[:])
	return ok && match == 1
}

// check applies the configured URL, age and binding rules to an event
// and returns the DeviceID to bind, or why the event is refused.
func (h *Webhook) check(ev scepChallengeEvent) (deviceID, why string) {
	if h.cfg.SCEPServerURL != "" && !sameSCEPURL(ev.SCEPServerURL, h.cfg.SCEPServerURL) {
		return "", "event is for another SCEP server URL"
	}
	if h.cfg.MaxEventAge > 0 {
		if ev.Time.IsZero() {
			return "", "event has no eventTimestamp"
		}
		if d := h.cfg.Now().Sub(ev.Time).Abs(); d > h.cfg.MaxEventAge {
			return "", "eventTimestamp is too far from now"
		}
	}
	switch h.cfg.Bind {
	case BindPayloadIdentifier:
		if ev.PayloadIdentifier == "" {
			return "", "event has no payloadIdentifier"
		}
		return ev.PayloadIdentifier, ""
	case BindDeviceUDID:
		if ev.DeviceUDID == "" {
			return "", "event has no device UDID"
		}
		return ev.DeviceUDID, ""
	}
	return "", ""
}

// newChallenge returns 128 random bits in hex.
func newChallenge() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}
