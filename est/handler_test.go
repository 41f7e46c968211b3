package est

import (
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/smallstep/pkcs7"

	"github.com/certgate/certgate/enroll"
)

func b64(der []byte) []byte { return []byte(base64.StdEncoding.EncodeToString(der)) }

// readCert decodes a certs-only base64 answer to its single certificate.
func readCert(t *testing.T, resp *http.Response) *x509.Certificate {
	t.Helper()
	certs := readCerts(t, resp.Body)
	if len(certs) != 1 {
		t.Fatalf("got %d certificates, want 1", len(certs))
	}
	return certs[0]
}

func readCerts(t *testing.T, r io.Reader) []*x509.Certificate {
	t.Helper()
	body, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	der, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(string(body), "\n", ""))
	if err != nil {
		t.Fatalf("answer is not base64: %v: %q", err, body)
	}
	p7, err := pkcs7.Parse(der)
	if err != nil {
		t.Fatalf("answer is not PKCS#7: %v", err)
	}
	return p7.Certificates
}

func TestEnrollStatuses(t *testing.T) {
	f := newFixture(t, 0)
	key := newKey(t)
	good := newCSR(t, key, csrOpts{cn: "device-1"})
	withChallenge := newCSR(t, key, csrOpts{cn: "device-2", challenge: testSecret})
	wrongChallenge := newCSR(t, key, csrOpts{cn: "device-3", challenge: "nope"})
	foreign := newCSR(t, key, csrOpts{cn: "device-4", challenge: base64.StdEncoding.EncodeToString(make([]byte, 32))})
	registrar := f.clients.tlsCert(t, "registrar-1")
	untrusted := newTestCA(t, "Other CA").tlsCert(t, "stranger")

	wrapped := b64(good)
	var lines []byte
	for i := 0; i < len(wrapped); i += 60 {
		lines = append(lines, wrapped[i:min(i+60, len(wrapped))]...)
		lines = append(lines, '\r', '\n')
	}

	tests := []struct {
		name       string
		call       call
		wantStatus int
		wantBody   string
	}{
		{name: "ok/basic", call: call{body: b64(good), user: "dev", pass: testSecret}, wantStatus: 200},
		{name: "ok/line-wrapped base64", call: call{body: lines, pass: testSecret}, wantStatus: 200},
		{name: "ok/unpadded base64", call: call{body: []byte(strings.TrimRight(string(b64(good)), "=")), pass: testSecret}, wantStatus: 200},
		{name: "ok/challengePassword in the CSR", call: call{body: b64(withChallenge)}, wantStatus: 200},
		{name: "ok/trusted client certificate", call: call{body: b64(good), clientCert: registrar}, wantStatus: 200},
		{name: "ok/label", call: call{path: PathPrefix + "registrar/simpleenroll", body: b64(good), pass: testSecret}, wantStatus: 200},
		{name: "fail/no credentials", call: call{body: b64(good)}, wantStatus: 401, wantBody: "authentication required"},
		{name: "fail/untrusted client certificate", call: call{body: b64(good), clientCert: untrusted}, wantStatus: 401, wantBody: "authentication required"},
		{name: "fail/wrong basic password", call: call{body: b64(good), pass: "wrong"}, wantStatus: 403, wantBody: "wrong challenge"},
		{name: "fail/wrong challengePassword", call: call{body: b64(wrongChallenge)}, wantStatus: 403, wantBody: "wrong challenge"},
		{name: "fail/foreign channel binding", call: call{body: b64(foreign), pass: testSecret}, wantStatus: 403, wantBody: "another TLS session"},
		{name: "fail/binding required", call: call{path: PathPrefix + "bound/simpleenroll", body: b64(good), pass: testSecret}, wantStatus: 403, wantBody: "requires the TLS channel binding"},
		{name: "fail/malformed base64", call: call{body: []byte("!!not base64!!"), pass: testSecret}, wantStatus: 400, wantBody: "not valid base64"},
		{name: "fail/not a CSR", call: call{body: b64([]byte("hello")), pass: testSecret}, wantStatus: 400, wantBody: "not a PKCS#10"},
		{name: "fail/empty body", call: call{pass: testSecret}, wantStatus: 400, wantBody: "empty body"},
		{name: "fail/wrong content type", call: call{ctype: "application/json", body: b64(good), pass: testSecret}, wantStatus: 415, wantBody: "application/pkcs10"},
		{name: "fail/no content type", call: call{ctype: "-", body: b64(good), pass: testSecret}, wantStatus: 415},
		{name: "fail/oversized", call: call{body: make([]byte, 9<<10), pass: testSecret}, wantStatus: 413, wantBody: "exceeds"},
		{name: "fail/GET", call: call{method: "GET", pass: testSecret}, wantStatus: 405},
		{name: "fail/unknown label", call: call{path: PathPrefix + "nosuch/simpleenroll", body: b64(good), pass: testSecret}, wantStatus: 404},
		{name: "fail/unknown operation", call: call{path: PathPrefix + "fullcmc", body: b64(good), pass: testSecret}, wantStatus: 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.call
			if c.method == "" {
				c.method = "POST"
			}
			if c.path == "" {
				c.path = PathPrefix + "simpleenroll"
			}
			switch c.ctype {
			case "":
				c.ctype = "application/pkcs10"
			case "-":
				c.ctype = ""
			}
			resp := f.do(t, c)
			defer resp.Body.Close()
			if resp.StatusCode != tc.wantStatus {
				body, _ := io.ReadAll(resp.Body)
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, body, tc.wantStatus)
			}
			if tc.wantStatus == 200 {
				if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/pkcs7-mime") || !strings.Contains(ct, "certs-only") {
					t.Errorf("Content-Type %q", ct)
				}
				if resp.ContentLength <= 0 {
					t.Errorf("Content-Length %d: answers must not be chunked", resp.ContentLength)
				}
				cert := readCert(t, resp)
				if !cert.PublicKey.(*ecdsa.PublicKey).Equal(key.Public()) {
					t.Errorf("certificate is not for the CSR's key")
				}
				return
			}
			body, _ := io.ReadAll(resp.Body)
			if !strings.Contains(string(body), tc.wantBody) {
				t.Errorf("body %q does not contain %q", body, tc.wantBody)
			}
			if strings.Contains(string(body), testSecret) {
				t.Errorf("body leaks the secret")
			}
			if got := resp.Header.Get("WWW-Authenticate"); (tc.wantStatus == 401) != strings.HasPrefix(got, "Basic ") {
				t.Errorf("WWW-Authenticate %q with status %d", got, tc.wantStatus)
			}
		})
	}
}

