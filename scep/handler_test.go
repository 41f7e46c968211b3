package scep

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/smallstep/pkcs7"
	smallscep "github.com/smallstep/scep"

	"github.com/certgate/certgate/enroll"
)

func do(t *testing.T, h http.Handler, method, target, contentType string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestGetCACaps(t *testing.T) {
	ca := newTestCA(t)
	h := newTestServer(t, &fakeEnroller{ca: ca}, ca).Handler()
	for _, path := range []string{"/scep", "/scep/", "/scep/default", "/scep/wifi/pkiclient.exe", NDESPath + "/pkiclient.exe"} {
		rec := do(t, h, http.MethodGet, path+"?operation=GetCACaps", "", nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: status %d", path, rec.Code)
		}
		caps := strings.Fields(rec.Body.String())
		for _, want := range []string{"POSTPKIOperation", "SHA-256", "SHA-512", "AES", "SCEPStandard", "Renewal"} {
			if !contains(caps, want) {
				t.Errorf("%s: caps %v lack %s", path, caps, want)
			}
		}
		for _, never := range []string{"DES", "SHA-1", "DES3"} {
			if contains(caps, never) {
				t.Errorf("%s: caps advertise %s", path, never)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestGetCACert(t *testing.T) {
	ca := newTestCA(t)
	enr := &fakeEnroller{ca: ca}

	single := newTestServer(t, enr, ca).Handler()
	rec := do(t, single, http.MethodGet, "/scep?operation=GetCACert", "", nil)
	if ct := rec.Header().Get("Content-Type"); ct != "application/x-x509-ca-cert" || !bytes.Equal(rec.Body.Bytes(), ca.cert.Raw) {
		t.Fatalf("single CA: content type %q, body equal %v", ct, bytes.Equal(rec.Body.Bytes(), ca.cert.Raw))
	}

	root := newTestCA(t)
	s, err := New(Options{Enroller: enr, RACert: ca.cert, RAKey: ca.key, CACerts: []*x509.Certificate{ca.cert, root.cert}, DefaultProfile: "default"})
	if err != nil {
		t.Fatal(err)
	}
	rec = do(t, s.Handler(), http.MethodGet, "/scep?operation=GetCACert", "", nil)
	if ct := rec.Header().Get("Content-Type"); ct != "application/x-x509-ca-ra-cert" {
		t.Fatalf("chain: content type %q", ct)
	}
	certs, err := smallscep.CACerts(rec.Body.Bytes())
	if err != nil || len(certs) != 2 || !certs[0].Equal(ca.cert) {
		t.Fatalf("chain: got %d certs, err %v; want the RA first", len(certs), err)
	}
}

func TestBadHTTPInput(t *testing.T) {
	ca := newTestCA(t)
	enr := &fakeEnroller{ca: ca}
	h := newTestServer(t, enr, ca).Handler()
	valid := newClient(t).request(t, ca, smallscep.PKCSReq, "dev", "secret")

	tests := []struct {
		name, method, target, contentType string
		body                              []byte
		wantStatus                        int
		wantText                          string
	}{
		{"fail/garbage", http.MethodPost, "/scep?operation=PKIOperation", "application/x-pki-message", []byte("this is not DER"), 400, "not a PKCS#7"},
		{"fail/truncated", http.MethodPost, "/scep?operation=PKIOperation", "application/x-pki-message", valid[:len(valid)/2], 400, "not a PKCS#7"},
		{"fail/empty", http.MethodPost, "/scep?operation=PKIOperation", "application/x-pki-message", nil, 400, "empty message"},
		{"fail/wrong content type", http.MethodPost, "/scep?operation=PKIOperation", "application/json", valid, 415, "application/x-pki-message"},
		{"fail/oversized", http.MethodPost, "/scep?operation=PKIOperation", "application/x-pki-message", make([]byte, 64<<10+1), 413, "too large"},
		{"fail/oversized GET", http.MethodGet, "/scep?operation=PKIOperation&message=" + strings.Repeat("A", 90<<10), "", nil, 413, "too large"},
		{"fail/GET not base64", http.MethodGet, "/scep?operation=PKIOperation&message=%25%25%25", "", nil, 400, "not base64"},
		{"fail/unknown operation", http.MethodGet, "/scep?operation=GetNextCACert2", "", nil, 400, "unknown operation"},
		{"fail/missing operation", http.MethodGet, "/scep", "", nil, 400, "missing operation"},
		{"fail/unknown profile", http.MethodGet, "/scep/nope?operation=GetCACaps", "", nil, 404, "unknown profile"},
		{"fail/profile path traversal", http.MethodGet, "/scep/default/../x?operation=GetCACaps", "", nil, 404, "unknown profile"},
		{"fail/PUT", http.MethodPut, "/scep?operation=PKIOperation", "application/x-pki-message", valid, 405, "GET or POST"},
		{"fail/POST GetCACaps", http.MethodPost, "/scep?operation=GetCACaps", "", nil, 405, "not allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := do(t, h, tc.method, tc.target, tc.contentType, tc.body)
			if rec.Code != tc.wantStatus || !strings.Contains(rec.Body.String(), tc.wantText) {
				t.Fatalf("got %d %q, want %d containing %q", rec.Code, rec.Body.String(), tc.wantStatus, tc.wantText)
			}
		})
	}
	if n := len(enr.seen); n != 0 {
		t.Fatalf("enroller was called %d times for undecodable input", n)
	}
}

func TestPKIOperation(t *testing.T) {
	ca := newTestCA(t)
	cl := newClient(t)

	tests := []struct {
		name       string
		cipher     int
		typ        smallscep.MessageType
		mangle     func([]byte) []byte
		fail       *enroll.Failure
		wantStatus smallscep.PKIStatus
		wantInfo   smallscep.FailInfo
	}{
		{name: "ok/aes256", cipher: pkcs7.EncryptionAlgorithmAES256CBC, typ: smallscep.PKCSReq, wantStatus: smallscep.SUCCESS},
		{name: "ok/aes128", cipher: pkcs7.EncryptionAlgorithmAES128CBC, typ: smallscep.PKCSReq, wantStatus: smallscep.SUCCESS},
		{name: "ok/renewal", cipher: pkcs7.EncryptionAlgorithmAES256CBC, typ: smallscep.RenewalReq, wantStatus: smallscep.SUCCESS},
		{name: "ok/single DES accepted (Debian scepclient)", cipher: pkcs7.EncryptionAlgorithmDESCBC, typ: smallscep.PKCSReq, wantStatus: smallscep.SUCCESS},
		{name: "fail/broken signature", cipher: pkcs7.EncryptionAlgorithmAES256CBC, typ: smallscep.PKCSReq, mangle: flipLastByte, wantStatus: smallscep.FAILURE, wantInfo: smallscep.BadMessageCheck},
		{name: "fail/wrong challenge", cipher: pkcs7.EncryptionAlgorithmAES256CBC, typ: smallscep.PKCSReq, fail: &enroll.Failure{Reason: enroll.Unauthorized}, wantStatus: smallscep.FAILURE, wantInfo: smallscep.BadRequest},
		{name: "fail/weak key", cipher: pkcs7.EncryptionAlgorithmAES256CBC, typ: smallscep.PKCSReq, fail: &enroll.Failure{Reason: enroll.BadAlg}, wantStatus: smallscep.FAILURE, wantInfo: smallscep.BadAlg},
		{name: "fail/csr signature", cipher: pkcs7.EncryptionAlgorithmAES256CBC, typ: smallscep.PKCSReq, fail: &enroll.Failure{Reason: enroll.BadMessageCheck}, wantStatus: smallscep.FAILURE, wantInfo: smallscep.BadMessageCheck},
		{name: "fail/unknown cert", cipher: pkcs7.EncryptionAlgorithmAES256CBC, typ: smallscep.RenewalReq, fail: &enroll.Failure{Reason: enroll.BadCertID}, wantStatus: smallscep.FAILURE, wantInfo: smallscep.BadCertID},
		{name: "fail/expired signer", cipher: pkcs7.EncryptionAlgorithmAES256CBC, typ: smallscep.RenewalReq, fail: &enroll.Failure{Reason: enroll.BadTime}, wantStatus: smallscep.FAILURE, wantInfo: smallscep.BadTime},
		{name: "fail/store down", cipher: pkcs7.EncryptionAlgorithmAES256CBC, typ: smallscep.PKCSReq, fail: &enroll.Failure{Reason: enroll.Unavailable}, wantStatus: smallscep.FAILURE, wantInfo: smallscep.BadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			withCipher(t, tc.cipher)
			enr := &fakeEnroller{ca: ca, fail: tc.fail}
			h := newTestServer(t, enr, ca).Handler()
			msg := cl.request(t, ca, tc.typ, "device-1", "secret")
			if tc.mangle != nil {
				msg = tc.mangle(msg)
			}
			rec := do(t, h, http.MethodPost, "/scep/wifi?operation=PKIOperation", "application/x-pki-message", msg)
			if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/x-pki-message" {
				t.Fatalf("status %d %q", rec.Code, rec.Body.String())
			}
			rep := cl.parseReply(t, ca, rec.Body.Bytes())
			if rep.PKIStatus != tc.wantStatus {
				t.Fatalf("status %s, want %s (failInfo %q)", rep.PKIStatus, tc.wantStatus, string(rep.FailInfo))
			}
			if tc.wantStatus == smallscep.FAILURE {
				if rep.FailInfo != tc.wantInfo {
					t.Fatalf("failInfo %q, want %q", string(rep.FailInfo), string(tc.wantInfo))
				}
				return
			}
			if got, want := replyCipherName(t, rec.Body.Bytes()), replyCipher(cipherFor(tc.cipher)).name; got != want {
				t.Fatalf("reply encrypted with %s, want %s", got, want)
			}
			if rep.Certificate == nil || rep.Certificate.Subject.CommonName != "device-1" {
				t.Fatalf("reply certificate %v", rep.Certificate)
			}
			req := enr.last()
			if req.Profile != "wifi" || req.Challenge != "secret" || req.Protocol != "scep" || req.TransactionID == "" {
				t.Fatalf("enroll request %+v", req)
			}
			if (tc.typ == smallscep.RenewalReq) != (req.RenewalOf != nil) {
				t.Fatalf("RenewalOf = %v for %s", req.RenewalOf, tc.typ)
			}
		})
	}
}

// flipLastByte corrupts the signature, which ends the SignedData.
func flipLastByte(b []byte) []byte {
	out := append([]byte(nil), b...)
	out[len(out)-1] ^= 0xff
	return out
}

func TestGETPKIOperation(t *testing.T) {
	ca := newTestCA(t)
	cl := newClient(t)
	withCipher(t, pkcs7.EncryptionAlgorithmAES128CBC)
	h := newTestServer(t, &fakeEnroller{ca: ca}, ca).Handler()
	msg := cl.request(t, ca, smallscep.PKCSReq, "cisco", "secret")
	b64 := base64.StdEncoding.EncodeToString(msg)
	for name, q := range map[string]string{
		"escaped":     url.QueryEscape(b64),
		"raw plus":    b64, // Cisco IOS does not escape '+' and '/'
		"url-safe":    base64.RawURLEncoding.EncodeToString(msg),
		"line breaks": url.QueryEscape(b64[:64] + "\n" + b64[64:]),
	} {
		t.Run(name, func(t *testing.T) {
			rec := do(t, h, http.MethodGet, "/scep?operation=PKIOperation&message="+q, "", nil)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d %s", rec.Code, rec.Body.String())
			}
			if rep := cl.parseReply(t, ca, rec.Body.Bytes()); rep.PKIStatus != smallscep.SUCCESS {
				t.Fatalf("status %s failInfo %s", rep.PKIStatus, string(rep.FailInfo))
			}
		})
	}
}

func TestUnsupportedMessageTypes(t *testing.T) {
	ca := newTestCA(t)
	cl := newClient(t)
	withCipher(t, pkcs7.EncryptionAlgorithmAES256CBC)
	enr := &fakeEnroller{ca: ca}
	h := newTestServer(t, enr, ca).Handler()
	// GetCRL is not served over SCEP; a made-up type must not reach
	// smallstep/scep's panicking String().
	for _, typ := range []smallscep.MessageType{smallscep.GetCRL, "99"} {
		msg := cl.request(t, ca, typ, "x", "")
		rec := do(t, h, http.MethodPost, "/scep?operation=PKIOperation", "", msg)
		rep := cl.parseReply(t, ca, rec.Body.Bytes())
		if rep.PKIStatus != smallscep.FAILURE || rep.FailInfo != smallscep.BadRequest {
			t.Fatalf("type %q: %s %s", string(typ), rep.PKIStatus, string(rep.FailInfo))
		}
	}
	if len(enr.seen) != 0 {
		t.Fatal("enroller called for an unsupported message type")
	}
}

// A PKCSReq held for approval is answered PENDING; the GetCertInitial
// poll that follows reaches the enroller as a poll for that transaction,
// signed by the requester's key, and its SUCCESS carries the certificate.
func TestPendingThenPoll(t *testing.T) {
	ca := newTestCA(t)
	cl := newClient(t)
	withCipher(t, pkcs7.EncryptionAlgorithmAES256CBC)
	enr := &fakeEnroller{ca: ca, hold: true}
	h := newTestServer(t, enr, ca).Handler()

	msg := cl.request(t, ca, smallscep.PKCSReq, "held-device", "secret")
	rep := cl.parseReply(t, ca, do(t, h, http.MethodPost, "/scep?operation=PKIOperation", "", msg).Body.Bytes())
	if rep.PKIStatus != smallscep.PENDING {
		t.Fatalf("PKCSReq: status %s, want PENDING", rep.PKIStatus)
	}
	txID := enr.last().TransactionID

	t.Run("fail/poll with nothing held", func(t *testing.T) {
		other := &fakeEnroller{ca: ca}
		h2 := newTestServer(t, other, ca).Handler()
		poll := cl.request(t, ca, smallscep.CertPoll, "held-device", "")
		rep := cl.parseReply(t, ca, do(t, h2, http.MethodPost, "/scep?operation=PKIOperation", "", poll).Body.Bytes())
		if rep.PKIStatus != smallscep.FAILURE || rep.FailInfo != smallscep.BadCertID {
			t.Fatalf("status %s failInfo %s, want FAILURE badCertId", rep.PKIStatus, string(rep.FailInfo))
		}
	})
	t.Run("ok/poll after approval", func(t *testing.T) {
		poll := cl.request(t, ca, smallscep.CertPoll, "held-device", "") // same key, so the same transaction ID
		rep := cl.parseReply(t, ca, do(t, h, http.MethodPost, "/scep?operation=PKIOperation", "", poll).Body.Bytes())
		if rep.PKIStatus != smallscep.SUCCESS || rep.CertRepMessage.Certificate == nil {
			t.Fatalf("status %s, want SUCCESS with a certificate", rep.PKIStatus)
		}
		last := enr.last()
		if !last.Poll || last.TransactionID != txID || last.CSR != nil {
			t.Fatalf("enroller saw Poll=%v tx=%q CSR=%v; want a poll for %q without a CSR", last.Poll, last.TransactionID, last.CSR != nil, txID)
		}
		if k, ok := last.PollKey.(*rsa.PublicKey); !ok || !k.Equal(cl.key.Public()) {
			t.Fatal("PollKey is not the requester's key")
		}
	})
}

func FuzzPKIOperation(f *testing.F) {
	ca := newTestCA(f)
	cl := newClient(f)
	f.Add(cl.request(f, ca, smallscep.PKCSReq, "seed", "secret"))
	f.Add([]byte{0x30, 0x80, 0x06, 0x09})
	s := newTestServer(f, &fakeEnroller{ca: ca}, ca)
	f.Fuzz(func(t *testing.T, der []byte) {
		rep, err := s.PKIOperation(t.Context(), der, "default", "127.0.0.1:1")
		if err == nil && len(rep) == 0 {
			t.Fatal("no error and no reply")
		}
		_, _ = io.Discard.Write(rep)
	})
}

// replyCipherName says which cipher encrypts a SUCCESS CertRep's envelope.
func replyCipherName(t *testing.T, certRep []byte) string {
	t.Helper()
	p7, err := pkcs7.Parse(certRep)
	if err != nil {
		t.Fatal(err)
	}
	c, ok := envelopeCipher(p7.Content)
	if !ok {
		t.Fatal("reply envelope cipher not recognised")
	}
	return c.name
}

func cipherFor(pkcs7Alg int) cipherAlg {
	switch pkcs7Alg {
	case pkcs7.EncryptionAlgorithmAES128CBC:
		return cipherAES128
	case pkcs7.EncryptionAlgorithmDESCBC:
		return cipherDES
	}
	return cipherAES256
}
