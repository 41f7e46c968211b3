package enroll_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/certgate/certgate/ca"
	"github.com/certgate/certgate/ca/local"
	"github.com/certgate/certgate/enroll"
	"github.com/certgate/certgate/store"
	"github.com/certgate/certgate/store/bolt"
	"github.com/certgate/certgate/validate"
)

// The tests run against the real local CA and the real bbolt store, so what
// they check is what serve does. RSA key generation dominates their run
// time, so each CA and each device key is made once per test binary.

// caRoot holds the CAs; TestMain removes it.
var caRoot string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "certgate-enroll-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	caRoot = dir
	return m.Run()
}

// caFixture is a CA directory made by local.Init on first use.
type caFixture struct {
	bits int
	once sync.Once
	dir  string
	err  error
}

var (
	// testCA has small keys for speed.
	testCA = &caFixture{bits: 2048}
	// benchCA signs and decrypts with RSA-3072 like a production CA; its
	// root stays at 2048 bits because the root signs nothing per request.
	benchCA = &caFixture{bits: 3072}
)

// load returns the fixture's CA, creating the directory the first time.
func (f *caFixture) load(tb testing.TB) *local.CA {
	tb.Helper()
	f.once.Do(func() {
		f.dir = filepath.Join(caRoot, fmt.Sprintf("ca-%d", f.bits))
		f.err = local.Init(f.dir, local.InitOptions{Bits: f.bits, RootBits: 2048})
	})
	if f.err != nil {
		tb.Fatalf("local.Init: %v", f.err)
	}
	c, err := local.Load(f.dir, local.Options{PublicURL: "http://certgate.test:8080"})
	if err != nil {
		tb.Fatalf("local.Load: %v", err)
	}
	return c
}

// Device keys, generated once.
var (
	keysOnce sync.Once
	rsaKey   *rsa.PrivateKey // RSA-2048, what most SCEP clients send
	weakKey  *rsa.PrivateKey // RSA-1024, below every profile's floor
	ecKey    *ecdsa.PrivateKey
	keysErr  error
)

func deviceKeys(tb testing.TB) {
	tb.Helper()
	keysOnce.Do(func() {
		if rsaKey, keysErr = rsa.GenerateKey(rand.Reader, 2048); keysErr != nil {
			return
		}
		if weakKey, keysErr = rsa.GenerateKey(rand.Reader, 1024); keysErr != nil {
			return
		}
		ecKey, keysErr = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	})
	if keysErr != nil {
		tb.Fatalf("generate device keys: %v", keysErr)
	}
}

// newCSR returns a parsed CSR for cn with the given DNS SANs and an email
// SAN, signed by key.
func newCSR(tb testing.TB, key crypto.Signer, cn string, dns ...string) *x509.CertificateRequest {
	tb.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject:        pkix.Name{CommonName: cn, Organization: []string{"Example Corp"}},
		DNSNames:       dns,
		EmailAddresses: []string{cn + "@example.com"},
	}, key)
	if err != nil {
		tb.Fatalf("create CSR: %v", err)
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		tb.Fatalf("parse CSR: %v", err)
	}
	return csr
}

// Secrets of the "device" profile's static validator.
const (
	secret1 = "first-secret-0b5e"
	secret2 = "second-secret-9c1d"
)

// errMDMDown is what the "mdm" profile's validator always returns: a
// validator that cannot decide.
var errMDMDown = errors.New("mdm: api unreachable")

// env is one store, one CA and the profiles the tests enroll against.
type env struct {
	ca    *local.CA
	store *bolt.Store
}

func newEnv(tb testing.TB, f *caFixture) *env {
	tb.Helper()
	deviceKeys(tb)
	st, err := bolt.Open(filepath.Join(tb.TempDir(), "certgate.db"), bolt.Options{})
	if err != nil {
		tb.Fatalf("bolt.Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := st.Close(); err != nil {
			tb.Errorf("close store: %v", err)
		}
	})
	return &env{ca: f.load(tb), store: st}
}

