package upstream

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smallstep/pkcs7"
)

// estFake is a TLS EST server whose simpleenroll and cacerts answers the
// test decides.
type estFake struct {
	srv      *httptest.Server
	enroll   http.HandlerFunc
	cacerts  http.HandlerFunc
	requests atomic.Int32
}

func newESTFake(t *testing.T) *estFake {
	f := &estFake{}
	f.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.requests.Add(1)
		switch {
		case strings.HasSuffix(r.URL.Path, "/simpleenroll") && f.enroll != nil:
			f.enroll(w, r)
		case strings.HasSuffix(r.URL.Path, "/cacerts") && f.cacerts != nil:
			f.cacerts(w, r)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *estFake) roots() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(f.srv.Certificate())
	return p
}

// certsOnly is the base64 certs-only PKCS#7 of certs, with line breaks
// every 64 characters when wrap is set.
func certsOnly(t *testing.T, wrap bool, certs ...*x509.Certificate) []byte {
	t.Helper()
	der := degenerate(t, certs...)
	b64 := base64.StdEncoding.EncodeToString(der)
	if !wrap {
		return []byte(b64)
	}
	var out bytes.Buffer
	for len(b64) > 64 {
		out.WriteString(b64[:64] + "\r\n")
		b64 = b64[64:]
	}
	out.WriteString(b64 + "\r\n")
	return out.Bytes()
}

func degenerate(t *testing.T, certs ...*x509.Certificate) []byte {
	t.Helper()
	var raw []byte
	for _, c := range certs {
		raw = append(raw, c.Raw...)
	}
	der, err := pkcs7.DegenerateCertificate(raw)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// readCSR is the CSR a simpleenroll request carries.
func readCSR(r *http.Request) (*x509.CertificateRequest, []byte, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, nil, err
	}
	raw, err := base64.StdEncoding.DecodeString(string(body))
	if err != nil {
		return nil, nil, err
	}
	csr, err := x509.ParseCertificateRequest(raw)
	return csr, raw, err
}

func TestESTForward(t *testing.T) {
	ca := newRootCA(t, "upstream EST CA", 1)
	// issued answers with a certificate for the posted CSR, encoded by enc.
	issued := func(enc func(cert *x509.Certificate) []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			csr, _, err := readCSR(r)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			cert := ca.issue(t, csr.Subject.CommonName, csr.PublicKey, x509.KeyUsageDigitalSignature)
			w.Header().Set("Content-Type", "application/pkcs7-mime; smime-type=certs-only")
			_, _ = w.Write(enc(cert))
		}
	}
	status := func(code int, retryAfter, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if retryAfter != "" {
				w.Header().Set("Retry-After", retryAfter)
			}
			w.WriteHeader(code)
			_, _ = io.WriteString(w, body)
		}
	}
	for _, tc := range []struct {
		name       string
		enroll     http.HandlerFunc
		want       string
		cause      string        // for unavailable: what the error must say
		retryAfter time.Duration // of *PendingError or *UnavailableError
		detail     string        // of *Rejected
	}{
		{name: "ok/base64-with-line-breaks", enroll: issued(func(c *x509.Certificate) []byte { return certsOnly(t, true, c) })},
		{name: "ok/base64-one-line-chain-first", enroll: issued(func(c *x509.Certificate) []byte { return certsOnly(t, false, ca.cert, c) })},
		{name: "ok/binary-der", enroll: issued(func(c *x509.Certificate) []byte { return degenerate(t, c) })},
		{name: "ok/pem", enroll: issued(func(c *x509.Certificate) []byte {
			return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
		})},
		{name: "pending/202-retry-after", enroll: status(http.StatusAccepted, "120", ""), want: "pending", retryAfter: 2 * time.Minute},
		{name: "fail/400", enroll: status(http.StatusBadRequest, "", "bad CSR\x00\n"), want: "rejected:badRequest", detail: "bad CSR  "},
		{name: "fail/401", enroll: status(http.StatusUnauthorized, "", "who are you"), want: "rejected:unauthorized", detail: "who are you"},
		{name: "fail/403", enroll: status(http.StatusForbidden, "", "no"), want: "rejected:unauthorized", detail: "no"},
		{name: "fail/409-other-4xx", enroll: status(http.StatusConflict, "", ""), want: "rejected:badRequest"},
		{name: "fail/404-wrong-label", enroll: status(http.StatusNotFound, "", ""), want: "unavailable", cause: "HTTP 404"},
		{name: "fail/429", enroll: status(http.StatusTooManyRequests, "7", ""), want: "unavailable", cause: "HTTP 429", retryAfter: 7 * time.Second},
		{name: "fail/503-retry-after", enroll: status(http.StatusServiceUnavailable, "30", "down"), want: "unavailable", cause: "HTTP 503: down", retryAfter: 30 * time.Second},
		{name: "fail/redirect-not-followed", enroll: status(http.StatusFound, "", ""), want: "unavailable", cause: "HTTP 302"},
		{name: "fail/garbage-200", enroll: status(http.StatusOK, "", "<html>hello</html>"), want: "unavailable", cause: "garbage answer"},
		{name: "fail/empty-200", enroll: status(http.StatusOK, "", ""), want: "unavailable", cause: "empty answer"},
		{name: "fail/pkcs7-without-certificate", enroll: func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(base64.StdEncoding.EncodeToString(degenerate(t))))
		}, want: "unavailable", cause: "holds no certificate"},
		{name: "fail/certificate-for-another-key", enroll: func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write(certsOnly(t, true, ca.cert))
		}, want: "unavailable", cause: "none of the 1 returned certificates is for the CSR's key"},
		{name: "fail/too-large", enroll: func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write(bytes.Repeat([]byte("A"), maxBody+1))
		}, want: "unavailable", cause: "larger than 1 MiB"},
		{name: "fail/connection-reset", enroll: func(w http.ResponseWriter, r *http.Request) {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				_ = conn.Close()
			}
		}, want: "unavailable", cause: "EOF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newESTFake(t)
			f.enroll = tc.enroll
			e := mustEST(t, ESTConfig{Name: "up", BaseURL: f.srv.URL + "/.well-known/est", Roots: f.roots()})
			csr, raw := deviceCSR(t, "device-1", "")
			cert, err := e.Forward(context.Background(), csr, raw, "")
			wantErr(t, err, tc.want)
			if tc.cause != "" && !strings.Contains(err.Error(), tc.cause) {
				t.Fatalf("error %q, want it to say %q", err, tc.cause)
			}
			var (
				pe  *PendingError
				ue  *UnavailableError
				rej *Rejected
			)
			switch {
			case errors.As(err, &pe) && pe.RetryAfter != tc.retryAfter:
				t.Fatalf("RetryAfter %v, want %v", pe.RetryAfter, tc.retryAfter)
			case errors.As(err, &ue) && ue.RetryAfter != tc.retryAfter:
				t.Fatalf("RetryAfter %v, want %v", ue.RetryAfter, tc.retryAfter)
			case errors.As(err, &rej) && (rej.Detail != tc.detail || rej.Message == "" || strings.Contains(rej.Message, tc.detail) && tc.detail != ""):
				t.Fatalf("refusal %+v: want detail %q and a message of our own", rej, tc.detail)
			}
			if err == nil && !bytes.Equal(cert.RawSubjectPublicKeyInfo, mustSPKI(t, csr)) {
				t.Fatal("certificate is not for the device's key")
			}
		})
	}
}

