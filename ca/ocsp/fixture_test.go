package ocsp

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certgate/certgate/ca/ocsp/ocsptest"
	"github.com/certgate/certgate/store"
	"github.com/prometheus/client_golang/prometheus"
	xocsp "golang.org/x/crypto/ocsp"
)

// t0 is the fake clock's start; whole seconds, as responses state time.
var t0 = time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: t0} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// countingSigner counts signatures, to prove cache hits sign nothing, and
// runs hook (if set) before each, so a test can hold a signature.
type countingSigner struct {
	crypto.Signer
	n    *atomic.Int64
	hook *atomic.Pointer[func()]
}

func (s *countingSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	s.n.Add(1)
	if s.hook != nil {
		if h := s.hook.Load(); h != nil {
			(*h)()
		}
	}
	return s.Signer.Sign(r, digest, opts)
}

// testCA is an issuing CA for the tests. RSA like local.CA; its key is
// made once per test binary because RSA generation dominates run time.
type testCA struct {
	cert *x509.Certificate
	key  crypto.Signer
}

var (
	caOnce            sync.Once
	mainCA, foreignCA testCA
	expiringCA        testCA
)

func cas(t testing.TB) (main, foreign testCA) {
	t.Helper()
	caOnce.Do(func() {
		rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		mainCA = newTestCA(t, "Test Issuing CA", rsaKey, t0.Add(-24*time.Hour), t0.AddDate(5, 0, 0))
		expiringCA = newTestCA(t, "Expiring CA", rsaKey, t0.Add(-24*time.Hour), t0.Add(3*time.Hour))
		ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		foreignCA = newTestCA(t, "Foreign CA", ecKey, t0.Add(-24*time.Hour), t0.AddDate(5, 0, 0))
	})
	return mainCA, foreignCA
}

func newTestCA(t testing.TB, cn string, key crypto.Signer, notBefore, notAfter time.Time) testCA {
	tpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		SubjectKeyId:          []byte(cn),
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return testCA{cert: cert, key: key}
}

// issuer returns an IssueFunc that certifies responder keys with ca, as
// local.CA.IssueOCSPResponder does, at the time now returns. It counts
// its calls in n.
func (ca testCA) issuer(now func() time.Time, n *atomic.Int64) IssueFunc {
	return func(key crypto.Signer, validity time.Duration) (*x509.Certificate, error) {
		if n != nil {
			n.Add(1)
		}
		serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
		if err != nil {
			return nil, err
		}
		tpl := &x509.Certificate{
			SerialNumber: serial,
			Subject:      pkix.Name{CommonName: ca.cert.Subject.CommonName + " OCSP Responder"},
			NotBefore:    now().Add(-5 * time.Minute),
			NotAfter:     now().Add(validity),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning},
			ExtraExtensions: []pkix.Extension{
				{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 5}, Value: asn1.NullBytes},
			},
		}
		der, err := x509.CreateCertificate(rand.Reader, tpl, ca.cert, key.Public(), ca.key)
		if err != nil {
			return nil, err
		}
		return x509.ParseCertificate(der)
	}
}

// leaf returns a certificate with serial issued by ca, for
// ParseResponseForCert.
func (ca testCA) leaf(t testing.TB, serial *big.Int) *x509.Certificate {
	t.Helper()
	return &x509.Certificate{SerialNumber: serial, RawIssuer: ca.cert.RawSubject}
}

// env is a Responder with its fakes.
type env struct {
	t     testing.TB
	r     *Responder
	certs *ocsptest.Certs
	cache *ocsptest.Cache
	clock *clock
	signs atomic.Int64 // signatures by whatever key signs responses
	// signHook, if set, runs before every response signature.
	signHook atomic.Pointer[func()]
	issued   atomic.Int64 // delegated certificates issued
	ca       testCA
	reg      *prometheus.Registry
	mode     string
	signer   *Signer
}

