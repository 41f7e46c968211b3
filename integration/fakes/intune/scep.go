package intune

import (
	"encoding/base64"
	"net/http"
)

// ValidateBody is validateRequest's "request" object.
type ValidateBody struct {
	TransactionID      string `json:"transactionId"`
	CertificateRequest string `json:"certificateRequest"`
	CallerInfo         string `json:"callerInfo"`
}

// SuccessBody is successNotification's "notification" object. Optional
// fields are pointers: the Java library omits them, C# sends null.
type SuccessBody struct {
	TransactionID                string  `json:"transactionId"`
	CertificateRequest           string  `json:"certificateRequest"`
	CertificateThumbprint        string  `json:"certificateThumbprint"`
	CertificateSerialNumber      string  `json:"certificateSerialNumber"`
	CertificateExpirationDateUtc string  `json:"certificateExpirationDateUtc"`
	IssuingCertificateAuthority  string  `json:"issuingCertificateAuthority"`
	CallerInfo                   string  `json:"callerInfo"`
	CAConfiguration              *string `json:"caConfiguration"`
	CertificateAuthority         *string `json:"certificateAuthority"`
}

// FailureBody is failureNotification's "notification" object; HResult
// must be a JSON number.
type FailureBody struct {
	TransactionID      string `json:"transactionId"`
	CertificateRequest string `json:"certificateRequest"`
	HResult            int64  `json:"hResult"`
	ErrorDescription   string `json:"errorDescription"`
	CallerInfo         string `json:"callerInfo"`
}

// Event is one well-formed ScepActions call, in arrival order. Calls
// refused for their headers or body are only in Requests.
type Event struct {
	// Route is RouteValidate, RouteSuccess or RouteFailure.
	Route         string
	TransactionID string
	// Code is the result code the fake answered.
	Code string
	// Validated is, for notifications, the code the last validateRequest
	// of the same transaction got ("" if none), so tests can assert that
	// no success notification follows a failed validation.
	Validated string
	Header    http.Header
	// CSR is the decoded certificateRequest.
	CSR      []byte
	Validate *ValidateBody
	Success  *SuccessBody
	Failure  *FailureBody
}

// Events returns the ScepActions calls so far.
func (f *Fake) Events() []Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Event(nil), f.events...)
}

func (f *Fake) record(e Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if e.Route == RouteValidate {
		f.outcomes[e.TransactionID] = e.Code
	} else {
		e.Validated = f.outcomes[e.TransactionID]
	}
	f.events = append(f.events, e)
}

func (f *Fake) validate(w http.ResponseWriter, r *http.Request) {
	if !f.checkHeaders(w, r, APIVersionSCEP) {
		return
	}
	var body struct {
		Request *ValidateBody `json:"request"`
	}
	if err := decodeStrict(r, &body); err != nil || body.Request == nil {
		odataError(w, http.StatusBadRequest, "BadRequest", "body must be {\"request\":{transactionId,certificateRequest,callerInfo}}")
		return
	}
	v := body.Request
	if v.TransactionID == "" || v.CertificateRequest == "" {
		odataError(w, http.StatusBadRequest, "BadRequest", "transactionId and certificateRequest are required")
		return
	}
	der, err := base64.StdEncoding.DecodeString(v.CertificateRequest)
	code, desc := CodeCertificateRequestDecodingFailed, "certificateRequest is not base64"
	if err == nil {
		code, desc = f.judge(der, v.TransactionID)
	}
	f.record(Event{Route: RouteValidate, TransactionID: v.TransactionID, Code: code,
		Header: r.Header.Clone(), CSR: der, Validate: v})
	status := http.StatusOK
	if code != CodeSuccess {
		f.mu.Lock()
		status = f.rejectStatus
		f.mu.Unlock()
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(ResultBody(code, desc)))
}

func (f *Fake) success(w http.ResponseWriter, r *http.Request) {
	if !f.checkHeaders(w, r, APIVersionSCEP) {
		return
	}
	var body struct {
		Notification *SuccessBody `json:"notification"`
	}
	if err := decodeStrict(r, &body); err != nil || body.Notification == nil {
		odataError(w, http.StatusBadRequest, "BadRequest", "body must be {\"notification\":{...}} with the successNotification fields")
		return
	}
	n := body.Notification
	if n.TransactionID == "" || n.CertificateRequest == "" || n.CertificateThumbprint == "" ||
		n.CertificateSerialNumber == "" || n.CertificateExpirationDateUtc == "" || n.IssuingCertificateAuthority == "" {
		odataError(w, http.StatusBadRequest, "BadRequest", "a required notification field is empty")
		return
	}
	der, err := base64.StdEncoding.DecodeString(n.CertificateRequest)
	if err != nil {
		odataError(w, http.StatusBadRequest, "BadRequest", "certificateRequest is not base64")
		return
	}
	f.notified(w, r, Event{Route: RouteSuccess, TransactionID: n.TransactionID, CSR: der, Success: n})
}

func (f *Fake) failure(w http.ResponseWriter, r *http.Request) {
	if !f.checkHeaders(w, r, APIVersionSCEP) {
		return
	}
	var body struct {
		Notification *FailureBody `json:"notification"`
	}
	if err := decodeStrict(r, &body); err != nil || body.Notification == nil {
		odataError(w, http.StatusBadRequest, "BadRequest", "body must be {\"notification\":{...}} with the failureNotification fields (hResult a number)")
		return
	}
	n := body.Notification
	switch {
	case n.TransactionID == "" || n.CertificateRequest == "" || n.ErrorDescription == "":
		odataError(w, http.StatusBadRequest, "BadRequest", "a required notification field is empty")
		return
	case len(n.ErrorDescription) > 255:
		odataError(w, http.StatusBadRequest, "BadRequest", "errorDescription is longer than 255 characters")
		return
	case n.HResult < -1<<31 || n.HResult > 1<<32-1:
		odataError(w, http.StatusBadRequest, "BadRequest", "hResult is not a 32-bit HRESULT")
		return
	}
	der, err := base64.StdEncoding.DecodeString(n.CertificateRequest)
	if err != nil {
		odataError(w, http.StatusBadRequest, "BadRequest", "certificateRequest is not base64")
		return
	}
	f.notified(w, r, Event{Route: RouteFailure, TransactionID: n.TransactionID, CSR: der, Failure: n})
}

// notified records a well-formed notification and answers its code.
func (f *Fake) notified(w http.ResponseWriter, r *http.Request, e Event) {
	f.mu.Lock()
	c, forced := f.notifyCode[e.Route]
	f.mu.Unlock()
	e.Code = CodeSuccess
	desc := ""
	if forced {
		e.Code, desc = c[0], c[1]
	}
	e.Header = r.Header.Clone()
	f.record(e)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(ResultBody(e.Code, desc)))
}
