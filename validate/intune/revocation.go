package intune

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// MaxRevocationRequests is the most downloadRevocationRequests returns
// at once (INTEGRATIONS.md §4).
const MaxRevocationRequests = 500

// RevocationRequest is a revocation Intune asks the CA to perform, for
// example after a device was wiped.
type RevocationRequest struct {
	// RequestContext identifies the request; echo it in the result.
	RequestContext string
	// SerialNumber is the certificate's serial as Intune recorded it
	// from successNotification (format unconfirmed: compare leniently).
	SerialNumber string
	// IssuerName and CAConfiguration are optional; "" when absent.
	IssuerName      string
	CAConfiguration string
}

// RevocationResult is the CA's outcome for one RevocationRequest.
// Succeeded must be true exactly when ErrorCode is None.
type RevocationResult struct {
	RequestContext string
	Succeeded      bool
	ErrorCode      CARequestErrorCode
	// ErrorMessage is optional; "" is sent as null.
	ErrorMessage string
}

// DownloadRevocationRequests fetches up to max (1..500) pending
// revocation requests, only those for Config.RevocationIssuerName when
// it is set. Requests without the required requestContext or
// serialNumber make the whole download fail rather than be dropped
// silently.
func (v *Validator) DownloadRevocationRequests(ctx context.Context, max int) (reqs []RevocationRequest, err error) {
	start := time.Now()
	defer func() { v.metrics.observe(opDownload, okResult(err), start) }()
	if max < 1 || max > MaxRevocationRequests {
		return nil, fmt.Errorf("intune: downloadRevocationRequests: max %d is outside 1..%d", max, MaxRevocationRequests)
	}
	var issuer any // JSON null asks for every issuer
	if v.cfg.RevocationIssuerName != "" {
		issuer = v.cfg.RevocationIssuerName
	}
	ctx, cancel := context.WithTimeout(ctx, v.cfg.Timeout)
	defer cancel()
	const op = "downloadRevocationRequests"
	resp, err := v.post(ctx, op, pkiService, pkiAPIVersion, "CertificateAuthorityRequests/"+op,
		map[string]any{"downloadParameters": map[string]any{"maxRequests": max, "issuerName": issuer}})
	if err != nil {
		return nil, err
	}
	if !resp.ok() {
		return nil, resp.errorf(op, "HTTP %d%s", resp.status, graphErrorCode(resp.body))
	}
	var list struct {
		Value []struct {
			RequestContext  *string `json:"requestContext"`
			SerialNumber    *string `json:"serialNumber"`
			IssuerName      *string `json:"issuerName"`
			CAConfiguration *string `json:"caConfiguration"`
		} `json:"value"`
	}
	if err := json.Unmarshal(resp.body, &list); err != nil || list.Value == nil {
		return nil, resp.errorf(op, "response is not a revocation request list")
	}
	if len(list.Value) > max {
		return nil, resp.errorf(op, "%d requests returned for a maximum of %d", len(list.Value), max)
	}
	reqs = make([]RevocationRequest, 0, len(list.Value))
	for i, e := range list.Value {
		if e.RequestContext == nil || *e.RequestContext == "" || e.SerialNumber == nil || *e.SerialNumber == "" {
			return nil, resp.errorf(op, "request %d lacks requestContext or serialNumber", i)
		}
		reqs = append(reqs, RevocationRequest{
			RequestContext:  *e.RequestContext,
			SerialNumber:    *e.SerialNumber,
			IssuerName:      deref(e.IssuerName),
			CAConfiguration: deref(e.CAConfiguration),
		})
	}
	return reqs, nil
}

// UploadRevocationResults reports outcomes of downloaded requests.
// errorCode is sent as the enum name, as the C# reference library does
// (the Java one sends the number as a string; Intune accepts both per
// the reference code). Intune must answer {"value": true}.
func (v *Validator) UploadRevocationResults(ctx context.Context, results []RevocationResult) (err error) {
	start := time.Now()
	defer func() { v.metrics.observe(opUpload, okResult(err), start) }()
	const op = "uploadRevocationResults"
	if len(results) == 0 {
		return nil
	}
	out := make([]map[string]any, 0, len(results))
	for i, r := range results {
		switch {
		case r.RequestContext == "":
			return fmt.Errorf("intune: %s: result %d has no requestContext", op, i)
		case !r.ErrorCode.Valid():
			return fmt.Errorf("intune: %s: result %d has undefined errorCode %d", op, i, int(r.ErrorCode))
		case r.Succeeded != (r.ErrorCode == None):
			return fmt.Errorf("intune: %s: result %d: succeeded must be true exactly when errorCode is None", op, i)
		}
		var msg any
		if r.ErrorMessage != "" && !r.Succeeded {
			msg = r.ErrorMessage
		}
		out = append(out, map[string]any{
			"requestContext": r.RequestContext,
			"succeeded":      r.Succeeded,
			"errorCode":      r.ErrorCode.String(),
			"errorMessage":   msg,
		})
	}
	ctx, cancel := context.WithTimeout(ctx, v.cfg.Timeout)
	defer cancel()
	resp, err := v.post(ctx, op, pkiService, pkiAPIVersion, "CertificateAuthorityRequests/"+op, map[string]any{"results": out})
	if err != nil {
		return err
	}
	if !resp.ok() {
		return resp.errorf(op, "HTTP %d%s", resp.status, graphErrorCode(resp.body))
	}
	var ans struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(resp.body, &ans); err != nil {
		return resp.errorf(op, "response is not JSON")
	}
	switch string(ans.Value) {
	case "true":
		return nil
	case "false":
		return resp.errorf(op, "Intune answered false")
	case "":
		return resp.errorf(op, "response has no value")
	}
	return resp.errorf(op, "value is not a boolean")
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
