package est

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/smallstep/scep/x509util"

	"github.com/certgate/certgate/enroll"
)

// testSecret is the challenge the fake enroller accepts.
const testSecret = "s3cret-challenge"

// testCA is a quick ECDSA CA for the fake enroller and client certificates.
type testCA struct {
	cert *x509.Certificate
	key  crypto.Signer
}

func newTestCA(t testing.TB, cn string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key}
}

// issue signs a leaf for csr's key and subject, with csr's SANs.
func (c *testCA) issue(t testing.TB, csr *x509.CertificateRequest) *x509.Certificate {
	t.Helper()
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tpl := &x509.Certificate{
		SerialNumber:   serial,
		RawSubject:     csr.RawSubject,
		DNSNames:       csr.DNSNames,
		EmailAddresses: csr.EmailAddresses,
		NotBefore:      time.Now().Add(-time.Minute),
		NotAfter:       time.Now().Add(time.Hour),
		KeyUsage:       x509.KeyUsageDigitalSignature,
		ExtKeyUsage:    []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, c.cert, csr.PublicKey, c.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return cert
}

// fakeEnroller stands in for enroll.Service: it accepts testSecret, edge
// authorisation or a renewal, and signs with its CA. It records the last
// request so tests can see what the edge handed over.
type fakeEnroller struct {
	t        testing.TB
	ca       *testCA
	profiles map[string]bool
	fail     *enroll.Failure

	mu   sync.Mutex
	last *enroll.Request
}

func (f *fakeEnroller) HasProfile(name string) bool { return f.profiles[name] }

func (f *fakeEnroller) Enroll(_ context.Context, r *enroll.Request) (*enroll.Result, error) {
	f.mu.Lock()
	f.last = r
	f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	if r.RenewalOf == nil && r.AuthorizedBy == "" && r.Challenge != testSecret {
		return nil, &enroll.Failure{Reason: enroll.Unauthorized, Detail: "wrong challenge"}
	}
	if err := r.CSR.CheckSignature(); err != nil {
		return nil, &enroll.Failure{Reason: enroll.BadMessageCheck, Detail: "CSR signature does not verify"}
	}
	return &enroll.Result{Cert: f.ca.issue(f.t, r.CSR), Chain: []*x509.Certificate{f.ca.cert}}, nil
}

func (f *fakeEnroller) lastRequest() *enroll.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last
}

// fixture is a running EST server over TLS with a fake enroller.
type fixture struct {
	srv      *httptest.Server
	est      *Server
	enroller *fakeEnroller
	// clients is the CA of trusted client certificates (registrars).
	clients *testCA
	// upstream issues the "upstream" profile's certificates.
	upstream *testCA
	roots    *x509.CertPool
}

func newFixture(t *testing.T, maxVersion uint16) *fixture {
	t.Helper()
	issuing := newTestCA(t, "Test Issuing CA")
	clients := newTestCA(t, "Test Registrar CA")
	upstream := newTestCA(t, "Test Upstream CA")
	fe := &fakeEnroller{t: t, ca: issuing, profiles: map[string]bool{
		"default": true, "keygen": true, "bound": true, "registrar": true, "noattrs": true,
		"upstream": true, "upstreamdown": true,
	}}
	trusted := x509.NewCertPool()
	trusted.AddCert(clients.cert)
	s, err := New(Options{
		Enroller:       fe,
		CACerts:        []*x509.Certificate{issuing.cert},
		DefaultProfile: "default",
		Profiles: map[string]Profile{
			"keygen":    {ServerKeyGen: &KeySpec{Type: "ecdsa", Curve: "P-256"}},
			"bound":     {RequireChannelBinding: true},
			"registrar": {ReenrollByRegistrar: true},
			"noattrs":   {CSRAttrs: []asn1.ObjectIdentifier{}},
			"upstream": {Chain: func(context.Context) ([]*x509.Certificate, error) {
				return []*x509.Certificate{upstream.cert}, nil
			}},
			"upstreamdown": {Chain: func(context.Context) ([]*x509.Certificate, error) {
				return nil, errors.New("dial tcp 192.0.2.1:443: connection refused")
			}},
		},
		TrustedClientCAs: trusted,
		MaxBodyBytes:     8 << 10,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewUnstartedServer(s.Handler())
	srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert, MinVersion: tls.VersionTLS12, MaxVersion: maxVersion}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	return &fixture{srv: srv, est: s, enroller: fe, clients: clients, upstream: upstream, roots: roots}
}

// call is one EST request.
type call struct {
	method, path string
	ctype        string
	body         []byte
	user, pass   string
	clientCert   *tls.Certificate
	// csr builds the CSR from this connection's channel bindings (tls-unique,
	// tls-exporter); it overrides body.
	csr func(bindings [][]byte) []byte
}

// do sends c over a fresh TLS connection, so a CSR can carry that
// connection's channel binding.
func (f *fixture) do(t *testing.T, c call) *http.Response {
	t.Helper()
	cfg := &tls.Config{RootCAs: f.roots, MinVersion: tls.VersionTLS12}
	if c.clientCert != nil {
		cfg.Certificates = []tls.Certificate{*c.clientCert}
	}
	conn, err := tls.Dial("tcp", f.srv.Listener.Addr().String(), cfg)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	body := c.body
	if c.csr != nil {
		cs := conn.ConnectionState()
		body = []byte(base64.StdEncoding.EncodeToString(c.csr(channelBindings(&cs))))
	}
	req, err := http.NewRequest(c.method, "https://"+f.srv.Listener.Addr().String()+c.path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if c.ctype != "" {
		req.Header.Set("Content-Type", c.ctype)
	}
	if c.user != "" || c.pass != "" {
		req.SetBasicAuth(c.user, c.pass)
	}
	if err := req.Write(conn); err != nil {
		t.Fatalf("write request: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	return resp
}

// csrOpts shapes a test CSR.
type csrOpts struct {
	cn        string
	dns       []string
	challenge string
}

func newCSR(t testing.TB, key crypto.Signer, o csrOpts) []byte {
	t.Helper()
	der, err := x509util.CreateCertificateRequest(rand.Reader, &x509util.CertificateRequest{
		CertificateRequest: x509.CertificateRequest{Subject: pkix.Name{CommonName: o.cn}, DNSNames: o.dns},
		ChallengePassword:  o.challenge,
	}, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