type envOption func(*Options, *SignerConfig)

const (
	modeDelegated = "delegated"
	modeCA        = "ca"
)

// newEnv builds a Responder for mainCA in mode, with a fake store and
// cache, the fake clock and metrics.
func newEnv(t testing.TB, mode string, mods ...envOption) *env {
	t.Helper()
	main, _ := cas(t)
	e := &env{t: t, certs: &ocsptest.Certs{}, cache: &ocsptest.Cache{}, clock: newClock(), ca: main, mode: mode,
		reg: prometheus.NewRegistry()}
	cfg := SignerConfig{Name: "corp", Issuer: main.cert}
	switch mode {
	case modeCA:
		cfg.Key = &countingSigner{Signer: main.key, n: &e.signs, hook: &e.signHook}
	case modeDelegated:
		cfg.Issue = main.issuer(e.clock.Now, &e.issued)
	default:
		t.Fatalf("mode %q", mode)
	}
	opts := Options{Source: e.certs, Cache: e.cache, Now: e.clock.Now, Metrics: NewMetrics(e.reg)}
	for _, m := range mods {
		m(&opts, &cfg)
	}
	s, err := NewSigner(cfg)
	if err != nil {
		t.Fatalf("NewSigner: %v", err)
	}
	if mode == modeDelegated {
		// Wrap each generated key so tests can count its signatures.
		gen := s.rotator.genKey
		s.rotator.genKey = func() (crypto.Signer, error) {
			k, err := gen()
			if err != nil {
				return nil, err
			}
			return &countingSigner{Signer: k, n: &e.signs, hook: &e.signHook}, nil
		}
	}
	e.signer = s
	opts.CAs = append([]*Signer{s}, opts.CAs...)
	if e.r, err = New(opts); err != nil {
		t.Fatalf("New: %v", err)
	}
	return e
}

// signatures is the number of responses signed so far.
func (e *env) signatures() int64 { return e.signs.Load() }

// serials handed out by addCert.
var nextSerial atomic.Int64

// addCert records a fresh certificate with status st for CA "corp".
func (e *env) addCert(st store.Status) *big.Int {
	serial := big.NewInt(0x1000 + nextSerial.Add(1))
	rec := store.CertRecord{Serial: serial, Issuer: "corp", Status: st, NotBefore: t0.Add(-time.Hour), NotAfter: t0.AddDate(1, 0, 0)}
	if st == store.StatusRevoked {
		rec.RevokedAt, rec.RevocationReason = t0.Add(-time.Minute), 1
	}
	e.certs.Add(rec)
	return serial
}

// RFC 6960 §4.1.1 ASN.1 for building test requests with encoding/asn1,
// independently of the cryptobyte parser.
type (
	ocspRequest struct {
		TBSRequest        tbsRequest
		OptionalSignature asn1.RawValue `asn1:"explicit,tag:0,optional"`
	}
	tbsRequest struct {
		Version           int           `asn1:"explicit,tag:0,default:0,optional"`
		RequestorName     asn1.RawValue `asn1:"explicit,tag:1,optional"`
		RequestList       []singleRequest
		RequestExtensions []pkix.Extension `asn1:"explicit,tag:2,optional"`
	}
	singleRequest struct {
		ReqCert                 certID
		SingleRequestExtensions []pkix.Extension `asn1:"explicit,tag:0,optional"`
	}
)

// reqSpec describes an OCSPRequest to build.
type reqSpec struct {
	issuer  *x509.Certificate
	serial  *big.Int
	hash    asn1.ObjectIdentifier // zero: SHA-1
	nonce   []byte                // extnValue of a nonce extension
	singles int                   // zero: 1
	// mutate edits the request before encoding.
	mutate func(*ocspRequest)
}

