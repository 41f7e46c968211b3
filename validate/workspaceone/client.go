package workspaceone

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
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
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return answer{}, ctx.Err()
	}
	defer func() { <-c.sem }()
	resp, err := c.client.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return answer{}, fmt.Errorf("reading response: %w", err)
	}
	if len(body) > maxResponse {
		return answer{}, fmt.Errorf("response larger than %d bytes", maxResponse)
	}
	return answer{status: resp.StatusCode, body: body}, nil
}
