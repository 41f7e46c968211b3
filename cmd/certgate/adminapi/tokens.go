package adminapi

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"

	"github.com/certgate/certgate/store"
)

// tokenPrefix marks certgate tokens, so secret scanners can find leaked
// ones.
const tokenPrefix = "cgt_"

// TokenView is a token as listed: never its secret or hash.
type TokenView struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Role      string `json:"role"`
	CreatedAt string `json:"created_at"`
}

// NewToken makes a token secret and its stored form.
func NewToken(name string, role Role) (secret string, t *store.APIToken, err error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", nil, err
	}
	id := make([]byte, 8)
	if _, err := rand.Read(id); err != nil {
		return "", nil, err
	}
	secret = tokenPrefix + hex.EncodeToString(raw)
	return secret, &store.APIToken{ID: hex.EncodeToString(id), Name: name, Role: role.String(), Hash: TokenHash(secret)}, nil
}

func (s *Server) newToken(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Name string `json:"name"`
		Role string `json:"role"`
	}
	if err := readJSON(w, r, &body); err != nil {
		return err
	}
	if body.Name == "" || len(body.Name) > 128 {
		return errorf(http.StatusBadRequest, "name is required (at most 128 characters)")
	}
	role, err := ParseRole(body.Role)
	if err != nil {
		return errorf(http.StatusBadRequest, err.Error())
	}
	secret, t, err := NewToken(body.Name, role)
	if err != nil {
		return err
	}
	t.CreatedAt = s.now()
	if err := s.st.PutToken(r.Context(), t); err != nil {
		return storeError("token", err)
	}
	logAudit(r, "new token", t.ID+" ("+t.Name+", "+t.Role+")")
	writeJSON(w, http.StatusCreated, map[string]string{"id": t.ID, "name": t.Name, "role": t.Role, "token": secret})
	return nil
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) error {
	ts, err := s.st.ListTokens(r.Context())
	if err != nil {
		return storeError("tokens", err)
	}
	out := make([]TokenView, 0, len(ts))
	for _, t := range ts {
		out = append(out, TokenView{ID: t.ID, Name: t.Name, Role: t.Role, CreatedAt: t.CreatedAt.UTC().Format("2006-01-02T15:04:05Z")})
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": out})
	return nil
}

func (s *Server) deleteToken(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := s.st.DeleteToken(r.Context(), id); err != nil {
		return storeError("token "+id, err)
	}
	logAudit(r, "delete token", id)
	w.WriteHeader(http.StatusNoContent)
	return nil
}
