package intune

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/certgate/certgate/integration/fakes/fakehttp"
)

// API versions the two services require in the api-version header.
const (
	APIVersionSCEP = "2018-02-20"
	APIVersionPKI  = "5019-05-05"
)

// Paths the fake serves the two services under; the Graph fake's
// StandardEndpoints uses the same ones.
const (
	SCEPPath = "/RACerts/ScepRequestValidationFEService/Gateway/StatelessScepRequestValidationService"
	PKIPath  = "/RACerts/StatelessPkiConnectorService/Gateway/StatelessPkiConnectorService"
)

// Route names for SetFault and RequestsFor.
const (
	RouteValidate = "validateRequest"
	RouteSuccess  = "successNotification"
	RouteFailure  = "failureNotification"
	RouteDownload = "downloadRevocationRequests"
	RouteUpload   = "uploadRevocationResults"
)

// Audience is the token audience the fake requires.
const Audience = "https://api.manage.microsoft.com"

// TokenChecker says which audience a bearer token was issued for; the
// Entra fake implements it.
type TokenChecker interface {
	Audience(token string) (string, bool)
}

// Fake is a running fake Intune.
type Fake struct {
	*fakehttp.Server
	tokens TokenChecker

	mu           sync.Mutex
	now          func() time.Time
	challenges   map[string]Challenge
	rejectStatus int
	notifyCode   map[string][2]string
	requireUA    bool
	events       []Event
	outcomes     map[string]string
	pending      []RevocationRequest
	results      []RevocationResult
}

// New starts a fake Intune that accepts tokens tokens knows for Intune.
// Close it when done.
func New(tokens TokenChecker) *Fake {
	f := &Fake{
		Server:       fakehttp.New(),
		tokens:       tokens,
		now:          time.Now,
		challenges:   make(map[string]Challenge),
		rejectStatus: http.StatusOK,
		notifyCode:   make(map[string][2]string),
		outcomes:     make(map[string]string),
	}
	f.Handle("POST "+SCEPPath+"/ScepActions/validateRequest", RouteValidate, f.validate)
	f.Handle("POST "+SCEPPath+"/ScepActions/successNotification", RouteSuccess, f.success)
	f.Handle("POST "+SCEPPath+"/ScepActions/failureNotification", RouteFailure, f.failure)
	f.Handle("POST "+PKIPath+"/CertificateAuthorityRequests/downloadRevocationRequests", RouteDownload, f.download)
	f.Handle("POST "+PKIPath+"/CertificateAuthorityRequests/uploadRevocationResults", RouteUpload, f.upload)
	f.Start()
	return f
}

// SCEPServiceURI is the discovery uri of ScepRequestValidationFEService.
func (f *Fake) SCEPServiceURI() string { return f.URL() + SCEPPath }

// PKIServiceURI is the discovery uri of PkiConnectorFEService.
func (f *Fake) PKIServiceURI() string { return f.URL() + PKIPath }

// SetClock replaces the clock that decides challenge expiry; nil
// restores time.Now.
func (f *Fake) SetClock(now func() time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if now == nil {
		now = time.Now
	}
	f.now = now
}

// SetRejectStatus sets the HTTP status of validateRequest answers whose
// code is not Success (default 200; whether Intune uses 200 or a 4xx is
// unconfirmed).
func (f *Fake) SetRejectStatus(status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rejectStatus = status
}

// SetNotificationCode makes route (RouteSuccess or RouteFailure) answer
// code and description after validating the body; "" restores Success.
func (f *Fake) SetNotificationCode(route, code, description string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if code == "" {
		delete(f.notifyCode, route)
		return
	}
	f.notifyCode[route] = [2]string{code, description}
}

// RequireUserAgent makes a call without the UserAgent header fail with
// 400, to test a client that promises to send it.
func (f *Fake) RequireUserAgent(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requireUA = on
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// checkHeaders applies INTEGRATIONS.md §3.2 and answers the error itself
// when a header is wrong.
func (f *Fake) checkHeaders(w http.ResponseWriter, r *http.Request, apiVersion string) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		odataError(w, http.StatusUnauthorized, "Unauthorized", "missing bearer token")
		return false
	}
	aud, ok := f.tokens.Audience(tok)
	if !ok {
		odataError(w, http.StatusUnauthorized, "Unauthorized", "unknown or expired token")
		return false
	}
	if aud != Audience {
		odataError(w, http.StatusUnauthorized, "Unauthorized", "token audience is not Intune")
		return false
	}
	if v := r.Header.Get("api-version"); v != apiVersion {
		odataError(w, http.StatusBadRequest, "BadRequest", "missing or unsupported api-version header")
		return false
	}
	if !uuidRE.MatchString(r.Header.Get("client-request-id")) {
		odataError(w, http.StatusBadRequest, "BadRequest", "client-request-id must be a UUID")
		return false
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		odataError(w, http.StatusUnsupportedMediaType, "UnsupportedMediaType", "content-type must be application/json")
		return false
	}
	f.mu.Lock()
	requireUA := f.requireUA
	f.mu.Unlock()
	if requireUA && r.Header.Get("UserAgent") == "" {
		odataError(w, http.StatusBadRequest, "BadRequest", "missing UserAgent header")
		return false
	}
	return true
}

// odataError answers an error that is not a validation result: it has
// no top-level "code", so no client can mistake it for one.
func odataError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

// ResultBody is the body of a validation or notification answer; the
// reference library needs both keys present and string-typed.
func ResultBody(code, description string) string {
	b, _ := json.Marshal(map[string]string{"code": code, "errorDescription": description})
	return string(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// decodeStrict decodes a body whose object keys must all be fields of v,
// spelt exactly (encoding/json alone matches keys case-insensitively), so
// a client sending "transactionID" for "transactionId" is caught.
func decodeStrict(r *http.Request, v any) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	if err := exactKeys(body, reflect.TypeOf(v)); err != nil {
		return err
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.DisallowUnknownFields()
	return d.Decode(v)
}

// exactKeys checks that every key of the JSON objects in data names a
// json-tagged field of t, recursing into structs, pointers and slices.
func exactKeys(data []byte, t reflect.Type) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(data, &obj); err != nil || obj == nil {
			return err // null or a type error; Decode reports the latter
		}
		fields := make(map[string]reflect.Type)
		for i := range t.NumField() {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			fields[name] = t.Field(i).Type
		}
		for k, raw := range obj {
			ft, ok := fields[k]
			if !ok {
				return fmt.Errorf("unknown field %q", k)
			}
			if err := exactKeys(raw, ft); err != nil {
				return err
			}
		}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return nil // json.RawMessage or []byte: anything goes
		}
		var items []json.RawMessage
		if err := json.Unmarshal(data, &items); err != nil {
			return err
		}
		for _, it := range items {
			if err := exactKeys(it, t.Elem()); err != nil {
				return err
			}
		}
	}
	return nil
}
