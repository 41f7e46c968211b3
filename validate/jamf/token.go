package jamf

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Token endpoints (§7.2). Which OAuth path real servers serve is
// unconfirmed (§9.9): the documented one is tried first.
var oauthPaths = [2]string{"/api/oauth/token", "/api/v1/oauth/token"}

const userTokenPath = "/api/v1/auth/token"

// maxRefreshMargin is how long before expiry a token is refreshed, at
// most (half its life for short-lived tokens).
const maxRefreshMargin = time.Minute

// bearer is a token and when to stop using it.
type bearer struct {
	value string
	// refreshAt is when callers stop taking it from the cache; expiresAt
	// is when it stops working.
	refreshAt time.Time
	expiresAt time.Time
}

// String hides the value, so a token printed by mistake leaks nothing.
func (t bearer) String() string { return "jamf bearer token (redacted)" }

// GoString is String, for %#v.
func (t bearer) GoString() string { return t.String() }

// tokenSource gets and caches one bearer token, fetching it at most once
// at a time: when it expires under load, one request goes to Jamf, not
// one per lookup.
type tokenSource struct {
	cfg     CheckerConfig
	api     *apiClient
	metrics *Metrics

	mu      sync.Mutex
	cur     bearer
	have    bool
	flight  *tokenFlight
	waiters int // callers waiting on flight, for tests
	// oauthPath indexes oauthPaths: the one that last answered.
	oauthPath int
}

type tokenFlight struct {
	done chan struct{}
	tok  bearer
	err  error
}

// token returns a usable token. Its errors are not prefixed: the lookup
// that needed the token wraps them. The fetch runs detached from ctx (bounded
// by the configured timeout), so a caller giving up does not fail the
// others waiting on it.
func (s *tokenSource) token(ctx context.Context) (bearer, error) {
	s.mu.Lock()
	if s.have && s.cfg.Now().Before(s.cur.refreshAt) {
		t := s.cur
		s.mu.Unlock()
		return t, nil
	}
	f := s.flight
	if f == nil {
		f = &tokenFlight{done: make(chan struct{}), err: errors.New("token: fetch aborted")}
		s.flight = f
		prev, had := s.cur, s.have
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.Timeout)
		go s.run(fctx, cancel, f, prev, had)
	}
	s.waiters++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.waiters--
		s.mu.Unlock()
	}()
	select {
	case <-f.done:
		return f.tok, f.err
	case <-ctx.Done():
		return bearer{}, fmt.Errorf("token: %w", ctx.Err())
	}
}

// run fetches a token and publishes it. The result is stored before the
// flight ends, so no caller starts a second fetch just after this one.
func (s *tokenSource) run(ctx context.Context, cancel context.CancelFunc, f *tokenFlight, prev bearer, had bool) {
	defer func() {
		_ = recover() // f.err stays "fetch aborted"
		cancel()
		s.mu.Lock()
		if f.err == nil {
			s.cur, s.have = f.tok, true
		}
		s.flight = nil
		s.mu.Unlock()
		close(f.done)
	}()
	tok, err := s.fetch(ctx)
	s.metrics.tokenRefresh(err)
	if err != nil && had && s.cfg.Now().Before(prev.expiresAt) {
		// Jamf's token endpoint failed but the old token still works:
		// keep using it rather than refuse every lookup.
		tok, err = prev, nil
	}
	f.tok, f.err = tok, err
}

// invalidate drops a token Jamf refused, unless it was replaced
// meanwhile.
func (s *tokenSource) invalidate(t bearer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.have && s.cur.value == t.value {
		s.have = false
	}
}

func (s *tokenSource) fetch(ctx context.Context) (bearer, error) {
	if s.cfg.ClientID == "" {
		return s.post(ctx, userTokenPath, "user token")
	}
	s.mu.Lock()
	first := s.oauthPath
	s.mu.Unlock()
	for i := range 2 {
		idx := (first + i) % 2
		tok, err := s.post(ctx, oauthPaths[idx], "token")
		if errors.Is(err, errNoEndpoint) && i == 0 {
			continue // this server has only the other path
		}
		if err == nil {
			s.mu.Lock()
			s.oauthPath = idx
			s.mu.Unlock()
		}
		return tok, err
	}
	return bearer{}, errors.New("token: unreachable") // the loop always returns
}

