package jamf_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	fakejamf "github.com/certgate/certgate/integration/fakes/jamf"
	"github.com/certgate/certgate/store"
	"github.com/certgate/certgate/validate"
	"github.com/certgate/certgate/validate/jamf"
)

const (
	clientID     = "certgate-api-client"
	clientSecret = "jamf-client-s3cret-value"
	apiUser      = "certgate-api-user"
	apiPassword  = "jamf-user-passw0rd-value"
)

// fakeClock is a settable clock shared by the checker and the fake.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a fake Jamf Pro and a DeviceChecker pointed at it.
type env struct {
	fake  *fakejamf.Fake
	clock *fakeClock
	cfg   jamf.CheckerConfig
	c     *jamf.DeviceChecker
}

// newEnv starts a fake and a checker; mod may change the config first.
func newEnv(t *testing.T, mod func(*jamf.CheckerConfig)) *env {
	t.Helper()
	f := fakejamf.New()
	t.Cleanup(f.Close)
	clk := newClock()
	f.SetClock(clk.Now)
	f.AddClient(clientID, clientSecret)
	f.AddAccount(apiUser, apiPassword)
	cfg := jamf.CheckerConfig{
		URL:          f.URL() + "/",
		ClientID:     clientID,
		ClientSecret: clientSecret,
		RootCAs:      f.CertPool(),
		Now:          clk.Now,
		Timeout:      5 * time.Second,
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := jamf.NewDeviceChecker(cfg)
	if err != nil {
		t.Fatalf("NewDeviceChecker: %v", err)
	}
	return &env{fake: f, clock: clk, cfg: cfg, c: c}
}

// secrets are the strings no error may contain: the credentials and
// every bearer token the fake saw.
func (e *env) secrets() []string {
	out := []string{clientSecret, apiPassword}
	for _, r := range e.fake.Requests() {
		if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && tok != "" {
			out = append(out, tok)
		}
	}
	return out
}

// assertNoSecret fails if err's text holds a secret or token.
func (e *env) assertNoSecret(t *testing.T, err error) {
	t.Helper()
	assertNotIn(t, err, e.secrets()...)
}

func assertNotIn(t *testing.T, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(err.Error(), s) {
			t.Errorf("error %q holds a secret, token or challenge", err)
		}
	}
}

func isRejection(err error) bool {
	var rej *validate.Rejection
	return errors.As(err, &rej)
}

var (
	oidCN = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidOU = asn1.ObjectIdentifier{2, 5, 4, 11}
	oidO  = asn1.ObjectIdentifier{2, 5, 4, 10}
)

// attr is one subject attribute, in CSR order.
type attr struct {
	oid   asn1.ObjectIdentifier
	value any
}

func cn(v string) attr { return attr{oidCN, v} }
func ou(v string) attr { return attr{oidOU, v} }

// newCSR returns a parsed CSR whose subject has attrs in that order and
// the given URI SANs.
func newCSR(t *testing.T, attrs []attr, uris ...string) *x509.CertificateRequest {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var name pkix.Name
	for _, a := range attrs {
		name.ExtraNames = append(name.ExtraNames, pkix.AttributeTypeAndValue{Type: a.oid, Value: a.value})
	}
	tmpl := &x509.CertificateRequest{Subject: name}
	for _, s := range uris {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		tmpl.URIs = append(tmpl.URIs, u)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		t.Fatal(err)
	}
	return csr
}

// memStore is an in-memory challenge store with the semantics of
// store.Challenges, and knobs for failures.
type memStore struct {
	mu        sync.Mutex
	m         map[string]store.Challenge // profile|hash
	conflicts int                        // next puts answer ErrConflict
	err       error                      // every put fails with it
	puts      int
}

func newMemStore() *memStore { return &memStore{m: make(map[string]store.Challenge)} }

func (s *memStore) PutChallenge(_ context.Context, c *store.Challenge) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.puts++
	if s.err != nil {
		return s.err
	}
	if s.conflicts > 0 {
		s.conflicts--
		return store.ErrConflict
	}
	k := c.Profile + "|" + c.Hash
	if _, ok := s.m[k]; ok {
		return store.ErrConflict
	}
	s.m[k] = *c
	return nil
}

func (s *memStore) ConsumeChallenge(_ context.Context, profile, hash string, now time.Time) (*store.Challenge, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := profile + "|" + hash
	c, ok := s.m[k]
	delete(s.m, k)
	if !ok || !now.Before(c.ExpiresAt) {
		return nil, store.ErrNotFound
	}
	return &c, nil
}

func (s *memStore) all() []store.Challenge {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []store.Challenge
	for _, c := range s.m {
		out = append(out, c)
	}
	return out
}

// basicAuth decodes an Authorization: Basic header.
func basicAuth(h string) (user, pass string, ok bool) {
	r := &http.Request{Header: http.Header{"Authorization": {h}}}
	return r.BasicAuth()
}