func TestChannelBinding(t *testing.T) {
	for _, tc := range []struct {
		name    string
		version uint16
	}{
		{"ok/tls-unique over TLS 1.2", tls.VersionTLS12},
		{"ok/tls-exporter over TLS 1.3", tls.VersionTLS13},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.version)
			key := newKey(t)
			resp := f.do(t, call{
				method: "POST", path: PathPrefix + "bound/simpleenroll", ctype: "application/pkcs10", pass: testSecret,
				csr: func(bindings [][]byte) []byte {
					if len(bindings) == 0 {
						t.Fatal("the session has no channel binding")
					}
					return newCSR(t, key, csrOpts{cn: "bound-1", challenge: base64.StdEncoding.EncodeToString(bindings[len(bindings)-1])})
				},
			})
			defer resp.Body.Close()
			if resp.StatusCode != 200 {
				body, _ := io.ReadAll(resp.Body)
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if got := f.enroller.lastRequest().Challenge; got != testSecret {
				t.Errorf("validator got challenge %q, want the Basic password (the binding is not a credential)", got)
			}
		})
	}
}

func TestReenroll(t *testing.T) {
	f := newFixture(t, 0)
	key := newKey(t)
	current := f.enroller.ca.issue(t, parse(t, newCSR(t, key, csrOpts{cn: "device-9", dns: []string{"d9.example"}})))
	self := &tls.Certificate{Certificate: [][]byte{current.Raw}, PrivateKey: key}
	newKey := newKey(t)
	same := newCSR(t, newKey, csrOpts{cn: "device-9", dns: []string{"d9.example"}})
	renamed := newCSR(t, newKey, csrOpts{cn: "device-10", dns: []string{"d9.example"}})
	moreSANs := newCSR(t, newKey, csrOpts{cn: "device-9", dns: []string{"d9.example", "evil.example"}})

	tests := []struct {
		name        string
		path        string
		body        []byte
		cert        *tls.Certificate
		wantStatus  int
		wantRenewal bool
	}{
		{name: "ok/same identity", body: same, cert: self, wantStatus: 200, wantRenewal: true},
		{name: "ok/registrar renames", path: "registrar/", body: renamed, cert: f.clients.tlsCert(t, "registrar-2"), wantStatus: 200},
		{name: "fail/no client certificate", body: same, wantStatus: 403},
		{name: "fail/subject changed", body: renamed, cert: self, wantStatus: 400},
		{name: "fail/SAN added", body: moreSANs, cert: self, wantStatus: 400},
		{name: "fail/registrar not trusted", path: "registrar/", body: renamed, cert: self, wantStatus: 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.enroller.mu.Lock()
			f.enroller.last = nil
			f.enroller.mu.Unlock()
			resp := f.do(t, call{method: "POST", path: PathPrefix + tc.path + "simplereenroll", ctype: "application/pkcs10", body: b64(tc.body), clientCert: tc.cert})
			defer resp.Body.Close()
			if resp.StatusCode != tc.wantStatus {
				body, _ := io.ReadAll(resp.Body)
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, body, tc.wantStatus)
			}
			last := f.enroller.lastRequest()
			if tc.wantStatus != 200 {
				if last != nil {
					t.Errorf("refused request reached the enroller")
				}
				return
			}
			if got := last.RenewalOf != nil; got != tc.wantRenewal {
				t.Errorf("RenewalOf set = %v, want %v", got, tc.wantRenewal)
			}
			if tc.wantRenewal && !last.RenewalOf.Equal(current) {
				t.Errorf("RenewalOf is not the TLS client certificate")
			}
			if !tc.wantRenewal && last.AuthorizedBy == "" {
				t.Errorf("registrar enrollment not marked as authorised by the edge")
			}
		})
	}
}