// errNoEndpoint marks a token endpoint that does not exist (404 or 405).
var errNoEndpoint = errors.New("no such token endpoint")

// post requests a token from path: client credentials in a form, or a
// user's credentials with HTTP Basic.
func (s *tokenSource) post(ctx context.Context, path, what string) (bearer, error) {
	var body string
	if s.cfg.ClientID != "" {
		body = url.Values{
			"client_id":     {s.cfg.ClientID},
			"client_secret": {s.cfg.ClientSecret},
			"grant_type":    {"client_credentials"},
		}.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.api.base+path, strings.NewReader(body))
	if err != nil {
		return bearer{}, fmt.Errorf("%s: %w", what, err)
	}
	if s.cfg.ClientID != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req.SetBasicAuth(s.cfg.Username, s.cfg.Password)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	issued := s.cfg.Now()
	a, err := s.api.send(req)
	if err != nil {
		return bearer{}, fmt.Errorf("%s: %w", what, err)
	}
	if a.status == http.StatusNotFound || a.status == http.StatusMethodNotAllowed {
		return bearer{}, fmt.Errorf("%s: HTTP %d from %s: %w", what, a.status, path, errNoEndpoint)
	}
	var tr struct {
		AccessToken string          `json:"access_token"`
		Token       string          `json:"token"`
		TokenType   string          `json:"token_type"`
		ExpiresIn   json.RawMessage `json:"expires_in"`
		Expires     string          `json:"expires"`
		Error       string          `json:"error"`
	}
	jerr := json.Unmarshal(a.body, &tr)
	if a.status != http.StatusOK {
		if jerr == nil && tr.Error != "" {
			return bearer{}, fmt.Errorf("%s: HTTP %d: %s", what, a.status, safeCode(tr.Error))
		}
		if code := apiErrorCode(a.body); code != "" {
			return bearer{}, fmt.Errorf("%s: HTTP %d: %s", what, a.status, code)
		}
		return bearer{}, fmt.Errorf("%s: HTTP %d", what, a.status)
	}
	if jerr != nil {
		return bearer{}, fmt.Errorf("%s: response is not JSON", what)
	}
	value := tr.AccessToken
	if value == "" {
		value = tr.Token
	}
	if value == "" {
		return bearer{}, fmt.Errorf("%s: response has no token", what)
	}
	if tr.TokenType != "" && !strings.EqualFold(tr.TokenType, "Bearer") {
		return bearer{}, fmt.Errorf("%s: token_type %q is not Bearer", what, safeCode(tr.TokenType))
	}
	// Lifetimes count from when the request was sent, so a slow answer
	// cannot make us keep a token past its expiry.
	expires := issued
	if n, ok := parseSeconds(tr.ExpiresIn); ok {
		expires = issued.Add(time.Duration(n) * time.Second)
	} else if t, err := time.Parse(time.RFC3339Nano, tr.Expires); err == nil {
		expires = t
	}
	// A token without a usable expiry is used by the calls waiting for
	// it and not cached.
	life := max(expires.Sub(issued), 0)
	return bearer{value: value, refreshAt: expires.Add(-min(maxRefreshMargin, life/2)), expiresAt: expires}, nil
}

// parseSeconds reads expires_in as a number or a numeric string.
func parseSeconds(raw json.RawMessage) (int64, bool) {
	s := strings.Trim(string(raw), `"`)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > 1<<31 {
		return 0, false
	}
	return n, true
}

// apiErrorCode returns the first error code of a Jamf Pro API error body
// ({"httpStatus","errors":[{"code",...}]}), or "".
func apiErrorCode(body []byte) string {
	var e struct {
		Errors []struct {
			Code string `json:"code"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &e) != nil || len(e.Errors) == 0 || e.Errors[0].Code == "" {
		return ""
	}
	return safeCode(e.Errors[0].Code)
}
