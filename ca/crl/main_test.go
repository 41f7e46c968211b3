package crl

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certgate/certgate/ca"
	"github.com/certgate/certgate/ca/local"
	"github.com/certgate/certgate/store"
	"github.com/certgate/certgate/store/bolt"
)

// caDir holds one CA made by local.Init, shared by every test: RSA key
// generation dominates the run time.
var caDir string

const (
	testCAName = "test-ca"
	// testPublicURL has a trailing slash on purpose: ca/local trims it,
	// and the IDP must come out the same.
	testPublicURL = "http://certgate.test:8080/"
	wantCDP       = "http://certgate.test:8080/crl/test-ca.crl"
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "certgate-crl-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	caDir = filepath.Join(tmp, "ca")
	if err := local.Init(caDir, local.InitOptions{Bits: 2048, RootBits: 2048}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

func loadCA(t testing.TB) *local.CA {
	t.Helper()
	c, err := local.Load(caDir, local.Options{Name: testCAName, PublicURL: testPublicURL})
	if err != nil {
		t.Fatalf("local.Load: %v", err)
	}
	return c
}

// issueLeaf has the CA sign a real leaf, whose CRL distribution point the
// CRL's IDP must match.
func issueLeaf(t testing.TB, c *local.CA, cn string) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn}}, key)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ca.ProfileConfig{Name: "test"}.Build()
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.Prepare(context.Background(), csr, p)
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	cert, err := c.Sign(context.Background(), d)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return cert
}

// openBolt opens a store at path, closed when t ends.
func openBolt(t testing.TB, path string) *bolt.Store {
	t.Helper()
	s, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatalf("bolt.Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// clock is a settable Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Now().UTC().Truncate(time.Second)}
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// record stores a certificate of issuer as issued, then revokes it with
// reason at revokedAt unless reason is negative.
func record(t testing.TB, st store.Store, issuer string, serial *big.Int, notAfter time.Time, reason int, revokedAt time.Time) {
	t.Helper()
	ctx := context.Background()
	r := &store.CertRecord{
		Serial: serial, Issuer: issuer, Subject: "CN=device", CommonName: "device",
		NotBefore: notAfter.Add(-365 * 24 * time.Hour), NotAfter: notAfter, Profile: "test", Protocol: "scep",
	}
	if err := st.Reserve(ctx, r); err != nil {
		t.Fatalf("Reserve %x: %v", serial, err)
	}
	r.DER = []byte{0x30, 0x00}
	if err := st.Issue(ctx, r); err != nil {
		t.Fatalf("Issue %x: %v", serial, err)
	}
	if reason < 0 {
		return
	}
	if _, err := st.Revoke(ctx, serial, reason, revokedAt); err != nil {
		t.Fatalf("Revoke %x: %v", serial, err)
	}
}

// options are Options for the fixture CA over st, with clk's time.
func options(c *local.CA, st *bolt.Store, clk *clock) Options {
	return Options{CA: c, PublicURL: testPublicURL, Source: st, Cache: st, Numbers: st, Now: clk.now}
}

// parse parses a CRL and checks it is signed by issuer.
func parse(t testing.TB, der []byte, issuer *x509.Certificate) *x509.RevocationList {
	t.Helper()
	rl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatalf("ParseRevocationList: %v", err)
	}
	if err := rl.CheckSignatureFrom(issuer); err != nil {
		t.Fatalf("CheckSignatureFrom: %v", err)
	}
	return rl
}

// testIssuer is an Issuer made on the spot: an ECDSA CA is cheap to
// generate, for tests that need a second CA.
type testIssuer struct {
	name string
	cert *x509.Certificate
	key  crypto.Signer
}

func (i *testIssuer) Name() string                   { return i.name }
func (i *testIssuer) Certificate() *x509.Certificate { return i.cert }
func (i *testIssuer) Signer() crypto.Signer          { return i.key }

func newTestIssuer(t testing.TB, name string, mod func(*x509.Certificate)) *testIssuer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		SubjectKeyId:          []byte{1, 2, 3, 4},
	}
	if mod != nil {
		mod(tpl)
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testIssuer{name: name, cert: cert, key: key}
}

// memSource is a RevokedSource over a fixed slice that can be told to
// fail.
type memSource struct {
	mu   sync.Mutex
	recs []*store.CertRecord
	err  error
}

func (m *memSource) Search(ctx context.Context, q store.Query) ([]*store.CertRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return nil, m.err
	}
	return m.recs, nil
}

func (m *memSource) fail(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.err = err
}

// counter is an in-memory store.Sequencer.
type counter struct{ n atomic.Uint64 }

func (c *counter) NextSequence(ctx context.Context, name string) (uint64, error) {
	return c.n.Add(1), nil
}

// errSource is what a failing store returns in these tests.
var errSource = errors.New("disk on fire")

// syncBuffer is a log sink safe for the Run goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