// build encodes spec.
func (spec reqSpec) build(t testing.TB) []byte {
	t.Helper()
	h := hashSHA1
	if spec.hash == nil {
		spec.hash = oidSHA1
	} else if spec.hash.Equal(oidSHA256) {
		h = hashSHA256
	}
	hashes, err := computeIssuerHashes(spec.issuer)
	if err != nil {
		t.Fatal(err)
	}
	single := singleRequest{ReqCert: certID{
		HashAlgorithm:  pkix.AlgorithmIdentifier{Algorithm: spec.hash, Parameters: asn1.NullRawValue},
		IssuerNameHash: hashes[h].name,
		IssuerKeyHash:  hashes[h].key,
		SerialNumber:   spec.serial,
	}}
	var req ocspRequest
	for range max(1, spec.singles) {
		req.TBSRequest.RequestList = append(req.TBSRequest.RequestList, single)
	}
	if spec.nonce != nil {
		req.TBSRequest.RequestExtensions = []pkix.Extension{{Id: oidNonce, Value: spec.nonce}}
	}
	if spec.mutate != nil {
		spec.mutate(&req)
	}
	der, err := asn1.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// octets is a nonce extnValue: an OCTET STRING of n bytes (RFC 9654).
func octets(t testing.TB, n int) []byte {
	t.Helper()
	v, err := asn1.Marshal(bytes.Repeat([]byte{0xa5}, n))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func postReq(der []byte) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/ocsp", bytes.NewReader(der))
	req.Header.Set("Content-Type", contentTypeRequest)
	return req
}

func getReq(der []byte) *http.Request {
	return httptest.NewRequest(http.MethodGet, "/ocsp/"+url.PathEscape(base64.StdEncoding.EncodeToString(der)), nil)
}

func (e *env) do(req *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	e.r.ServeHTTP(w, req)
	return w
}

// parsed is a response decoded independently of encode.go.
type parsed struct {
	*xocsp.Response
	hashOID     asn1.ObjectIdentifier
	nameHash    []byte
	keyHash     []byte
	responseExt []pkix.Extension
}

// checkSigned verifies body as a signed response from ca about serial
// (x/crypto/ocsp checks the signature and the delegation) and decodes
// what x/crypto/ocsp does not expose.
func checkSigned(t testing.TB, body []byte, ca testCA, serial *big.Int) *parsed {
	t.Helper()
	resp, err := xocsp.ParseResponseForCert(body, ca.leaf(t, serial), ca.cert)
	if err != nil {
		t.Fatalf("ParseResponseForCert: %v", err)
	}
	var outer struct {
		Status asn1.Enumerated
		Bytes  struct {
			Type asn1.ObjectIdentifier
			DER  []byte
		} `asn1:"explicit,tag:0"`
	}
	var basic struct {
		TBS struct {
			ResponderID asn1.RawValue
			ProducedAt  time.Time `asn1:"generalized"`
			Responses   []struct {
				CertID     certID
				Status     asn1.RawValue
				ThisUpdate time.Time `asn1:"generalized"`
				NextUpdate time.Time `asn1:"generalized,explicit,tag:0,optional"`
			}
			Ext []pkix.Extension `asn1:"explicit,tag:1,optional"`
		}
		Alg   pkix.AlgorithmIdentifier
		Sig   asn1.BitString
		Certs []asn1.RawValue `asn1:"explicit,tag:0,optional"`
	}
	if _, err := asn1.Unmarshal(body, &outer); err != nil {
		t.Fatal(err)
	}
	if _, err := asn1.Unmarshal(outer.Bytes.DER, &basic); err != nil {
		t.Fatal(err)
	}
	if len(basic.TBS.Responses) != 1 {
		t.Fatalf("%d singleResponses, want 1", len(basic.TBS.Responses))
	}
	id := basic.TBS.Responses[0].CertID
	return &parsed{Response: resp, hashOID: id.HashAlgorithm.Algorithm, nameHash: id.IssuerNameHash, keyHash: id.IssuerKeyHash,
		responseExt: basic.TBS.Ext}
}
