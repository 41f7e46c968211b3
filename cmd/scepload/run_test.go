package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"io"
	"maps"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smallstep/pkcs7"
	"github.com/smallstep/scep"
)

func TestMain(m *testing.M) {
	pkcs7.ContentEncryptionAlgorithm = pkcs7.EncryptionAlgorithmAES256CBC
	os.Exit(m.Run())
}

// fakeCA is a minimal SCEP server whose answers a test chooses, so that
// each of scepload's acceptance checks can be seen to reject something.
type fakeCA struct {
	t      *testing.T
	cert   *x509.Certificate
	key    *rsa.PrivateKey
	answer string // success, same-serial, wrong-key, failure, garbage, http-500
	serial atomic.Int64
}

func newFakeCA(t *testing.T, answer string) *fakeCA {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "fake CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageKeyEncipherment,
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
	f := &fakeCA{t: t, cert: cert, key: key, answer: answer}
	f.serial.Store(100)
	return f
}

func (f *fakeCA) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Query().Get("operation") {
	case "GetCACert":
		w.Header().Set("Content-Type", "application/x-x509-ca-cert")
		_, _ = w.Write(f.cert.Raw)
		return
	case "PKIOperation":
	default:
		http.Error(w, "bad operation", http.StatusBadRequest)
		return
	}
	var der []byte
	var err error
	if r.Method == http.MethodGet {
		der, err = base64.StdEncoding.DecodeString(r.URL.Query().Get("message"))
	} else {
		der, err = io.ReadAll(r.Body)
	}
	if err != nil {
		http.Error(w, "bad message", http.StatusBadRequest)
		return
	}
	rep, err := f.answerFor(der)
	if err != nil {
		f.t.Errorf("fake CA: %v", err)
		http.Error(w, "fake CA broke", http.StatusInternalServerError)
		return
	}
	if rep == nil {
		http.Error(w, "as asked", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/x-pki-message")
	_, _ = w.Write(rep)
}

func (f *fakeCA) answerFor(der []byte) ([]byte, error) {
	switch f.answer {
	case "garbage":
		return []byte("not a CertRep"), nil
	case "http-500":
		return nil, nil
	}
	msg, err := scep.ParsePKIMessage(der)
	if err != nil {
		return nil, err
	}
	if err := msg.DecryptPKIEnvelope(f.cert, f.key); err != nil {
		return nil, err
	}
	if f.answer == "failure" {
		rep, err := msg.Fail(f.cert, f.key, scep.BadRequest)
		if err != nil {
			return nil, err
		}
		return rep.Raw, nil
	}
	pub := msg.CSR.PublicKey
	if f.answer == "wrong-key" {
		other, err := rsa.GenerateKey(rand.Reader, 1024)
		if err != nil {
			return nil, err
		}
		pub = &other.PublicKey
	}
	serial := f.serial.Add(1)
	if f.answer == "same-serial" {
		serial = 7
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      msg.CSR.Subject,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	crtDER, err := x509.CreateCertificate(rand.Reader, tmpl, f.cert, pub, f.key)
	if err != nil {
		return nil, err
	}
	crt, err := x509.ParseCertificate(crtDER)
	if err != nil {
		return nil, err
	}
	rep, err := msg.Success(f.cert, f.key, crt)
	if err != nil {
		return nil, err
	}
	return rep.Raw, nil
}

func TestRun(t *testing.T) {
	tests := []struct {
		name     string
		answer   string
		useGET   bool
		wantOK   int
		wantFail map[string]int
		wantDups int
	}{
		{"ok/success over POST", "success", false, 4, map[string]int{}, 0},
		{"ok/success over GET", "success", true, 4, map[string]int{}, 0},
		{"ok/repeated serials are counted but still OK", "same-serial", false, 4, map[string]int{}, 3},
		{"fail/FAILURE CertRep names its failInfo", "failure", false, 0, map[string]int{"failure/badRequest": 4}, 0},
		{"fail/certificate for another key", "wrong-key", false, 0, map[string]int{"key-mismatch": 4}, 0},
		{"fail/unparsable CertRep", "garbage", false, 0, map[string]int{"parse": 4}, 0},
		{"fail/HTTP error status", "http-500", false, 0, map[string]int{"http-500": 4}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(newFakeCA(t, tt.answer))
			defer srv.Close()
			base, err := url.Parse(srv.URL + "/scep")
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			c, err := newClient(ctx, srv.Client(), base, "secret", tt.useGET)
			if err != nil {
				t.Fatalf("newClient: %v", err)
			}
			res, err := run(ctx, c, plan{n: 4, concurrency: 2, keyBits: 1024, keys: 2})
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			if res.total != 4 || res.ok != tt.wantOK {
				t.Errorf("total %d ok %d, want 4 and %d (failures %v)", res.total, res.ok, tt.wantOK, res.failures)
			}
			if !maps.Equal(res.failures, tt.wantFail) {
				t.Errorf("failures = %v, want %v", res.failures, tt.wantFail)
			}
			if res.duplicateSerials != tt.wantDups {
				t.Errorf("duplicate serials = %d, want %d", res.duplicateSerials, tt.wantDups)
			}
			if len(res.latencies) != tt.wantOK {
				t.Errorf("%d latencies recorded, want one per OK enrollment (%d)", len(res.latencies), tt.wantOK)
			}
		})
	}
}
