package jamf

import (
	"net/http"
	"sync"
	"time"

	"github.com/certgate/certgate/integration/fakes/fakehttp"
)

// Route names, for SetFault, RequestsFor and Count.
const (
	RouteOAuthToken          = "oauth-token"    // POST /api/oauth/token
	RouteOAuthTokenV1        = "oauth-token-v1" // POST /api/v1/oauth/token
	RouteUserToken           = "user-token"     // POST /api/v1/auth/token
	RouteComputers           = "computers-inventory"
	RouteComputer            = "computer"
	RouteMobileDevices       = "mobile-devices-detail"
	RouteMobileDevice        = "mobile-device"
	RouteClassicComputer     = "classic-computer"
	RouteClassicMobileDevice = "classic-mobile-device"
	RouteClassicUser         = "classic-user"
)

// DefaultTokenLifetime is expires_in of issued tokens unless
// SetTokenLifetime changes it; it is what Jamf Pro answers for API
// clients.
const DefaultTokenLifetime = 599 * time.Second

// Fake is a running fake Jamf Pro server.
type Fake struct {
	*fakehttp.Server

	mu       sync.Mutex
	clients  map[string]string // API client ID → secret
	accounts map[string]string // user name → password
	lifetime time.Duration
	now      func() time.Time
	tokens   map[string]time.Time // token → expiry
	issued   int
	userLike bool // user tokens in the OAuth shape

	inv inventory
	// Flight counts requests in flight (MaxInFlight) and can hold them
	// (Hold), to show a client's concurrency cap without timing.
	fakehttp.Flight
}

// New starts a fake that knows no client, account or device; add them
// with AddClient, AddAccount, AddComputer, AddMobileDevice and AddUser.
// Close it when done.
func New() *Fake {
	f := &Fake{
		Server:   fakehttp.New(),
		clients:  make(map[string]string),
		accounts: make(map[string]string),
		lifetime: DefaultTokenLifetime,
		now:      time.Now,
		tokens:   make(map[string]time.Time),
		inv:      newInventory(),
	}
	f.Before(f.Flight.Begin)
	f.handle("POST /api/oauth/token", RouteOAuthToken, f.oauthToken)
	f.handle("POST /api/v1/oauth/token", RouteOAuthTokenV1, f.oauthToken)
	f.handle("POST /api/v1/auth/token", RouteUserToken, f.userToken)
	f.handleAPI("GET /api/v1/computers-inventory", RouteComputers, f.listComputers)
	f.handleAPI("GET /api/v1/computers-inventory/{id}", RouteComputer, f.getComputer)
	f.handleAPI("GET /api/v2/mobile-devices/detail", RouteMobileDevices, f.listMobileDevices)
	f.handleAPI("GET /api/v2/mobile-devices/{id}", RouteMobileDevice, f.getMobileDevice)
	f.handleAPI("GET /JSSResource/computers/id/{id}", RouteClassicComputer, f.classicComputer)
	f.handleAPI("GET /JSSResource/mobiledevices/id/{id}", RouteClassicMobileDevice, f.classicMobileDevice)
	f.handleAPI("GET /JSSResource/users/{key}/{value}", RouteClassicUser, f.classicUser)
	f.Start()
	return f
}

// handle registers a route whose requests count as in flight.
func (f *Fake) handle(pattern, route string, h http.HandlerFunc) {
	f.Handle(pattern, route, func(w http.ResponseWriter, r *http.Request) {
		defer f.Flight.End(r)
		h(w, r)
	})
}

// handleAPI registers a route that needs a valid bearer token and that
// Hold applies to.
func (f *Fake) handleAPI(pattern, route string, h http.HandlerFunc) {
	f.handle(pattern, route, func(w http.ResponseWriter, r *http.Request) {
		if !f.authorized(r) {
			apiError(w, http.StatusUnauthorized, "INVALID_TOKEN", "", "Unauthorized")
			return
		}
		if !f.Flight.Wait(r.Context()) {
			abort(w) // the client gave up while held
			return
		}
		h(w, r)
	})
}

// abort closes the connection without answering. Returning from the
// handler instead would make net/http send an empty 200, which a client
// whose close races with ours could take for an answer.
func abort(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// AddClient registers an API client (client credentials).
func (f *Fake) AddClient(clientID, secret string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.clients[clientID] = secret
}

// AddAccount registers a Jamf Pro user account for the Basic-auth token
// endpoint (the legacy APIUsername/APIPassword setup).
func (f *Fake) AddAccount(name, password string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.accounts[name] = password
}

// SetTokenLifetime sets the lifetime of tokens issued from now on.
func (f *Fake) SetTokenLifetime(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lifetime = d
}

// SetClock replaces the clock that decides when tokens expire; nil
// restores time.Now.
func (f *Fake) SetClock(now func() time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if now == nil {
		now = time.Now
	}
	f.now = now
}

// SetUserTokenOAuthShape makes the Basic-auth token endpoint answer
// {"access_token","token_type","expires_in"} instead of
// {"token","expires"}, the other variant a client must accept.
func (f *Fake) SetUserTokenOAuthShape(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.userLike = on
}

// TokensIssued returns how many tokens the fake has issued, of both
// kinds.
func (f *Fake) TokensIssued() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.issued
}

// RevokeTokens makes every token issued so far invalid, as a server
// restart or a rotated client secret does.
func (f *Fake) RevokeTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens = make(map[string]time.Time)
}

// Close releases held requests and stops the server.
func (f *Fake) Close() {
	f.Hold(0)
	f.Server.Close()
}
