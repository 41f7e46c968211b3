package upstream

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/smallstep/pkcs7"
	smallscep "github.com/smallstep/scep"
)

var (
	oidAES128CBC = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidDES3CBC   = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}
)

// newTestSCEP is a forwarder to url with the RA from pool key 0, on a
// fake clock that its polling sleeps advance.
func newTestSCEP(t *testing.T, url string, mod func(*SCEPConfig)) (*SCEP, *fakeClock) {
	t.Helper()
	clk := newFakeClock()
	raCert, raKey := selfSigned(t, "certgate RA", 0)
	cfg := SCEPConfig{Name: "up", URL: url, RACert: raCert, RAKey: raKey, Now: clk.Now}
	if mod != nil {
		mod(&cfg)
	}
	s, err := NewSCEP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.c.sleep = clk.Sleep
	t.Cleanup(s.Close)
	return s, clk
}

func TestSCEPForward(t *testing.T) {
	ca := newRootCA(t, "upstream SCEP CA", 1)
	stranger := newRootCA(t, "someone else", 2)
	const deviceTID = "device-transaction-1"

	for _, tc := range []struct {
		name         string
		setup        func(t *testing.T, f *scepFake)
		challenge    string // SCEPConfig.Challenge
		csrChallenge string
		tid          string
		want         string
		cause        string // for unavailable: what the error must say
		check        func(t *testing.T, f *scepFake, csr *x509.CertificateRequest, raw []byte, cert *x509.Certificate, err error)
	}{
		{
			name: "ok/aes-sha256-post", tid: deviceTID,
			check: func(t *testing.T, f *scepFake, csr *x509.CertificateRequest, raw []byte, cert *x509.Certificate, err error) {
				m := onlyMsg(t, f)
				if m.method != http.MethodPost || !m.cipherOID.Equal(oidAES128CBC) || !m.digestOID.Equal(pkcs7.OIDDigestAlgorithmSHA256) {
					t.Errorf("sent %s, cipher %v, digest %v; want POST, AES-128-CBC, SHA-256", m.method, m.cipherOID, m.digestOID)
				}
				if !bytes.Equal(m.csrRaw, raw) {
					t.Error("the CSR arrived changed")
				}
				if m.tid != deviceTID || m.msgType != smallscep.PKCSReq {
					t.Errorf("transactionID %q type %v, want the device's %q and PKCSReq", m.tid, m.msgType, deviceTID)
				}
				if m.signer.Subject.CommonName != "certgate RA" {
					t.Errorf("signed by %v, want the RA", m.signer.Subject)
				}
				if cert.CheckSignatureFrom(ca.cert) != nil {
					t.Error("certificate not from the upstream CA")
				}
			},
		},
		{
			name:  "ok/no-caps-des3-sha1-get",
			setup: func(t *testing.T, f *scepFake) { f.caps = "" },
			check: func(t *testing.T, f *scepFake, csr *x509.CertificateRequest, raw []byte, cert *x509.Certificate, err error) {
				m := onlyMsg(t, f)
				if m.method != http.MethodGet || !m.cipherOID.Equal(oidDES3CBC) || !m.digestOID.Equal(pkcs7.OIDDigestAlgorithmSHA1) {
					t.Errorf("sent %s, cipher %v, digest %v; want GET, DES-EDE3-CBC, SHA-1", m.method, m.cipherOID, m.digestOID)
				}
			},
		},
		{
			name:  "ok/scepstandard-implies-aes-sha256",
			setup: func(t *testing.T, f *scepFake) { f.caps = "SCEPStandard\r\nPOSTPKIOperation\r\n" },
			check: func(t *testing.T, f *scepFake, csr *x509.CertificateRequest, raw []byte, cert *x509.Certificate, err error) {
				m := onlyMsg(t, f)
				if !m.cipherOID.Equal(oidAES128CBC) || !m.digestOID.Equal(pkcs7.OIDDigestAlgorithmSHA256) {
					t.Errorf("cipher %v, digest %v; want AES-128-CBC, SHA-256", m.cipherOID, m.digestOID)
				}
			},
		},
		{
			// The fake decrypts with the RA key and signs with it: an
			// envelope to the CA, or trust in the CA alone, fails.
			name:  "ok/ra-certificate-in-getcacert",
			setup: func(t *testing.T, f *scepFake) { f.ra = raFor(t, f.ca, 4) },
		},
		{
			name: "ok/transaction-id-from-key-when-device-has-none",
			check: func(t *testing.T, f *scepFake, csr *x509.CertificateRequest, raw []byte, cert *x509.Certificate, err error) {
				sum := sha256.Sum256(csr.RawSubjectPublicKeyInfo)
				if m := onlyMsg(t, f); m.tid != hex.EncodeToString(sum[:]) {
					t.Errorf("transactionID %q, want the key hash", m.tid)
				}
			},
		},
		{
			name: "ok/transaction-id-from-key-when-device-id-not-printable", tid: "ünïcode_*",
			check: func(t *testing.T, f *scepFake, csr *x509.CertificateRequest, raw []byte, cert *x509.Certificate, err error) {
				if m := onlyMsg(t, f); len(m.tid) != 64 {
					t.Errorf("transactionID %q, want the key hash", m.tid)
				}
			},
		},
		{
			name: "ok/pending-then-success-by-polling", tid: deviceTID,
			setup: func(t *testing.T, f *scepFake) {
				f.reply = func(m *fakeMsg, n int) fakeReply {
					if n < 2 {
						return fakeReply{status: smallscep.PENDING}
					}
					return fakeReply{}
				}
			},
			check: func(t *testing.T, f *scepFake, csr *x509.CertificateRequest, raw []byte, cert *x509.Certificate, err error) {
				msgs := f.messages()
				if len(msgs) != 3 || msgs[0].msgType != smallscep.PKCSReq || msgs[1].msgType != smallscep.CertPoll || msgs[2].msgType != smallscep.CertPoll {
					t.Fatalf("%d messages, want PKCSReq, CertPoll, CertPoll", len(msgs))
				}
				for _, m := range msgs[1:] {
					if m.tid != deviceTID || !bytes.Equal(m.poll.Issuer.FullBytes, f.ca.cert.RawSubject) || !bytes.Equal(m.poll.Subject.FullBytes, csr.RawSubject) {
						t.Errorf("CertPoll %q names %x / %x, want the request's transaction, the CA and the CSR subject", m.tid, m.poll.Issuer.FullBytes, m.poll.Subject.FullBytes)
					}
				}
			},
		},
		{
			name: "pending/beyond-budget", tid: deviceTID, want: "pending",
			setup: func(t *testing.T, f *scepFake) {
				f.reply = func(*fakeMsg, int) fakeReply { return fakeReply{status: smallscep.PENDING} }
			},
			check: func(t *testing.T, f *scepFake, csr *x509.CertificateRequest, raw []byte, cert *x509.Certificate, err error) {
				var pe *PendingError
				if !errors.As(err, &pe) || pe.TransactionID != deviceTID || pe.Upstream != "up" {
					t.Fatalf("error %v, want *PendingError for %q", err, deviceTID)
				}
				if msgs := f.messages(); len(msgs) < 2 {
					t.Errorf("%d messages, want polls after the PKCSReq", len(msgs))
				}
			},
		},
		{
			name: "pending/poll-fails-for-want-of-upstream", want: "pending",
			setup: func(t *testing.T, f *scepFake) {
				f.reply = func(_ *fakeMsg, n int) fakeReply {
					if n == 0 {
						return fakeReply{status: smallscep.PENDING}
					}
					return fakeReply{httpStatus: http.StatusBadGateway}
				}
			},
		},
		{
			name: "pending/poll-fails-cause-kept", want: "pending", cause: "last poll: upstream: up: poll: unavailable: HTTP 502",
			setup: func(t *testing.T, f *scepFake) {
				f.reply = func(_ *fakeMsg, n int) fakeReply {
					if n == 0 {
						return fakeReply{status: smallscep.PENDING}
					}
					return fakeReply{httpStatus: http.StatusBadGateway}
				}
			},
		},
		{
			name: "fail/poll-refused", want: "rejected:badCertId",
			setup: func(t *testing.T, f *scepFake) {
				f.reply = func(_ *fakeMsg, n int) fakeReply {
					if n == 0 {
						return fakeReply{status: smallscep.PENDING}
					}
					return fakeReply{status: smallscep.FAILURE, failInfo: smallscep.BadCertID}
				}
			},
		},
		{
			name: "fail/failinfo-badalg", want: "rejected:badAlg",
			setup: func(t *testing.T, f *scepFake) {
				f.reply = func(*fakeMsg, int) fakeReply {
					return fakeReply{status: smallscep.FAILURE, failInfo: smallscep.BadAlg}
				}
			},
			check: func(t *testing.T, f *scepFake, csr *x509.CertificateRequest, raw []byte, cert *x509.Certificate, err error) {
				var rej *Rejected
				if errors.As(err, &rej); rej.Message == "" || rej.Upstream != "up" || rej.Detail != "failInfo 0" {
					t.Errorf("refusal %+v: want a message, the upstream and failInfo 0", rej)
				}
			},
		},
		{
			name: "fail/failinfo-unknown-is-badrequest", want: "rejected:badRequest",
			setup: func(t *testing.T, f *scepFake) {
				f.reply = func(*fakeMsg, int) fakeReply { return fakeReply{status: smallscep.FAILURE, failInfo: "99"} }
			},
		},
		{
			name: "fail/failinfo-missing-is-badrequest", want: "rejected:badRequest",
			setup: func(t *testing.T, f *scepFake) {
				f.reply = func(*fakeMsg, int) fakeReply { return fakeReply{status: smallscep.FAILURE} }
			},
		},
		{
			name: "fail/http-500", want: "unavailable", cause: `HTTP 500`,
			setup: func(t *testing.T, f *scepFake) {
				f.reply = func(*fakeMsg, int) fakeReply { return fakeReply{httpStatus: http.StatusInternalServerError} }
			},
		},
		{
			name: "fail/garbage-certrep", want: "unavailable", cause: `invalid CertRep: not PKCS#7 SignedData`,
			setup: func(t *testing.T, f *scepFake) {
				f.reply = func(*fakeMsg, int) fakeReply { return fakeReply{body: []byte("<html>oops</html>")} }
			},
		},
		{
			name: "fail/certrep-signed-by-stranger", want: "unavailable", cause: `invalid CertRep: signature`,
			setup: func(t *testing.T, f *scepFake) {
				f.reply = func(*fakeMsg, int) fakeReply { return fakeReply{signer: stranger} }
			},
		},
		{
			name: "fail/recipient-nonce-not-ours", want: "unavailable", cause: `recipientNonce does not echo our senderNonce`,
			setup: func(t *testing.T, f *scepFake) {
				f.reply = func(*fakeMsg, int) fakeReply { return fakeReply{nonce: bytes.Repeat([]byte{1}, 16)} }
			},
		},
		{
			name: "fail/transaction-id-not-ours", want: "unavailable", cause: `transactionID is not the request's`,
			setup: func(t *testing.T, f *scepFake) {
				f.reply = func(*fakeMsg, int) fakeReply { return fakeReply{tid: "someone-else"} }
			},
		},
		{
			name: "fail/unknown-pkistatus", want: "unavailable", cause: `unknown pkiStatus "9"`,
			setup: func(t *testing.T, f *scepFake) {
				f.reply = func(*fakeMsg, int) fakeReply { return fakeReply{status: "9"} }
			},
		},
		{
			name: "fail/certificate-for-another-key", want: "unavailable", cause: `returned certificates is for the CSR's key`,
			setup: func(t *testing.T, f *scepFake) {
				f.reply = func(*fakeMsg, int) fakeReply {
					return fakeReply{cert: f.ca.issue(t, "x", mustECKey(t).Public(), x509.KeyUsageDigitalSignature)}
				}
			},
		},
		{
			name: "fail/certificate-not-from-the-ca", want: "unavailable", cause: `not signed by a GetCACert CA`,
			setup: func(t *testing.T, f *scepFake) {
				f.reply = func(m *fakeMsg, _ int) fakeReply { return fakeReply{cert: otherIssued(t, m.csr.PublicKey)} }
			},
		},
		{
			// smallstep/scep's DecryptPKIEnvelope would index an empty
			// slice here.
			name: "fail/success-without-certificate", want: "unavailable", cause: `PKCS#7 holds no certificate`,
			setup: func(t *testing.T, f *scepFake) {
				f.reply = func(*fakeMsg, int) fakeReply { return fakeReply{noCerts: true} }
			},
		},
		{
			name: "fail/getcacert-garbage", want: "unavailable", cause: `garbage GetCACert answer`,
			setup: func(t *testing.T, f *scepFake) { f.cacert = []byte("not a certificate") },
		},
		{
			name: "fail/getcacert-ec-ca", want: "unavailable", cause: `has no RSA key`,
			setup: func(t *testing.T, f *scepFake) { f.cacert = ecCACert(t) },
		},
		{
			name: "fail/csr-without-upstream-challenge", challenge: "upstream-secret", csrChallenge: "certgate-secret", want: "rejected:unauthorized",
			check: func(t *testing.T, f *scepFake, csr *x509.CertificateRequest, raw []byte, cert *x509.Certificate, err error) {
				if n := len(f.messages()) + f.getCount("GetCACert"); n != 0 {
					t.Errorf("%d requests reached the upstream, want none", n)
				}
			},
		},
		{
			name: "ok/csr-with-upstream-challenge", challenge: "upstream-secret", csrChallenge: "upstream-secret",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newSCEPFake(t, ca)
			if tc.setup != nil {
				tc.setup(t, f)
			}
			s, _ := newTestSCEP(t, f.url(), func(c *SCEPConfig) { c.Challenge = tc.challenge })
			csr, raw := deviceCSR(t, "device-1", tc.csrChallenge)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			cert, err := s.Forward(ctx, csr, raw, tc.tid)
			wantErr(t, err, tc.want)
			if tc.cause != "" && !strings.Contains(err.Error(), tc.cause) {
				t.Fatalf("error %q, want it to say %q", err, tc.cause)
			}
			if err == nil {
				if cert == nil || !bytes.Equal(mustSPKI(t, csr), cert.RawSubjectPublicKeyInfo) {
					t.Fatal("no certificate for the device's key")
				}
			}
			if tc.check != nil {
				tc.check(t, f, csr, raw, cert, err)
			}
		})
	}
}