func TestServerKeyGen(t *testing.T) {
	f := newFixture(t, 0)
	csr := newCSR(t, newKey(t), csrOpts{cn: "keygen-1", dns: []string{"k1.example"}})

	t.Run("fail/not enabled", func(t *testing.T) {
		resp := f.do(t, call{method: "POST", path: PathPrefix + "serverkeygen", ctype: "application/pkcs10", body: b64(csr), pass: testSecret})
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusNotImplemented {
			t.Fatalf("status %d, want 501", resp.StatusCode)
		}
	})
	t.Run("fail/no credentials", func(t *testing.T) {
		resp := f.do(t, call{method: "POST", path: PathPrefix + "keygen/serverkeygen", ctype: "application/pkcs10", body: b64(csr)})
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("status %d, want 401", resp.StatusCode)
		}
	})
	t.Run("ok/key and certificate", func(t *testing.T) {
		resp := f.do(t, call{method: "POST", path: PathPrefix + "keygen/serverkeygen", ctype: "application/pkcs10", body: b64(csr), pass: testSecret})
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			body, _ := io.ReadAll(resp.Body)
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		if err != nil || mt != "multipart/mixed" {
			t.Fatalf("Content-Type %q", resp.Header.Get("Content-Type"))
		}
		mr := multipart.NewReader(resp.Body, params["boundary"])
		var key any
		var cert *x509.Certificate
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if part.Header.Get("Content-Transfer-Encoding") != "base64" {
				t.Errorf("part %q lacks Content-Transfer-Encoding: base64", part.Header.Get("Content-Type"))
			}
			switch ct := part.Header.Get("Content-Type"); {
			case ct == "application/pkcs8":
				body, _ := io.ReadAll(part)
				der, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(string(body), "\n", ""))
				if err != nil {
					t.Fatal(err)
				}
				if key, err = x509.ParsePKCS8PrivateKey(der); err != nil {
					t.Fatalf("key part: %v", err)
				}
			case strings.HasPrefix(ct, "application/pkcs7-mime"):
				certs := readCerts(t, part)
				cert = certs[0]
			default:
				t.Errorf("unexpected part %q", ct)
			}
		}
		if key == nil || cert == nil {
			t.Fatalf("answer lacks the key or the certificate")
		}
		if !cert.PublicKey.(*ecdsa.PublicKey).Equal(key.(*ecdsa.PrivateKey).Public()) {
			t.Errorf("certificate is not for the generated key")
		}
		if cert.Subject.CommonName != "keygen-1" || len(cert.DNSNames) != 1 || cert.DNSNames[0] != "k1.example" {
			t.Errorf("certificate subject %v SANs %v: the CSR's identity was not carried over", cert.Subject, cert.DNSNames)
		}
	})
}

