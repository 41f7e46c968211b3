package intune

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// RevocationRequest is one revocation Intune asks the CA to perform.
// Empty IssuerName and CAConfiguration are sent as JSON null.
type RevocationRequest struct {
	RequestContext  string
	SerialNumber    string
	IssuerName      string
	CAConfiguration string
}

// RevocationResult is one uploaded outcome. ErrorCode is as the client
// sent it (a name such as "CertificateNotFoundError" or a number such as
// "4004"); Code is its numeric value.
type RevocationResult struct {
	RequestContext string
	Succeeded      bool
	ErrorCode      string
	Code           int
	ErrorMessage   *string
}

// QueueRevocations adds requests to the pending queue. A request stays
// pending, and is downloaded again, until a result for its
// requestContext is uploaded.
func (f *Fake) QueueRevocations(reqs ...RevocationRequest) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pending = append(f.pending, reqs...)
}

// PendingRevocations returns the requests without an uploaded result.
func (f *Fake) PendingRevocations() []RevocationRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]RevocationRequest(nil), f.pending...)
}

// RevocationResults returns the results uploaded so far, in order.
func (f *Fake) RevocationResults() []RevocationResult {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]RevocationResult(nil), f.results...)
}

func (f *Fake) download(w http.ResponseWriter, r *http.Request) {
	if !f.checkHeaders(w, r, APIVersionPKI) {
		return
	}
	var body struct {
		DownloadParameters *struct {
			MaxRequests *int    `json:"maxRequests"`
			IssuerName  *string `json:"issuerName"`
		} `json:"downloadParameters"`
	}
	if err := decodeStrict(r, &body); err != nil || body.DownloadParameters == nil || body.DownloadParameters.MaxRequests == nil {
		odataError(w, http.StatusBadRequest, "BadRequest", "body must be {\"downloadParameters\":{maxRequests,issuerName}}")
		return
	}
	p := body.DownloadParameters
	if *p.MaxRequests < 1 || *p.MaxRequests > 500 {
		odataError(w, http.StatusBadRequest, "BadRequest", "maxRequests must be between 1 and 500")
		return
	}
	f.mu.Lock()
	out := []map[string]any{}
	for _, q := range f.pending {
		if len(out) == *p.MaxRequests {
			break
		}
		if p.IssuerName != nil && *p.IssuerName != "" && q.IssuerName != *p.IssuerName {
			continue
		}
		out = append(out, map[string]any{
			"requestContext":  q.RequestContext,
			"serialNumber":    q.SerialNumber,
			"issuerName":      nullable(q.IssuerName),
			"caConfiguration": nullable(q.CAConfiguration),
		})
	}
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"@odata.context": "https://manage.microsoft.com/RACerts/StatelessPkiConnectorService/$metadata#Collection(microsoft.management.services.api.caRevocationRequest)",
		"value":          out,
	})
}

func (f *Fake) upload(w http.ResponseWriter, r *http.Request) {
	if !f.checkHeaders(w, r, APIVersionPKI) {
		return
	}
	var body struct {
		Results []struct {
			RequestContext string          `json:"requestContext"`
			Succeeded      *bool           `json:"succeeded"`
			ErrorCode      json.RawMessage `json:"errorCode"`
			ErrorMessage   *string         `json:"errorMessage"`
		} `json:"results"`
	}
	if err := decodeStrict(r, &body); err != nil || body.Results == nil {
		odataError(w, http.StatusBadRequest, "BadRequest", "body must be {\"results\":[...]}")
		return
	}
	var got []RevocationResult
	for _, res := range body.Results {
		name, code, ok := parseErrorCode(res.ErrorCode)
		switch {
		case res.RequestContext == "" || res.Succeeded == nil:
			ok = false
		case ok && *res.Succeeded != (code == 0):
			ok = false // succeeded must go with None, and only with None
		}
		if !ok {
			odataError(w, http.StatusBadRequest, "BadRequest", "each result needs requestContext, succeeded and an errorCode consistent with it")
			return
		}
		got = append(got, RevocationResult{RequestContext: res.RequestContext, Succeeded: *res.Succeeded,
			ErrorCode: name, Code: code, ErrorMessage: res.ErrorMessage})
	}
	f.mu.Lock()
	f.results = append(f.results, got...)
	for _, g := range got {
		for i, p := range f.pending {
			if p.RequestContext == g.RequestContext {
				f.pending = append(f.pending[:i], f.pending[i+1:]...)
				break
			}
		}
	}
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"value": true})
}

// parseErrorCode accepts the C# form (enum name), the Java form (number
// as a string) and, leniently, a bare JSON number.
func parseErrorCode(raw json.RawMessage) (string, int, bool) {
	raw = bytes.TrimSpace(raw)
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		s = string(raw)
	}
	if n, err := strconv.Atoi(s); err == nil {
		for _, v := range CARequestErrorCodes {
			if v == n {
				return s, n, true
			}
		}
		return s, n, false
	}
	for k, v := range CARequestErrorCodes {
		if strings.EqualFold(k, s) {
			return s, v, true
		}
	}
	return s, 0, false
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
