// Package mdmhttp holds what the MDM API clients (Jamf Pro, Workspace ONE)
// share: requests under a cap on connections in flight, whose answers are
// read whole, and bounded, before the slot is given back.
package mdmhttp

import (
	"fmt"
	"io"
	"net/http"
)

// Do sends req with hc while holding a slot of sem (a buffered channel
// whose capacity is the cap), and reads the whole body, at most max bytes,
// before giving the slot back: an MDM that limits concurrent connections
// counts a connection until its answer is read. It returns an error only
// when no complete answer arrived; any HTTP status is the caller's to judge.
func Do(hc *http.Client, sem chan struct{}, req *http.Request, max int64) (status int, body []byte, err error) {
	ctx := req.Context()
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		return 0, nil, ctx.Err()
	}
	defer func() { <-sem }()
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return 0, nil, fmt.Errorf("reading response: %w", err)
	}
	if int64(len(body)) > max {
		return 0, nil, fmt.Errorf("response larger than %d bytes", max)
	}
	return resp.StatusCode, body, nil
}
