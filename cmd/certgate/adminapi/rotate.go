package adminapi

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/certgate/certgate/validate"
)

// Grace periods of a static challenge rotation.
const (
	defaultRotationGrace = 24 * time.Hour
	maxRotationGrace     = 90 * 24 * time.Hour
)

// rotateStatic makes a new static challenge for a profile; the previous
// ones (the config's included) stay valid for the grace period, so devices
// holding them can still enroll while the MDM rolls the new one out.
func (s *Server) rotateStatic(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	info, ok := s.profiles[name]
	if !ok {
		return errorf(http.StatusNotFound, "profile "+name+" not found")
	}
	if !info.Static {
		return errorf(http.StatusConflict, "profile "+name+" does not use a static challenge")
	}
	var body struct {
		Grace string `json:"grace"`
	}
	if err := readJSON(w, r, &body); err != nil {
		return err
	}
	grace := defaultRotationGrace
	if body.Grace != "" {
		d, err := time.ParseDuration(body.Grace)
		if err != nil || d < 0 || d > maxRotationGrace {
			return errorf(http.StatusBadRequest, "grace must be a duration from 0s to 2160h")
		}
		grace = d
	}
	raw := make([]byte, 16)
	if _, err := rand.Read(raw); err != nil {
		return err
	}
	secret := hex.EncodeToString(raw)
	now := s.now()
	until := now.Add(grace)
	if err := s.st.RotateStaticSecret(r.Context(), name, validate.ChallengeHash(secret), info.StaticHashes, until, now); err != nil {
		return storeError("static challenge", err)
	}
	logAudit(r, "rotate static challenge", name)
	writeJSON(w, http.StatusOK, map[string]any{"challenge": secret, "profile": name, "previous_valid_until": until})
	return nil
}
