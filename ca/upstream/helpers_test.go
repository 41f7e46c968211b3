package upstream

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
	"math/big"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/smallstep/scep/x509util"
)

// testCA is a CA for fakes and peers.
type testCA struct {
	cert *x509.Certificate
	key  crypto.Signer
}

var (
	rsaKeysMu sync.Mutex
	rsaKeys   []*rsa.PrivateKey
)

// rsaKey hands out RSA-2048 keys from a small pool: generating them is
// the slowest part of these tests, and distinct tests need not distinct
// keys except where a test says so by calling freshRSAKey.
func rsaKey(t testing.TB, i int) *rsa.PrivateKey {
	t.Helper()
	rsaKeysMu.Lock()
	defer rsaKeysMu.Unlock()
	for len(rsaKeys) <= i {
		rsaKeys = append(rsaKeys, freshRSAKey(t))
	}
	return rsaKeys[i]
}

func freshRSAKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func serial(t testing.TB) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func mustCert(t testing.TB, tmpl, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) *x509.Certificate {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// newRootCA makes a self-signed RSA CA whose key is pool key i.
func newRootCA(t testing.TB, cn string, i int) *testCA {
	t.Helper()
	key := rsaKey(t, i)
	tmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
	}
	return &testCA{cert: mustCert(t, tmpl, tmpl, key.Public(), key), key: key}
}

// subCA makes an intermediate CA under ca with pool key i.
func (ca *testCA) subCA(t testing.TB, cn string, i int) *testCA {
	t.Helper()
	key := rsaKey(t, i)
	tmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
	}
	return &testCA{cert: mustCert(t, tmpl, ca.cert, key.Public(), ca.key), key: key}
}

// issue signs a leaf for pub; ku and eku shape RA and TLS certificates.
func (ca *testCA) issue(t testing.TB, cn string, pub crypto.PublicKey, ku x509.KeyUsage, eku ...x509.ExtKeyUsage) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		BasicConstraintsValid: true,
		KeyUsage:              ku,
		ExtKeyUsage:           eku,
	}
	return mustCert(t, tmpl, ca.cert, pub, ca.key)
}

// issueTLS signs a TLS server certificate for an IP address.
func (ca *testCA) issueTLS(t testing.TB, ip string, pub crypto.PublicKey) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: ip},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:           []net.IP{net.ParseIP(ip)},
	}
	return mustCert(t, tmpl, ca.cert, pub, ca.key)
}

// mustEST builds an EST forwarder closed at the end of the test.
func mustEST(t testing.TB, cfg ESTConfig) *EST {
	t.Helper()
	f, err := NewEST(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return f
}

// selfSigned makes the gateway's RA certificate from pool key i.
func selfSigned(t testing.TB, cn string, i int) (*x509.Certificate, *rsa.PrivateKey) {
	t.Helper()
	key := rsaKey(t, i)
	tmpl := &x509.Certificate{
		SerialNumber: serial(t),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
	}
	return mustCert(t, tmpl, tmpl, key.Public(), key), key
}

func mustECKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// deviceCSR is a device's CSR with an ECDSA key, and a challenge if set.
func deviceCSR(t testing.TB, cn, challenge string) (*x509.CertificateRequest, []byte) {
	t.Helper()
	return csrFor(t, cn, challenge, mustECKey(t))
}

func csrFor(t testing.TB, cn, challenge string, key crypto.Signer) (*x509.CertificateRequest, []byte) {
	t.Helper()
	tmpl := &x509util.CertificateRequest{
		CertificateRequest: x509.CertificateRequest{Subject: pkix.Name{CommonName: cn}, DNSNames: []string{cn + ".example"}},
		ChallengePassword:  challenge,
	}
	raw, err := x509util.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := x509.ParseCertificateRequest(raw)
	if err != nil {
		t.Fatal(err)
	}
	return csr, raw
}

// fakeClock is a settable clock; sleep on it advances it at once.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

// newFakeClock starts at the real time, so that certificates made for the
// test are valid on it.
func newFakeClock() *fakeClock { return &fakeClock{now: time.Now()} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.Advance(d)
	return nil
}

// settleGoroutines waits for the goroutine count to fall back to base:
// HTTP servers and transports end their goroutines asynchronously after
// Close. It fails the test if the count stays above base.
func settleGoroutines(t *testing.T, base int) {
	t.Helper()
	var n int
	for range 500 {
		runtime.Gosched()
		if n = runtime.NumGoroutine(); n <= base {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	t.Fatalf("goroutines: %d, want at most %d as before the test\n%s", n, base, buf)
}

// wantErr checks err's class: "" (nil), "pending", "unavailable",
// "rejected:<reason>".
func wantErr(t *testing.T, err error, want string) {
	t.Helper()
	var rej *Rejected
	got := ""
	switch {
	case err == nil:
	case errors.Is(err, ErrPending):
		got = "pending"
	case errors.Is(err, ErrUnavailable):
		got = "unavailable"
	case errors.As(err, &rej):
		got = "rejected:" + rej.Reason.String()
	default:
		got = "other"
	}
	if got != want {
		t.Fatalf("error %v: class %q, want %q", err, got, want)
	}
}