// profiles returns "device" (static challenge) and "mdm" (a validator that
// is always unavailable), both with the default policy.
func (e *env) profiles(tb testing.TB) map[string]*enroll.Profile {
	tb.Helper()
	static, err := validate.NewStatic([]string{secret1, secret2})
	if err != nil {
		tb.Fatalf("NewStatic: %v", err)
	}
	down := validate.ValidatorFunc(func(context.Context, *validate.Request) (validate.Decision, error) {
		return validate.Decision{}, errMDMDown
	})
	return map[string]*enroll.Profile{
		"device": {Policy: e.policy(tb, "device"), Issuer: e.ca, Validator: static},
		"mdm":    {Policy: e.policy(tb, "mdm"), Issuer: e.ca, Validator: down},
	}
}

func (e *env) policy(tb testing.TB, name string) *ca.Profile {
	tb.Helper()
	p, err := ca.ProfileConfig{Name: name}.Build()
	if err != nil {
		tb.Fatalf("profile %s: %v", name, err)
	}
	return p
}

// service returns a Service over e's store (or over wrap of it) with
// e's profiles; mod may change the options further.
func (e *env) service(tb testing.TB, mod func(*enroll.Options)) *enroll.Service {
	tb.Helper()
	opts := enroll.Options{Profiles: e.profiles(tb), Store: e.store}
	if mod != nil {
		mod(&opts)
	}
	s, err := enroll.NewService(opts)
	if err != nil {
		tb.Fatalf("NewService: %v", err)
	}
	return s
}

// request is a first enrollment over SCEP for the "device" profile.
func request(csr *x509.CertificateRequest, challenge string) *enroll.Request {
	return &enroll.Request{
		Protocol:      "scep",
		Profile:       "device",
		CSR:           csr,
		RawCSR:        csr.Raw,
		Challenge:     challenge,
		TransactionID: "tx-" + csr.Subject.CommonName,
		RemoteAddr:    "192.0.2.10:40000",
	}
}

// issue enrolls a fresh device with the right challenge through a plain
// service, for cases that need a certificate certgate issued.
func (e *env) issue(tb testing.TB, cn string) *enroll.Result {
	tb.Helper()
	res, err := e.service(tb, nil).Enroll(context.Background(), request(newCSR(tb, ecKey, cn), secret1))
	if err != nil {
		tb.Fatalf("issue %s: %v", cn, err)
	}
	return res
}

// count returns how many records the store holds with status st.
func (e *env) count(tb testing.TB, st store.Status) int {
	tb.Helper()
	recs, err := e.store.Search(context.Background(), store.Query{Status: st, Limit: -1})
	if err != nil {
		tb.Fatalf("Search %s: %v", st, err)
	}
	return len(recs)
}

// selfSigned returns a certificate certgate never issued, with serial.
func selfSigned(tb testing.TB, serial *big.Int, cn string) *x509.Certificate {
	tb.Helper()
	tpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &ecKey.PublicKey, ecKey)
	if err != nil {
		tb.Fatalf("create self-signed certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatalf("parse self-signed certificate: %v", err)
	}
	return cert
}

// failingIssue is a store whose Issue fails, as a full disk would.
type failingIssue struct{ enroll.Recorder }

var errDiskFull = errors.New("store: bolt: issue: write: no space left on device")

func (failingIssue) Issue(context.Context, *store.CertRecord) error { return errDiskFull }

// conflictOnce is a store whose first Reserve reports a serial collision
// without writing anything, and which remembers every serial offered.
type conflictOnce struct {
	enroll.Recorder
	mu      sync.Mutex
	offered []*big.Int
}

func (c *conflictOnce) Reserve(ctx context.Context, r *store.CertRecord) error {
	c.mu.Lock()
	c.offered = append(c.offered, new(big.Int).Set(r.Serial))
	first := len(c.offered) == 1
	c.mu.Unlock()
	if first {
		return fmt.Errorf("store: bolt: reserve %s: serial already recorded: %w", r.SerialHex, store.ErrConflict)
	}
	return c.Recorder.Reserve(ctx, r)
}
