package jamf

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"mime"
	"net/http"
	"strings"
	"time"
)

// oauthToken serves POST /api/oauth/token and /api/v1/oauth/token.
func (f *Fake) oauthToken(w http.ResponseWriter, r *http.Request) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		oauthError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	if r.PostForm.Get("grant_type") != "client_credentials" {
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type")
		return
	}
	id, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	f.mu.Lock()
	want, ok := f.clients[id]
	f.mu.Unlock()
	if id == "" || !ok || secret != want {
		oauthError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	tok, life := f.issue()
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": tok,
		"scope":        "api-role:1",
		"token_type":   "Bearer",
		"expires_in":   int(life / time.Second),
	})
}

// userToken serves POST /api/v1/auth/token (HTTP Basic).
func (f *Fake) userToken(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	f.mu.Lock()
	want, known := f.accounts[user]
	oauthShape := f.userLike
	f.mu.Unlock()
	if !ok || !known || pass != want {
		w.Header().Set("WWW-Authenticate", `Basic realm="Jamf Pro"`)
		apiError(w, http.StatusUnauthorized, "INVALID_CREDENTIALS", "", "Unauthorized")
		return
	}
	tok, life := f.issue()
	if oauthShape {
		writeJSON(w, http.StatusOK, map[string]any{
			"access_token": tok, "token_type": "Bearer", "expires_in": int(life / time.Second),
		})
		return
	}
	f.mu.Lock()
	expires := f.tokens[tok]
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"token":   tok,
		"expires": expires.UTC().Format("2006-01-02T15:04:05.000Z"),
	})
}

// issue mints a token valid for the configured lifetime.
func (f *Fake) issue() (string, time.Duration) {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	tok := "fake-jamf-" + hex.EncodeToString(b)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens[tok] = f.now().Add(f.lifetime)
	f.issued++
	return tok, f.lifetime
}

// authorized reports whether r carries a bearer token the fake issued
// that has not expired or been revoked.
func (f *Fake) authorized(r *http.Request) bool {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	exp, ok := f.tokens[tok]
	return ok && f.now().Before(exp)
}

// ErrorBody returns a Jamf Pro API error body, for faults that imitate a
// specific Jamf error.
func ErrorBody(status int, code, field, description string) string {
	e := map[string]any{"code": code, "description": description, "id": "0"}
	if field != "" {
		e["field"] = field
	}
	b, _ := json.Marshal(map[string]any{"httpStatus": status, "errors": []any{e}})
	return string(b)
}

func apiError(w http.ResponseWriter, status int, code, field, description string) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(ErrorBody(status, code, field, description)))
}

func oauthError(w http.ResponseWriter, status int, code string) {
	writeJSON(w, status, map[string]any{"error": code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