func onlyMsg(t *testing.T, f *scepFake) *fakeMsg {
	t.Helper()
	msgs := f.messages()
	if len(msgs) != 1 {
		t.Fatalf("%d PKIOperations, want 1", len(msgs))
	}
	return msgs[0]
}

func mustSPKI(t *testing.T, csr *x509.CertificateRequest) []byte {
	t.Helper()
	b, err := x509.MarshalPKIXPublicKey(csr.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSCEPPoll is the device's later poll: Poll sends a CertPoll for the
// held transaction, never a second PKCSReq.
func TestSCEPPoll(t *testing.T) {
	ca := newRootCA(t, "upstream SCEP CA", 1)
	f := newSCEPFake(t, ca)
	approved := false
	f.reply = func(*fakeMsg, int) fakeReply {
		if !approved {
			return fakeReply{status: smallscep.PENDING}
		}
		return fakeReply{}
	}
	s, _ := newTestSCEP(t, f.url(), nil)
	csr, raw := deviceCSR(t, "held-device", "")
	// A deadline shorter than one poll interval and its margin (3 s):
	// Forward answers pending after the PKCSReq.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	_, err := s.Forward(ctx, csr, raw, "tid-held")
	cancel()
	wantErr(t, err, "pending")

	f.mu.Lock()
	approved = true
	f.mu.Unlock()
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cert, err := s.Poll(ctx, csr, raw, "tid-held")
	wantErr(t, err, "")
	if cert.Subject.CommonName != "held-device" {
		t.Fatalf("CN %q", cert.Subject.CommonName)
	}
	msgs := f.messages()
	if len(msgs) != 2 || msgs[0].msgType != smallscep.PKCSReq || msgs[1].msgType != smallscep.CertPoll || msgs[1].tid != "tid-held" {
		t.Fatalf("%d messages, want PKCSReq then CertPoll for tid-held", len(msgs))
	}

	// The upstream gone: the request stays pending, with the reason.
	f.srv.Close()
	_, err = s.Poll(ctx, csr, raw, "tid-held")
	wantErr(t, err, "pending")
	var pe *PendingError
	if !errors.As(err, &pe) || !errors.Is(pe.Cause, ErrUnavailable) {
		t.Fatalf("error %v: want pending with the unavailable poll as cause", err)
	}
}

// TestSCEPChain checks GetCACert's roles: the RA certificate is left out
// of the chain, which is ordered issuing CA first.
func TestSCEPChain(t *testing.T) {
	root := newRootCA(t, "root", 1)
	issuing := root.subCA(t, "issuing", 2)
	ra := raFor(t, issuing, 4)
	f := newSCEPFake(t, issuing)
	der, err := pkcs7.DegenerateCertificate(append(append(append([]byte(nil), root.cert.Raw...), ra.cert.Raw...), issuing.cert.Raw...))
	if err != nil {
		t.Fatal(err)
	}
	f.cacert = der
	s, _ := newTestSCEP(t, f.url(), nil)
	chain, err := s.Chain(context.Background())
	wantErr(t, err, "")
	if len(chain) != 2 || !chain[0].Equal(issuing.cert) || !chain[1].Equal(root.cert) {
		t.Fatalf("chain of %d, want issuing then root", len(chain))
	}
	ca, _ := s.ca.get(context.Background())
	if !ca.recipient.Equal(ra.cert) {
		t.Fatalf("recipient %v, want the RA certificate", ca.recipient.Subject)
	}
}

// TestSCEPRoots: with Roots set, GetCACert must chain to them.
func TestSCEPRoots(t *testing.T) {
	root := newRootCA(t, "root", 1)
	issuing := root.subCA(t, "issuing", 2)
	other := newRootCA(t, "other", 3)
	pool := func(cas ...*testCA) *x509.CertPool {
		p := x509.NewCertPool()
		for _, c := range cas {
			p.AddCert(c.cert)
		}
		return p
	}
	for _, tc := range []struct {
		name  string
		ca    *testCA
		ra    bool
		roots *x509.CertPool
		want  string
		cause string
	}{
		{"ok/ca-is-the-root", root, false, pool(root), "", ""},
		{"ok/issuing-and-ra-under-root", issuing, true, pool(root), "", ""},
		{"ok/no-roots-trusts-getcacert", issuing, false, nil, "", ""},
		{"fail/other-root", root, false, pool(other), "unavailable", `"CN=root" does not chain to the configured roots`},
		{"fail/intermediate-missing", issuing, false, pool(other, root.subCA(t, "impostor", 4)), "unavailable", "does not chain"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newSCEPFake(t, tc.ca)
			if tc.ra {
				f.ra = raFor(t, tc.ca, 5)
			}
			s, _ := newTestSCEP(t, f.url(), func(c *SCEPConfig) { c.Roots = tc.roots })
			csr, raw := deviceCSR(t, "d", "")
			_, err := s.Forward(context.Background(), csr, raw, "")
			wantErr(t, err, tc.want)
			if tc.cause != "" && !strings.Contains(err.Error(), tc.cause) {
				t.Fatalf("error %q, want it to say %q", err, tc.cause)
			}
		})
	}
}

// TestSCEPCAIdentifier: CAIdentifier goes with GetCACaps and GetCACert,
// and nothing goes without it.
func TestSCEPCAIdentifier(t *testing.T) {
	ca := newRootCA(t, "CA", 1)
	for _, tc := range []struct{ name, ident, want string }{
		{"ok/none", "", "(none)"},
		{"ok/ejbca-style", "ManagementCA", "ManagementCA"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newSCEPFake(t, ca)
			s, _ := newTestSCEP(t, f.url(), func(c *SCEPConfig) { c.CAIdentifier = tc.ident })
			if _, err := s.Chain(context.Background()); err != nil {
				t.Fatal(err)
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			if len(f.idents) != 2 || f.idents[0] != tc.want || f.idents[1] != tc.want {
				t.Fatalf("message parameters %q, want %q twice", f.idents, tc.want)
			}
		})
	}
}

func TestSCEPConfigValidate(t *testing.T) {
	raCert, raKey := selfSigned(t, "RA", 0)
	other := rsaKey(t, 1)
	ecKey := mustECKey(t)
	for _, tc := range []struct {
		name string
		mod  func(*SCEPConfig)
		want string
	}{
		{"ok", func(*SCEPConfig) {}, ""},
		{"fail/name", func(c *SCEPConfig) { c.Name = "" }, "upstream: scep: name: required"},
		{"fail/url-scheme", func(c *SCEPConfig) { c.URL = "ftp://ca/scep" }, "upstream: scep up: url: want http(s)://host/path without query"},
		{"fail/url-query", func(c *SCEPConfig) { c.URL = "http://ca/scep?operation=x" }, "upstream: scep up: url: want http(s)://host/path without query"},
		{"fail/ra-missing", func(c *SCEPConfig) { c.RAKey = nil }, "upstream: scep up: raCert, raKey: required"},
		{"fail/ra-key-mismatch", func(c *SCEPConfig) { c.RAKey = other }, "upstream: scep up: raKey: does not match raCert"},
		{"fail/ra-key-ec", func(c *SCEPConfig) { c.RAKey = ecKey }, "upstream: scep up: raKey: must be RSA"},
		{"fail/negative", func(c *SCEPConfig) { c.PollInterval = -1 }, "upstream: scep up: timeout, pollInterval, chainRefresh, coolDown, failureThreshold: must not be negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := SCEPConfig{Name: "up", URL: "http://ca.example/scep", RACert: raCert, RAKey: raKey}
			tc.mod(&cfg)
			_, err := NewSCEP(cfg)
			if got := errString(err); got != tc.want {
				t.Fatalf("error %q, want %q", got, tc.want)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