// TestESTRequest checks what goes over the wire: the CSR unchanged, as
// RFC 7030 §4.2.1 wants it, to the label's URL, with Basic credentials.
func TestESTRequest(t *testing.T) {
	f := newESTFake(t)
	ca := newRootCA(t, "upstream EST CA", 1)
	csr, raw := deviceCSR(t, "device-1", "challenge-of-certgate")
	var got struct {
		method, path, ctype, cte, user, pass string
		basic                                bool
		raw                                  []byte
	}
	f.enroll = func(w http.ResponseWriter, r *http.Request) {
		got.method, got.path = r.Method, r.URL.Path
		got.ctype, got.cte = r.Header.Get("Content-Type"), r.Header.Get("Content-Transfer-Encoding")
		got.user, got.pass, got.basic = r.BasicAuth()
		_, got.raw, _ = readCSR(r)
		_, _ = w.Write(certsOnly(t, true, ca.issue(t, "d", csr.PublicKey, x509.KeyUsageDigitalSignature)))
	}
	e := mustEST(t, ESTConfig{Name: "up", BaseURL: f.srv.URL + "/.well-known/est/label1/", Roots: f.roots(), Username: "gw", Password: "pw"})
	if _, err := e.Forward(context.Background(), csr, raw, ""); err != nil {
		t.Fatal(err)
	}
	if got.method != http.MethodPost || got.path != "/.well-known/est/label1/simpleenroll" ||
		got.ctype != "application/pkcs10" || got.cte != "base64" || !got.basic || got.user != "gw" || got.pass != "pw" {
		t.Fatalf("request %+v", got)
	}
	if !bytes.Equal(got.raw, raw) {
		t.Fatal("the CSR arrived changed")
	}
}

func TestESTConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*ESTConfig)
		want string
	}{
		{"ok", func(*ESTConfig) {}, ""},
		{"ok/label-and-port", func(c *ESTConfig) { c.BaseURL = "https://ca.example:8443/.well-known/est/wifi" }, ""},
		{"fail/name", func(c *ESTConfig) { c.Name = "" }, "upstream: est: name: required"},
		{"fail/http", func(c *ESTConfig) { c.BaseURL = "http://ca.example/.well-known/est" }, "upstream: est up: baseURL: must be an https URL (RFC 7030 §3.3)"},
		{"fail/query", func(c *ESTConfig) { c.BaseURL = "https://ca.example/est?x=1" }, "upstream: est up: baseURL: want https://host[:port]/.well-known/est[/label], without query, fragment or user"},
		{"fail/no-host", func(c *ESTConfig) { c.BaseURL = "https:///est" }, "upstream: est up: baseURL: want https://host[:port]/.well-known/est[/label], without query, fragment or user"},
		{"fail/negative-timeout", func(c *ESTConfig) { c.Timeout = -time.Second }, "upstream: est up: timeout, chainRefresh, coolDown, failureThreshold: must not be negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := ESTConfig{Name: "up", BaseURL: "https://ca.example/.well-known/est"}
			tc.mod(&cfg)
			_, err := NewEST(cfg)
			if got := errString(err); got != tc.want {
				t.Fatalf("error %q, want %q", got, tc.want)
			}
		})
	}
}
