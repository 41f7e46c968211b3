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

// Intune service names in Graph's discovery list.
const (
	scepService = "ScepRequestValidationFEService"
	pkiService  = "PkiConnectorFEService"
)

// intuneAppID is Intune's first-party application ID.
const intuneAppID = "0000000a-0000-0000-c000-000000000000"

// serviceMap maps lower-cased service names to their base URIs.
type serviceMap map[string]string

const discoveryKey = "services"

// serviceURI returns the base URI of service name, discovering the
// tenant's services through Graph when none are cached.
func (v *Validator) serviceURI(ctx context.Context, name string) (string, error) {
	m, err := v.services.get(ctx, discoveryKey, v.cfg.Timeout,
		func(serviceMap) bool { return true },
		func(ctx context.Context, _ serviceMap, _ bool) (serviceMap, error) { return v.discover(ctx) })
	if err != nil {
		return "", err
	}
	uri, ok := m[strings.ToLower(name)]
	if !ok {
		// Permissions or licences may be fixed while we run: look again
		// next time rather than cache the gap.
		v.services.drop(discoveryKey, func(c serviceMap) bool { return true })
		return "", fmt.Errorf("intune: discovery: Graph lists no %s (does the app have Intune's scep_challenge_provider permission, and the tenant an Intune licence?)", name)
	}
	return uri, nil
}

// forgetService drops the cached services after uri failed, unless they
// were rediscovered meanwhile; the next call asks Graph again.
func (v *Validator) forgetService(name, uri string) {
	v.services.drop(discoveryKey, func(c serviceMap) bool { return c[strings.ToLower(name)] == uri })
}

// discover asks Graph for the Intune service principal's endpoints
// (INTEGRATIONS.md §2), in the reference library's appId=... form.
func (v *Validator) discover(ctx context.Context) (m serviceMap, err error) {
	start := time.Now()
	defer func() {
		result := resultOK
		if err != nil {
			result = resultError
		}
		v.metrics.observe(opDiscovery, result, start)
	}()
	resp, err := v.graphGet(ctx, "discovery", "/v1.0/servicePrincipals/appId="+intuneAppID+"/endpoints")
	if err != nil {
		return nil, err
	}
	reqID, body := resp.requestID, resp.body
	if resp.status != http.StatusOK {
		return nil, fmt.Errorf("intune: discovery: HTTP %d%s%s (client-request-id %s)",
			resp.status, graphErrorCode(body), resp.retryAfter, reqID)
	}
	var list struct {
		Value []struct {
			ProviderName string `json:"providerName"`
			ServiceName  string `json:"serviceName"`
			URI          string `json:"uri"`
		} `json:"value"`
	}
	if err := json.Unmarshal(body, &list); err != nil || list.Value == nil {
		return nil, fmt.Errorf("intune: discovery: response is not an endpoint list (client-request-id %s)", reqID)
	}
	m = make(serviceMap)
	for _, e := range list.Value {
		// Graph says providerName; legacy AAD Graph said serviceName.
		// Entries with neither are skipped, not fatal: only two matter.
		name := e.ProviderName
		if name == "" {
			name = e.ServiceName
		}
		p, err := url.Parse(e.URI)
		if name == "" || err != nil || p.Scheme != "https" || p.Host == "" {
			continue
		}
		m[strings.ToLower(name)] = e.URI
	}
	return m, nil
}

// graphErrorCode returns ": <code>" from a Graph error body, if any.
func graphErrorCode(body []byte) string {
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil || e.Error.Code == "" {
		return ""
	}
	return ": " + safeCode(e.Error.Code)
}

// graphGet sends a GET to path under the Graph base with a Graph token
// and reads the answer. It returns an error only when no answer arrived;
// the caller interprets the status. A 401 drops the token, so the next
// call fetches a new one.
func (v *Validator) graphGet(ctx context.Context, op, path string) (*apiResponse, error) {
	tok, err := v.tokens.token(ctx, v.cfg.GraphScope)
	if err != nil {
		return nil, err
	}
	reqID := newRequestID()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(v.cfg.GraphURL, "/")+path, nil)
	if err != nil {
		return nil, fmt.Errorf("intune: %s: %w", op, err)
	}
	req.Header.Set("Authorization", "Bearer "+tok.value)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("client-request-id", reqID)
	req.Header.Set("User-Agent", v.cfg.CallerInfo)
	resp, err := v.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("intune: %s: %w (client-request-id %s)", op, err, reqID)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, fmt.Errorf("intune: %s: reading response: %w (client-request-id %s)", op, err, reqID)
	}
	if len(body) > maxResponse {
		return nil, fmt.Errorf("intune: %s: response larger than %d bytes (client-request-id %s)", op, maxResponse, reqID)
	}
	if resp.StatusCode == http.StatusUnauthorized {
		v.tokens.invalidate(v.cfg.GraphScope, tok)
	}
	return &apiResponse{status: resp.StatusCode, body: body, requestID: reqID, retryAfter: retryAfter(resp)}, nil
}

// retryAfter returns ", retry after Ns" when Graph throttles with a
// Retry-After in seconds (the form Graph documents).
func retryAfter(resp *http.Response) string {
	ra := resp.Header.Get("Retry-After")
	if n, err := strconv.Atoi(ra); err == nil && n >= 0 {
		return ", retry after " + strconv.Itoa(n) + "s"
	}
	return ""
}
