package workspaceone

import (
	"context"
	"net/http"
	"net/url"

	"github.com/certgate/certgate/validate/internal/mdmhttp"
)

// maxResponse caps the bytes read from an answer: a device record is a
// few kilobytes.
const maxResponse = 1 << 20

// answer is an API response of any status.
type answer struct {
	status int
	body   []byte
}

// get sends the lookup of key while holding a concurrency slot, and
// reads the whole answer before giving the slot back. It returns an
// error only when no answer arrived.
func (c *Checker) get(ctx context.Context, key string) (answer, error) {
	q := url.Values{"searchby": {c.searchBy}, "id": {key}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.lookupURL+"?"+q.Encode(), nil)
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Authorization", c.auth)
	req.Header.Set("aw-tenant-code", c.cfg.TenantCode)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	status, body, err := mdmhttp.Do(c.client, c.sem, req, maxResponse)
	if err != nil {
		return answer{}, err
	}
	return answer{status: status, body: body}, nil
}
