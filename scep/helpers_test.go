package scep

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/smallstep/pkcs7"
	smallscep "github.com/smallstep/scep"
	"github.com/smallstep/scep/x509util"

	"github.com/certgate/certgate/enroll"
)

// fakeEnroller signs whatever it is asked with the test CA, unless told to
// fail, and remembers the requests it saw.
type fakeEnroller struct {
	ca   *testCA
	fail *enroll.Failure
	// hold makes PKCSReqs pending; a later poll gets the held CSR signed.
	hold bool
	held *x509.CertificateRequest

	mu   sync.Mutex
	seen []*enroll.Request
}

func (f *fakeEnroller) HasProfile(name string) bool { return name == "default" || name == "wifi" }

func (f *fakeEnroller) Enroll(_ context.Context, r *enroll.Request) (*enroll.Result, error) {
	f.mu.Lock()
	f.seen = append(f.seen, r)
	f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	if r.Poll {
		f.mu.Lock()
		held := f.held
		f.mu.Unlock()
		if held == nil {
			return nil, &enroll.Failure{Reason: enroll.BadCertID, Detail: "nothing held"}
		}
		return &enroll.Result{Cert: f.ca.sign(f.ca.t, held.Subject.CommonName, held.PublicKey, time.Hour)}, nil
	}
	if f.hold {
		f.mu.Lock()
		f.held = r.CSR
		f.mu.Unlock()
		return nil, &enroll.Failure{Reason: enroll.Pending, Detail: "held", RequestID: "r1"}
	}
	cert := f.ca.sign(f.ca.t, r.CSR.Subject.CommonName, r.CSR.PublicKey, time.Hour)
	return &enroll.Result{Cert: cert}, nil
}

func (f *fakeEnroller) last() *enroll.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.seen) == 0 {
		return nil
	}
	return f.seen[len(f.seen)-1]
}

type testCA struct {
	t    testing.TB
	cert *x509.Certificate
	key  *rsa.PrivateKey
}

var (
	keyOnce sync.Once
	keys    []*rsa.PrivateKey
)

// testKeys returns a few RSA-2048 keys generated once per test binary.
func testKeys(t testing.TB) []*rsa.PrivateKey {
	keyOnce.Do(func() {
		for i := 0; i < 3; i++ {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			keys = append(keys, k)
		}
	})
	return keys
}

func newTestCA(t testing.TB) *testCA {
	key := testKeys(t)[0]
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "test SCEP CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{t: t, cert: cert, key: key}
}

func (c *testCA) sign(t testing.TB, cn string, pub any, validity time.Duration) *x509.Certificate {
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(validity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, pub, c.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return cert
}

func newTestServer(t testing.TB, enr Enroller, ca *testCA) *Server {
	s, err := New(Options{Enroller: enr, RACert: ca.cert, RAKey: ca.key, DefaultProfile: "default", MaxBodyBytes: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// client is a device: a key and the certificate it signs requests with.
type client struct {
	key  *rsa.PrivateKey
	cert *x509.Certificate
}

func newClient(t testing.TB) *client {
	key := testKeys(t)[1]
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(42),
		Subject:      pkix.Name{CommonName: "device self-signed"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &client{key: key, cert: cert}
}

// request builds a pkiMessage as a smallstep/scep client would.
func (c *client) request(t testing.TB, ca *testCA, typ smallscep.MessageType, cn, challenge string) []byte {
	csrDER, err := x509util.CreateCertificateRequest(rand.Reader, &x509util.CertificateRequest{
		CertificateRequest: x509.CertificateRequest{Subject: pkix.Name{CommonName: cn}},
		ChallengePassword:  challenge,
	}, c.key)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := x509.ParseCertificateRequest(csrDER)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := smallscep.NewCSRRequest(csr, &smallscep.PKIMessage{
		MessageType: typ,
		Recipients:  []*x509.Certificate{ca.cert},
		SignerKey:   c.key,
		SignerCert:  c.cert,
	})
	if err != nil {
		t.Fatal(err)
	}
	return msg.Raw
}

// parseReply verifies a CertRep as a client would and returns it decrypted.
func (c *client) parseReply(t testing.TB, ca *testCA, der []byte) *smallscep.PKIMessage {
	t.Helper()
	rep, err := smallscep.ParsePKIMessage(der, smallscep.WithCACerts([]*x509.Certificate{ca.cert}))
	if err != nil {
		t.Fatalf("client cannot parse CertRep: %v", err)
	}
	if rep.PKIStatus == smallscep.SUCCESS {
		if err := rep.DecryptPKIEnvelope(c.cert, c.key); err != nil {
			t.Fatalf("client cannot decrypt CertRep: %v", err)
		}
	}
	return rep
}

// withCipher sets pkcs7's global request cipher for one test; tests that
// use it must not run in parallel.
func withCipher(t testing.TB, alg int) {
	old := pkcs7.ContentEncryptionAlgorithm
	pkcs7.ContentEncryptionAlgorithm = alg
	t.Cleanup(func() { pkcs7.ContentEncryptionAlgorithm = old })
}
