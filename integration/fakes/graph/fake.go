package graph

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/certgate/certgate/integration/fakes/fakehttp"
)

// IntuneAppID is Intune's first-party application ID, whose service
// principal lists the Intune service endpoints.
const IntuneAppID = "0000000a-0000-0000-c000-000000000000"

// RouteEndpoints names the discovery route for SetFault and RequestsFor.
const RouteEndpoints = "endpoints"

// Audience is the token audience the fake requires.
const Audience = "https://graph.microsoft.com"

// TokenChecker says which audience a bearer token was issued for; the
// Entra fake implements it.
type TokenChecker interface {
	Audience(token string) (string, bool)
}

// Endpoint is one entry of the discovery list (Graph "endpoint" resource).
type Endpoint struct {
	Capability         string `json:"capability,omitempty"`
	ID                 string `json:"id,omitempty"`
	ProviderID         string `json:"providerId,omitempty"`
	ProviderName       string `json:"providerName,omitempty"`
	ProviderResourceID string `json:"providerResourceId,omitempty"`
	URI                string `json:"uri,omitempty"`
	// ServiceName is the legacy AAD Graph spelling of ProviderName; set
	// it (and leave ProviderName empty) to imitate that shape.
	ServiceName string `json:"serviceName,omitempty"`
}

// Service names and the paths the Intune fake serves them under.
const (
	SCEPService = "ScepRequestValidationFEService"
	PKIService  = "PkiConnectorFEService"
	SCEPPath    = "/RACerts/ScepRequestValidationFEService/Gateway/StatelessScepRequestValidationService"
	PKIPath     = "/RACerts/StatelessPkiConnectorService/Gateway/StatelessPkiConnectorService"
)

// StandardEndpoints is the list a healthy tenant returns: both Intune
// services under intuneBase, plus unrelated entries a client must skip.
func StandardEndpoints(intuneBase string) []Endpoint {
	intuneBase = strings.TrimRight(intuneBase, "/")
	return []Endpoint{
		{Capability: "Intune", ID: "1", ProviderName: "IntuneEnrollmentService", URI: "https://enrollment.manage.example/EnrollmentServer"},
		{Capability: "Intune", ID: "2", ProviderName: SCEPService, URI: intuneBase + SCEPPath},
		{Capability: "Intune", ID: "3", ProviderName: "IntuneCertificateConnector", URI: "https://certconnector.manage.example/"},
		{Capability: "Intune", ID: "4", ProviderName: PKIService, URI: intuneBase + PKIPath},
	}
}

// Fake is a running fake Graph.
type Fake struct {
	*fakehttp.Server
	tokens TokenChecker

	mu        sync.Mutex
	endpoints []Endpoint
	queued    [][]Endpoint
	dev       devices
}

// New starts a fake Graph that accepts tokens tokens knows for Graph,
// lists no endpoint until SetEndpoints and knows no device until
// PutManagedDevice or PutEntraDevice. Close it when done.
func New(tokens TokenChecker) *Fake {
	f := &Fake{Server: fakehttp.New(), tokens: tokens,
		dev: devices{managed: map[string]ManagedDevice{}, entra: map[string]EntraDevice{}}}
	f.Before(func(w http.ResponseWriter, r *http.Request) {
		if id := r.Header.Get("client-request-id"); id != "" {
			w.Header().Set("client-request-id", id)
		}
		w.Header().Set("request-id", newID())
	})
	f.Handle("GET /v1.0/servicePrincipals/{sp}/endpoints", RouteEndpoints, f.list)
	f.Handle("GET /v1.0/deviceManagement/managedDevices/{id}", RouteManagedDevice, f.getManagedDevice)
	f.Handle("GET /v1.0/devices", RouteDevices, f.listDevices)
	f.Start()
	return f
}

// SetEndpoints sets the discovery list, dropping any queued lists.
func (f *Fake) SetEndpoints(eps ...Endpoint) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.endpoints = append([]Endpoint(nil), eps...)
	f.queued = nil
}

// QueueEndpoints makes the next calls answer lists in turn; after the
// last, the list set by SetEndpoints (or the last queued one) stays.
func (f *Fake) QueueEndpoints(lists ...[]Endpoint) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queued = append(f.queued, lists...)
}

func (f *Fake) current() []Endpoint {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.queued) > 0 {
		f.endpoints = f.queued[0]
		f.queued = f.queued[1:]
	}
	return append([]Endpoint{}, f.endpoints...) // [] rather than null when empty
}

func (f *Fake) list(w http.ResponseWriter, r *http.Request) {
	if !f.authorised(w, r) {
		return
	}
	if sp := r.PathValue("sp"); sp != "appId="+IntuneAppID {
		writeError(w, r, http.StatusNotFound, "Request_ResourceNotFound",
			fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", sp))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#servicePrincipals('appId%3D" + IntuneAppID + "')/endpoints",
		"value":          f.current(),
	})
}

// authorised checks for a Graph bearer token and answers 401 if not.
func (f *Fake) authorised(w http.ResponseWriter, r *http.Request) bool {
	auth := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || tok == "" {
		writeError(w, r, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty.")
		return false
	}
	aud, ok := f.tokens.Audience(tok)
	if !ok {
		writeError(w, r, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token has expired or is not yet valid.")
		return false
	}
	if aud != Audience {
		writeError(w, r, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.")
		return false
	}
	return true
}

// ErrorBody is a Graph error body; clientRequestID may be empty.
func ErrorBody(code, message, clientRequestID string) string {
	inner := map[string]string{
		"date":       time.Now().UTC().Format("2006-01-02T15:04:05"),
		"request-id": newID(),
	}
	if clientRequestID != "" {
		inner["client-request-id"] = clientRequestID
	}
	b, _ := json.Marshal(map[string]any{"error": map[string]any{
		"code": code, "message": message, "innerError": inner,
	}})
	return string(b)
}

// InsufficientPrivileges is the fault a tenant without the Graph
// Application.Read.All permission gives on discovery.
func InsufficientPrivileges() fakehttp.Fault {
	return fakehttp.Fault{Status: http.StatusForbidden,
		Body: ErrorBody("Authorization_RequestDenied", "Insufficient privileges to complete the operation.", "")}
}

// Throttled is Graph's 429 with Retry-After in seconds.
func Throttled(retryAfter int) fakehttp.Fault {
	return fakehttp.Fault{Status: http.StatusTooManyRequests,
		Header: http.Header{"Retry-After": {strconv.Itoa(retryAfter)}},
		Body:   ErrorBody("TooManyRequests", "Too many requests.", "")}
}

func writeError(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(ErrorBody(code, message, r.Header.Get("client-request-id"))))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
