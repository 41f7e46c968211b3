package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"io"
	"math/big"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smallstep/pkcs7"
)

// fakeEST is a minimal EST simpleenroll server whose answers a test
// chooses, so that each of estload's acceptance checks can be seen to
// reject something. It also checks that estload's requests are well formed.
type fakeEST struct {
	t      *testing.T
	path   string // the simpleenroll path it expects
	pass   string // the Basic password it wants (any user name)
	answer string // ok, same-serial, wrong-key, garbage, signed
	cert   *x509.Certificate
	key    *ecdsa.PrivateKey
	serial atomic.Int64
	hits   atomic.Int64
}

func newFakeEST(t *testing.T, path, pass, answer string) *fakeEST {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "fake EST CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeEST{t: t, path: path, pass: pass, answer: answer, cert: cert, key: key}
	f.serial.Store(100)
	return f
}

func (f *fakeEST) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.hits.Add(1)
	if r.Method != http.MethodPost || r.URL.Path != f.path {
		f.t.Errorf("fake EST: %s %s, want POST %s", r.Method, r.URL.Path, f.path)
		http.NotFound(w, r)
		return
	}
	if ct, cte := r.Header.Get("Content-Type"), r.Header.Get("Content-Transfer-Encoding"); ct != "application/pkcs10" || cte != "base64" {
		f.t.Errorf("fake EST: Content-Type %q, Content-Transfer-Encoding %q", ct, cte)
	}
	if _, pass, ok := r.BasicAuth(); !ok || pass != f.pass {
		w.Header().Set("WWW-Authenticate", `Basic realm="fake"`)
		http.Error(w, "authorization required", http.StatusUnauthorized)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	der, err := base64.StdEncoding.DecodeString(string(body))
	if err != nil {
		f.t.Errorf("fake EST: body is not base64: %v", err)
		http.Error(w, "bad base64", http.StatusBadRequest)
		return
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err == nil {
		err = csr.CheckSignature()
	}
	if err != nil {
		f.t.Errorf("fake EST: bad CSR: %v", err)
		http.Error(w, "bad CSR", http.StatusBadRequest)
		return
	}
	p7, err := f.answerFor(csr)
	if err != nil {
		f.t.Errorf("fake EST: %v", err)
		http.Error(w, "fake EST broke", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/pkcs7-mime; smime-type=certs-only")
	w.Header().Set("Content-Transfer-Encoding", "base64")
	_, _ = io.WriteString(w, wrap64(base64.StdEncoding.EncodeToString(p7)))
}

func (f *fakeEST) answerFor(csr *x509.CertificateRequest) ([]byte, error) {
	if f.answer == "garbage" {
		return []byte("not a PKCS#7"), nil
	}
	pub := csr.PublicKey
	if f.answer == "wrong-key" {
		other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		pub = other.Public()
	}
	serial := f.serial.Add(1)
	if f.answer == "same-serial" {
		serial = 7
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      csr.Subject,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, f.cert, pub, f.key)
	if err != nil {
		return nil, err
	}
	if f.answer == "signed" {
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, err
		}
		sd, err := pkcs7.NewSignedData([]byte("content"))
		if err != nil {
			return nil, err
		}
		if err := sd.AddSigner(f.cert, crypto.Signer(f.key), pkcs7.SignerInfoConfig{}); err != nil {
			return nil, err
		}
		sd.AddCertificate(cert)
		return sd.Finish()
	}
	// The chain after the leaf, as a server may send it: estload must find
	// the certificate for its key, not take the first one.
	return pkcs7.DegenerateCertificate(append(f.cert.Raw, der...))
}

// wrap64 breaks base64 into 64-character lines, as some EST servers send it.
func wrap64(s string) string {
	var b strings.Builder
	for len(s) > 64 {
		b.WriteString(s[:64] + "\r\n")
		s = s[64:]
	}
	b.WriteString(s)
	return b.String()
}
