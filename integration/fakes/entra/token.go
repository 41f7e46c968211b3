package entra

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

const assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// token serves POST /{tenant}/oauth2/v2.0/token.
func (f *Fake) token(w http.ResponseWriter, r *http.Request) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		aadError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
		return
	}
	if err := r.ParseForm(); err != nil {
		aadError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body is not a valid form.")
		return
	}
	form := r.PostForm
	tenant := r.PathValue("tenant")
	f.mu.Lock()
	knownTenant := f.tenants[strings.ToLower(tenant)]
	f.mu.Unlock()
	if !knownTenant {
		aadError(w, http.StatusBadRequest, "invalid_request", 90002, fmt.Sprintf("Tenant '%s' not found.", tenant))
		return
	}
	if g := form.Get("grant_type"); g != "client_credentials" {
		aadError(w, http.StatusBadRequest, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
		return
	}
	clientID := form.Get("client_id")
	if clientID == "" {
		aadError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'.")
		return
	}
	if status, code, num, msg := f.authenticate(clientID, form, f.TokenURL(tenant)); status != 0 {
		aadError(w, status, code, num, msg)
		return
	}
	scope := form.Get("scope")
	aud, ok := audienceOf(scope)
	if !ok || !strings.HasSuffix(scope, "/.default") {
		aadError(w, http.StatusBadRequest, "invalid_scope", 70011, "The provided value for the input parameter 'scope' is not valid.")
		return
	}
	tok, life := f.issue(aud)
	secs := int(life / time.Second)
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type":     "Bearer",
		"expires_in":     secs,
		"ext_expires_in": secs,
		"access_token":   tok,
	})
}

// authenticate checks the client's credential; a zero status means it
// is good.
func (f *Fake) authenticate(clientID string, form url.Values, tokenURL string) (status int, code string, num int, msg string) {
	f.mu.Lock()
	secret, hasSecret := f.secrets[clientID]
	cert, hasCert := f.certs[clientID]
	now := f.now()
	f.mu.Unlock()
	if !hasSecret && !hasCert {
		return http.StatusBadRequest, "unauthorized_client", 700016,
			fmt.Sprintf("Application with identifier '%s' was not found in the directory.", clientID)
	}
	if a := form.Get("client_assertion"); a != "" || form.Has("client_assertion_type") {
		if !hasCert {
			return http.StatusUnauthorized, "invalid_client", 700027, "Client assertion contains an invalid signature."
		}
		if form.Get("client_assertion_type") != assertionType {
			return http.StatusBadRequest, "invalid_request", 50027, "Invalid client_assertion_type."
		}
		if err := checkAssertion(a, clientID, tokenURL, cert, now); err != nil {
			return http.StatusUnauthorized, "invalid_client", 700027, "Client assertion failed: " + err.Error()
		}
		return 0, "", 0, ""
	}
	if !hasSecret || form.Get("client_secret") != secret {
		return http.StatusUnauthorized, "invalid_client", 7000215,
			"Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID."
	}
	return 0, "", 0, ""
}

// ErrorBody returns an AAD-shaped error body, for faults that imitate a
// specific Entra error.
func ErrorBody(code string, num int, msg string) string {
	b, _ := json.Marshal(map[string]any{
		"error":             code,
		"error_description": fmt.Sprintf("AADSTS%d: %s", num, msg),
		"error_codes":       []int{num},
		"timestamp":         time.Now().UTC().Format("2006-01-02 15:04:05Z"),
		"trace_id":          uuid(),
		"correlation_id":    uuid(),
	})
	return string(b)
}

func aadError(w http.ResponseWriter, status int, code string, num int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(ErrorBody(code, num, msg)))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func uuid() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
