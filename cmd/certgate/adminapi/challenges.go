package adminapi

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"time"

	"github.com/certgate/certgate/store"
	"github.com/certgate/certgate/validate"
)

// maxChallengeTTL bounds a one-time challenge's life.
const maxChallengeTTL = 7 * 24 * time.Hour

// newChallenge makes a one-time challenge for a profile that accepts them
// and returns its secret, once; the store keeps only its hash.
func (s *Server) newChallenge(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	info, ok := s.profiles[name]
	if !ok {
		return errorf(http.StatusNotFound, "profile "+name+" not found")
	}
	if !info.OneTime {
		return errorf(http.StatusConflict, "profile "+name+" does not accept one-time challenges (set validator.one_time: true)")
	}
	var body struct {
		TTL      string `json:"ttl"`
		Subject  string `json:"subject"`
		DeviceID string `json:"device_id"`
	}
	if err := readJSON(w, r, &body); err != nil {
		return err
	}
	ttl := info.OneTimeTTL
	if body.TTL != "" {
		d, err := time.ParseDuration(body.TTL)
		if err != nil || d < time.Second || d > maxChallengeTTL {
			return errorf(http.StatusBadRequest, "ttl must be a duration from 1s to 168h")
		}
		ttl = d
	}
	raw := make([]byte, 16)
	if _, err := rand.Read(raw); err != nil {
		return err
	}
	secret := hex.EncodeToString(raw)
	now := s.now()
	c := &store.Challenge{
		Hash: validate.ChallengeHash(secret), Profile: name, Subject: body.Subject, DeviceID: body.DeviceID,
		CreatedAt: now, ExpiresAt: now.Add(ttl),
	}
	if err := s.st.PutChallenge(r.Context(), c); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return &apiError{status: http.StatusInternalServerError, msg: "internal error", err: err}
		}
		return storeError("challenge", err)
	}
	logAudit(r, "new one-time challenge", name)
	writeJSON(w, http.StatusCreated, map[string]any{
		"challenge": secret, "profile": name, "expires_at": c.ExpiresAt,
		"subject": body.Subject, "device_id": body.DeviceID,
	})
	return nil
}
