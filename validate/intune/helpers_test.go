package intune_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smallstep/scep/x509util"

	"github.com/certgate/certgate/integration/fakes/fakehttp"
	"github.com/certgate/certgate/integration/fakes/microsoft"
	"github.com/certgate/certgate/validate"
	"github.com/certgate/certgate/validate/intune"
)

// fakeClock is a settable clock shared by the validator and the fakes.
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

// env is a fake Microsoft cloud and a Validator pointed at it.
type env struct {
	cloud *microsoft.Cloud
	clock *fakeClock
	cfg   intune.Config
	v     *intune.Validator
}

// newEnv starts a cloud and a validator; mod may change the config
// before New.
func newEnv(t *testing.T, mod func(*intune.Config)) *env {
	t.Helper()
	c := microsoft.New()
	t.Cleanup(c.Close)
	clk := newClock()
	c.Entra.SetClock(clk.Now)
	c.Intune.SetClock(clk.Now)
	cfg := intune.Config{
		TenantID:     c.Tenant,
		ClientID:     c.ClientID,
		ClientSecret: c.ClientSecret,
		AuthorityURL: c.Entra.URL() + "/",
		GraphURL:     c.Graph.URL() + "/",
		RootCAs:      c.CertPool(),
		Now:          clk.Now,
		CallerInfo:   "certgate-test/1.0",
		Timeout:      5 * time.Second,
	}
	if mod != nil {
		mod(&cfg)
	}
	v, err := intune.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return &env{cloud: c, clock: clk, cfg: cfg, v: v}
}

// csrOpts describe a test CSR.
type csrOpts struct {
	challenge string
	cn        string
	uris      []string
	dns       []string
}

// newCSR returns a DER CSR with a challengePassword and its parse.
func newCSR(t *testing.T, o csrOpts) ([]byte, *x509.CertificateRequest) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509util.CertificateRequest{ChallengePassword: o.challenge}
	tmpl.Subject = pkix.Name{CommonName: o.cn}
	tmpl.DNSNames = o.dns
	for _, s := range o.uris {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		tmpl.URIs = append(tmpl.URIs, u)
	}
	der, err := x509util.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		t.Fatal(err)
	}
	return der, csr
}

const deviceGUID = "2b7c3a51-9d0e-4f3a-8a1b-6c5d4e3f2a10"

// request builds a validate.Request for a CSR holding challenge and the
// Intune device-ID URI SAN.
func request(t *testing.T, challenge, txID string) *validate.Request {
	t.Helper()
	der, csr := newCSR(t, csrOpts{challenge: challenge, cn: "device", uris: []string{"IntuneDeviceId://" + deviceGUID}})
	return &validate.Request{Profile: "intune", Protocol: "scep", Challenge: challenge,
		TransactionID: txID, CSR: csr, RawCSR: der}
}

// secrets are the strings no error may contain: the client secret and
// every bearer token the fakes saw.
func (e *env) secrets() []string {
	out := []string{e.cloud.ClientSecret}
	for _, s := range []*fakehttp.Server{e.cloud.Graph.Server, e.cloud.Intune.Server} {
		for _, r := range s.Requests() {
			if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && tok != "" {
				out = append(out, tok)
			}
		}
	}
	return out
}

// assertNoSecret fails if err's text holds a secret or token.
func (e *env) assertNoSecret(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range e.secrets() {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error %q holds a secret or token", err)
		}
	}
}

// timeoutFor gives cases that make a fake hang a short per-call timeout, so
// they end quickly, and every other case the default: a 300 ms budget for a
// token, a discovery and two TLS handshakes fails spuriously under -race on
// a loaded machine.
func timeoutFor(caseName string) time.Duration {
	if strings.Contains(caseName, "timeout") || strings.Contains(caseName, "slow") {
		return 300 * time.Millisecond
	}
	return 5 * time.Second
}