func TestGetOperations(t *testing.T) {
	f := newFixture(t, 0)
	t.Run("ok/cacerts", func(t *testing.T) {
		resp := f.do(t, call{method: "GET", path: PathPrefix + "cacerts"})
		defer resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Transfer-Encoding") != "base64" {
			t.Fatalf("status %d, Content-Transfer-Encoding %q", resp.StatusCode, resp.Header.Get("Content-Transfer-Encoding"))
		}
		certs := readCerts(t, resp.Body)
		if len(certs) != 1 || !certs[0].Equal(f.enroller.ca.cert) {
			t.Errorf("cacerts did not return the CA")
		}
	})
	t.Run("ok/cacerts of a profile an upstream CA issues", func(t *testing.T) {
		resp := f.do(t, call{method: "GET", path: PathPrefix + "upstream/cacerts"})
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		certs := readCerts(t, resp.Body)
		if len(certs) != 1 || !certs[0].Equal(f.upstream.cert) {
			t.Errorf("cacerts did not return the upstream CA")
		}
	})
	t.Run("fail/cacerts with the upstream's chain unavailable", func(t *testing.T) {
		resp := f.do(t, call{method: "GET", path: PathPrefix + "upstreamdown/cacerts"})
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("status %d Retry-After %q, want 503 with one", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		if strings.Contains(string(body), "192.0.2.1") {
			t.Errorf("the client is told the upstream's address: %q", body)
		}
	})
	t.Run("fail/cacerts POST", func(t *testing.T) {
		resp := f.do(t, call{method: "POST", path: PathPrefix + "cacerts"})
		defer resp.Body.Close()
		if resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET" {
			t.Fatalf("status %d Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
		}
	})
	t.Run("ok/csrattrs", func(t *testing.T) {
		resp := f.do(t, call{method: "GET", path: PathPrefix + "csrattrs"})
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/csrattrs" {
			t.Fatalf("status %d type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		der, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(string(body), "\n", ""))
		if err != nil {
			t.Fatal(err)
		}
		var oids []asn1.ObjectIdentifier
		if rest, err := asn1.Unmarshal(der, &oids); err != nil || len(rest) > 0 {
			t.Fatalf("not a CsrAttrs SEQUENCE OF OID: %v", err)
		}
		if len(oids) != 2 || !oids[0].Equal(OIDChallengePassword) || !oids[1].Equal(OIDSHA256WithRSA) {
			t.Errorf("csrattrs %v", oids)
		}
	})
	t.Run("ok/csrattrs empty", func(t *testing.T) {
		resp := f.do(t, call{method: "GET", path: PathPrefix + "noattrs/csrattrs"})
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("status %d, want 204", resp.StatusCode)
		}
	})
}

func TestPending(t *testing.T) {
	f := newFixture(t, 0)
	f.enroller.fail = &enroll.Failure{Reason: enroll.Pending, Detail: "request r1 is held for approval", RetryAfter: 90 * time.Second, RequestID: "r1"}
	resp := f.do(t, call{method: "POST", path: PathPrefix + "simpleenroll", ctype: "application/pkcs10", body: b64(newCSR(t, newKey(t), csrOpts{cn: "x"})), pass: testSecret})
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusAccepted || resp.Header.Get("Retry-After") != "90" || !strings.Contains(string(body), "r1") {
		t.Fatalf("status %d Retry-After %q body %q, want 202 with 90 naming the request", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
}

func TestUnavailable(t *testing.T) {
	f := newFixture(t, 0)
	f.enroller.fail = &enroll.Failure{Reason: enroll.Unavailable, Detail: "store down"}
	resp := f.do(t, call{method: "POST", path: PathPrefix + "simpleenroll", ctype: "application/pkcs10", body: b64(newCSR(t, newKey(t), csrOpts{cn: "x"})), pass: testSecret})
	defer resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "30" {
		t.Fatalf("status %d Retry-After %q, want 503 with 30", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

func parse(t *testing.T, der []byte) *x509.CertificateRequest {
	t.Helper()
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		t.Fatal(err)
	}
	return csr
}

// tlsCert issues a client certificate from c.
func (c *testCA) tlsCert(t *testing.T, cn string) *tls.Certificate {
	t.Helper()
	key := newKey(t)
	cert := c.issue(t, parse(t, newCSR(t, key, csrOpts{cn: cn})))
	return &tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key}
}
