package intune

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// maxResponse caps the bytes read from any answer; real ones are tiny.
const maxResponse = 1 << 20

// API versions, sent as the api-version header (not a query parameter).
const (
	scepAPIVersion = "2018-02-20"
	pkiAPIVersion  = "5019-05-05" // sic: 5019, as the reference library says
)

// apiResponse is an Intune answer of any status.
type apiResponse struct {
	status int
	body   []byte
	// requestID is the client-request-id sent, for error messages.
	requestID string
	// retryAfter is ", retry after Ns" from a Graph answer, or "".
	retryAfter string
}

// post sends body as JSON to suffix under service's discovered base
// (INTEGRATIONS.md §3.1, §3.2). It returns an error only when no answer
// arrived; the caller interprets the status. It never retries.
func (v *Validator) post(ctx context.Context, op, service, apiVersion, suffix string, body any) (*apiResponse, error) {
	base, err := v.serviceURI(ctx, service)
	if err != nil {
		return nil, err
	}
	tok, err := v.tokens.token(ctx, v.cfg.IntuneScope)
	if err != nil {
		return nil, err
	}
	payload, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("intune: %s: %w", op, err)
	}
	reqID := newRequestID()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(base, "/")+"/"+suffix, bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("intune: %s: %w", op, err)
	}
	req.Header.Set("Authorization", "Bearer "+tok.value)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("client-request-id", reqID)
	req.Header.Set("api-version", apiVersion)
	// The Java reference library sends the provider name in a header
	// literally named "UserAgent"; send it and the standard one.
	req.Header.Set("UserAgent", v.cfg.CallerInfo)
	req.Header.Set("User-Agent", v.cfg.CallerInfo)
	resp, err := v.client.Do(req)
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			v.forgetService(service, base)
		}
		return nil, fmt.Errorf("intune: %s: %w (client-request-id %s)", op, err, reqID)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		v.forgetService(service, base)
		return nil, fmt.Errorf("intune: %s: reading response: %w (client-request-id %s)", op, err, reqID)
	}
	if len(data) > maxResponse {
		return nil, fmt.Errorf("intune: %s: response larger than %d bytes (client-request-id %s)", op, maxResponse, reqID)
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		v.tokens.invalidate(v.cfg.IntuneScope, tok)
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode >= 500:
		// The service may have moved (C# reference: any failure clears
		// the map); rediscovery costs one Graph call.
		v.forgetService(service, base)
	}
	return &apiResponse{status: resp.StatusCode, body: data, requestID: reqID}, nil
}

// result is the {code, errorDescription} body of ScepActions answers.
type result struct {
	Code             *string `json:"code"`
	ErrorDescription *string `json:"errorDescription"`
}

// parseResult reads a ScepActions answer body; ok is false when it is
// not JSON or has no string code.
func parseResult(body []byte) (code string, ok bool) {
	var r result
	if json.Unmarshal(body, &r) != nil || r.Code == nil {
		return "", false
	}
	return *r.Code, true
}

func (r *apiResponse) ok() bool { return r.status >= 200 && r.status < 300 }

// errorf builds an error about an answer, with its client-request-id.
func (r *apiResponse) errorf(op, format string, args ...any) error {
	return fmt.Errorf("intune: %s: %s (client-request-id %s)", op, fmt.Sprintf(format, args...), r.requestID)
}
