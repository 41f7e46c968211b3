package intune

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// accessToken is a bearer token and when to stop using it.
type accessToken struct {
	value string
	// refreshAt is when callers stop taking it from the cache and fetch
	// a new one; expiresAt is when it stops working at all.
	refreshAt time.Time
	expiresAt time.Time
}

// String hides the value, so a token printed by mistake leaks nothing.
func (t accessToken) String() string { return "intune access token (redacted)" }

// GoString is String, for %#v.
func (t accessToken) GoString() string { return t.String() }

// maxRefreshMargin is how long before expiry a token is refreshed, at
// most: long enough that a call started with it does not outlive it.
const maxRefreshMargin = 5 * time.Minute

// tokenSource gets Entra client-credential tokens, one per scope.
type tokenSource struct {
	cfg     Config
	client  *http.Client
	metrics *metrics
	cache   sharedCache[accessToken]
}

// tokenURL is the v2.0 token endpoint of the tenant.
func (s *tokenSource) tokenURL() string {
	return strings.TrimRight(s.cfg.AuthorityURL, "/") + "/" + url.PathEscape(s.cfg.TenantID) + "/oauth2/v2.0/token"
}

// token returns a usable token for scope.
func (s *tokenSource) token(ctx context.Context, scope string) (accessToken, error) {
	return s.cache.get(ctx, scope, s.cfg.Timeout,
		func(t accessToken) bool { return s.cfg.Now().Before(t.refreshAt) },
		func(ctx context.Context, prev accessToken, had bool) (accessToken, error) {
			t, err := s.fetch(ctx, scope)
			s.metrics.tokenRefresh(s.audience(scope), err)
			if err != nil && had && s.cfg.Now().Before(prev.expiresAt) {
				// Entra is down but the old token still works: keep
				// using it rather than refuse every enrollment.
				return prev, nil
			}
			return t, err
		})
}

// invalidate drops a token the service refused (401), unless it has
// been replaced meanwhile.
func (s *tokenSource) invalidate(scope string, t accessToken) {
	s.cache.drop(scope, func(c accessToken) bool { return c.value == t.value })
}

func (s *tokenSource) fetch(ctx context.Context, scope string) (accessToken, error) {
	form := url.Values{
		"client_id":  {s.cfg.ClientID},
		"scope":      {scope},
		"grant_type": {"client_credentials"},
	}
	if s.cfg.ClientSecret != "" {
		form.Set("client_secret", s.cfg.ClientSecret)
	} else {
		a, err := clientAssertion(s.cfg, s.tokenURL())
		if err != nil {
			return accessToken{}, err
		}
		form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		form.Set("client_assertion", a)
	}
	aud := s.audience(scope)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.tokenURL(), strings.NewReader(form.Encode()))
	if err != nil {
		return accessToken{}, fmt.Errorf("intune: token for %s: %w", aud, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", s.cfg.CallerInfo)
	issued := s.cfg.Now()
	resp, err := s.client.Do(req)
	if err != nil {
		return accessToken{}, fmt.Errorf("intune: token for %s: %w", aud, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return accessToken{}, fmt.Errorf("intune: token for %s: reading response: %w", aud, err)
	}
	if len(body) > maxResponse {
		return accessToken{}, fmt.Errorf("intune: token for %s: response larger than %d bytes", aud, maxResponse)
	}
	var tr struct {
		AccessToken string          `json:"access_token"`
		TokenType   string          `json:"token_type"`
		ExpiresIn   json.RawMessage `json:"expires_in"`
		Error       string          `json:"error"`
		ErrorCodes  []int64         `json:"error_codes"`
		TraceID     string          `json:"trace_id"`
	}
	jerr := json.Unmarshal(body, &tr)
	if resp.StatusCode != http.StatusOK {
		if jerr == nil && tr.Error != "" {
			return accessToken{}, fmt.Errorf("intune: token for %s: HTTP %d: %s%s (trace_id %s)",
				aud, resp.StatusCode, safeCode(tr.Error), aadstsCodes(tr.ErrorCodes), safeCode(tr.TraceID))
		}
		return accessToken{}, fmt.Errorf("intune: token for %s: HTTP %d", aud, resp.StatusCode)
	}
	if jerr != nil {
		return accessToken{}, fmt.Errorf("intune: token for %s: response is not JSON", aud)
	}
	if tr.AccessToken == "" {
		return accessToken{}, fmt.Errorf("intune: token for %s: response has no access_token", aud)
	}
	if tr.TokenType != "" && !strings.EqualFold(tr.TokenType, "Bearer") {
		return accessToken{}, fmt.Errorf("intune: token for %s: token_type %q is not Bearer", aud, safeCode(tr.TokenType))
	}
	life := time.Duration(parseSeconds(tr.ExpiresIn)) * time.Second
	margin := min(maxRefreshMargin, life/2)
	// Lifetimes count from when the request was sent, not answered, so
	// a slow Entra cannot make us keep a token past its expiry.
	return accessToken{value: tr.AccessToken, refreshAt: issued.Add(life - margin), expiresAt: issued.Add(life)}, nil
}

// parseSeconds reads expires_in, a number in v2.0 and a string in v1.0
// answers; anything else is 0, i.e. a token used once and not cached.
func parseSeconds(raw json.RawMessage) int64 {
	s := strings.Trim(string(raw), `"`)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > 1<<31 {
		return 0
	}
	return n
}

func aadstsCodes(codes []int64) string {
	if len(codes) == 0 {
		return ""
	}
	parts := make([]string, 0, len(codes))
	for _, c := range codes {
		parts = append(parts, "AADSTS"+strconv.FormatInt(c, 10))
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// audience names a scope's audience for errors and metrics.
func (s *tokenSource) audience(scope string) string {
	if scope == s.cfg.GraphScope {
		return "graph"
	}
	return "intune"
}
