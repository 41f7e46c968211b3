package jamf

import (
	"context"
	"net/http"
	"strings"

	"github.com/certgate/certgate/validate/internal/mdmhttp"
)

// maxResponse caps the bytes read from any answer: a page of 2000
// records with two sections stays well below it.
const maxResponse = 16 << 20

// apiClient sends requests to one Jamf Pro server, never more than
// cap(sem) at once.
type apiClient struct {
	base   string
	client *http.Client
	sem    chan struct{}
	tokens *tokenSource
}

// answer is a Jamf response of any status.
type answer struct {
	status int
	body   []byte
}

func (a answer) ok() bool { return a.status >= 200 && a.status < 300 }

// send does req while holding a concurrency slot, and reads the whole
// answer before giving the slot back. It returns an error only when no
// answer arrived.
func (c *apiClient) send(req *http.Request) (answer, error) {
	status, body, err := mdmhttp.Do(c.client, c.sem, req, maxResponse)
	if err != nil {
		return answer{}, err
	}
	return answer{status: status, body: body}, nil
}

// get sends an authorised GET of pathQuery (below the base URL). A 401
// drops the token and the request is sent once more with a new one, as
// Jamf may invalidate tokens before their announced expiry.
func (c *apiClient) get(ctx context.Context, pathQuery string) (answer, error) {
	var a answer
	for attempt := range 2 {
		tok, err := c.tokens.token(ctx)
		if err != nil {
			return answer{}, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+pathQuery, nil)
		if err != nil {
			return answer{}, err
		}
		req.Header.Set("Authorization", "Bearer "+tok.value)
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", userAgent)
		if a, err = c.send(req); err != nil {
			return answer{}, err
		}
		if a.status != http.StatusUnauthorized || attempt == 1 {
			break
		}
		c.tokens.invalidate(tok)
	}
	return a, nil
}

// userAgent identifies certgate to Jamf.
const userAgent = "certgate"

// noRedirect refuses redirects: none of these APIs redirects, and
// following one would send a bearer token's request elsewhere.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// safeCode returns s when it looks like an error code (letters, digits,
// _ - . :, at most 64 bytes), so that a hostile or broken server cannot
// put arbitrary text into our errors and logs.
func safeCode(s string) string {
	if s == "" || len(s) > 64 || strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_-.:", r))
	}) >= 0 {
		return "unrecognised code"
	}
	return s
}
