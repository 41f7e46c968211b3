package upstream

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/smallstep/pkcs7"
	smallscep "github.com/smallstep/scep"
)

// fakeMsg is a request the fake SCEP CA received, decoded independently
// of the code under test (smallstep/pkcs7 parse, verify and decrypt).
type fakeMsg struct {
	method    string
	msgType   smallscep.MessageType
	tid       string
	nonce     []byte
	signer    *x509.Certificate
	cipherOID asn1.ObjectIdentifier
	digestOID asn1.ObjectIdentifier
	csrRaw    []byte // PKCSReq
	csr       *x509.CertificateRequest
	poll      *issuerAndSubject // CertPoll
}

// fakeReply is what the fake answers; zero values make a correct
// SUCCESS. Fields tamper with it.
type fakeReply struct {
	httpStatus int    // non-zero: answer this status, no CertRep
	body       []byte // non-nil: answer these bytes with 200
	status     smallscep.PKIStatus
	failInfo   smallscep.FailInfo
	cert       *x509.Certificate // SUCCESS: this instead of issuing
	noCerts    bool              // SUCCESS with an empty degenerate PKCS#7
	signer     *testCA           // sign with this instead of the fake's signer
	nonce      []byte            // recipientNonce instead of the request's
	tid        string            // transactionID instead of the request's
	block      chan struct{}     // wait for this (or the client leaving)
}

// scepFake is a SCEP CA for tests: GetCACaps, GetCACert and PKIOperation
// (PKCSReq and CertPoll), answering what reply decides.
type scepFake struct {
	t      *testing.T
	srv    *httptest.Server
	ca     *testCA
	ra     *testCA // optional RA: GetCACert returns it too; it decrypts and signs
	caps   string  // "" answers GetCACaps with 404
	cacert []byte  // GetCACert body; nil: derived from ca and ra

	mu      sync.Mutex
	reply   func(m *fakeMsg, n int) fakeReply // n counts PKIOperations from 0
	msgs    []*fakeMsg
	csrs    map[string]*x509.CertificateRequest // by transactionID, for polls
	gets    map[string]int                      // GET operations
	idents  []string                            // message parameters of GetCACaps and GetCACert
	decrypt []error
}

func newSCEPFake(t *testing.T, ca *testCA) *scepFake {
	f := &scepFake{t: t, ca: ca, caps: "AES\nSHA-256\nPOSTPKIOperation\n", csrs: map[string]*x509.CertificateRequest{}, gets: map[string]int{}}
	f.reply = func(*fakeMsg, int) fakeReply { return fakeReply{} }
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *scepFake) url() string { return f.srv.URL + "/scep" }

func (f *scepFake) signerCA() *testCA {
	if f.ra != nil {
		return f.ra
	}
	return f.ca
}

func (f *scepFake) messages() []*fakeMsg {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*fakeMsg(nil), f.msgs...)
}

func (f *scepFake) getCount(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.gets[op]
}

func (f *scepFake) serve(w http.ResponseWriter, r *http.Request) {
	op := r.URL.Query().Get("operation")
	f.mu.Lock()
	f.gets[op]++
	if op == "GetCACaps" || op == "GetCACert" {
		ident := "(none)"
		if r.URL.Query().Has("message") {
			ident = r.URL.Query().Get("message")
		}
		f.idents = append(f.idents, ident)
	}
	f.mu.Unlock()
	switch op {
	case "GetCACaps":
		if f.caps == "" {
			http.NotFound(w, r)
			return
		}
		_, _ = io.WriteString(w, f.caps)
	case "GetCACert":
		body := f.cacert
		if body == nil {
			certs := f.ca.cert.Raw
			if f.ra != nil {
				certs = append(append([]byte(nil), f.ra.cert.Raw...), f.ca.cert.Raw...)
				der, err := pkcs7.DegenerateCertificate(certs)
				if err != nil {
					f.t.Error(err)
				}
				w.Header().Set("Content-Type", "application/x-x509-ca-ra-cert")
				_, _ = w.Write(der)
				return
			}
			body = certs
		}
		w.Header().Set("Content-Type", "application/x-x509-ca-cert")
		_, _ = w.Write(body)
	case "PKIOperation":
		f.pkiOperation(w, r)
	default:
		http.Error(w, "unknown operation", http.StatusBadRequest)
	}
}

func (f *scepFake) pkiOperation(w http.ResponseWriter, r *http.Request) {
	var der []byte
	if r.Method == http.MethodPost {
		der, _ = io.ReadAll(r.Body)
	} else {
		var err error
		if der, err = base64.StdEncoding.DecodeString(r.URL.Query().Get("message")); err != nil {
			http.Error(w, "bad message", http.StatusBadRequest)
			return
		}
	}
	m, err := f.decode(der)
	if err != nil {
		f.mu.Lock()
		f.decrypt = append(f.decrypt, err)
		f.mu.Unlock()
		http.Error(w, "cannot decode: "+err.Error(), http.StatusInternalServerError)
		return
	}
	m.method = r.Method
	f.mu.Lock()
	n := len(f.msgs)
	f.msgs = append(f.msgs, m)
	if m.csr != nil {
		f.csrs[m.tid] = m.csr
	}
	csr := f.csrs[m.tid]
	decide := f.reply
	f.mu.Unlock()

	rep := decide(m, n)
	if rep.block != nil {
		select {
		case <-rep.block:
		case <-r.Context().Done():
			panic(http.ErrAbortHandler) // see hangHandler
		}
	}
	switch {
	case rep.httpStatus != 0:
		http.Error(w, "fake failure", rep.httpStatus)
		return
	case rep.body != nil:
		_, _ = w.Write(rep.body)
		return
	}
	out, err := f.certRep(m, rep, csr)
	if err != nil {
		f.t.Errorf("fake CertRep: %v", err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/x-pki-message")
	_, _ = w.Write(out)
}

// decode parses, verifies and decrypts a request.
func (f *scepFake) decode(der []byte) (*fakeMsg, error) {
	p7, err := pkcs7.Parse(der)
	if err != nil {
		return nil, err
	}
	if err := p7.Verify(); err != nil {
		return nil, err
	}
	m := &fakeMsg{signer: p7.GetOnlySigner(), digestOID: p7.Signers[0].DigestAlgorithm.Algorithm}
	var tid smallscep.TransactionID
	if err := p7.UnmarshalSignedAttribute(oidTransactionID, &tid); err != nil {
		return nil, err
	}
	m.tid = string(tid)
	if err := p7.UnmarshalSignedAttribute(oidMessageType, &m.msgType); err != nil {
		return nil, err
	}
	if err := p7.UnmarshalSignedAttribute(oidSenderNonce, &m.nonce); err != nil {
		return nil, err
	}
	var ci envContentInfo
	var ed envelopedData
	if _, err := asn1.Unmarshal(p7.Content, &ci); err != nil {
		return nil, err
	}
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &ed); err != nil {
		return nil, err
	}
	m.cipherOID = ed.EncryptedContentInfo.ContentEncryptionAlgorithm.Algorithm
	env, err := pkcs7.Parse(p7.Content)
	if err != nil {
		return nil, err
	}
	rcpt := f.signerCA()
	plain, err := env.Decrypt(rcpt.cert, rcpt.key)
	if err != nil {
		return nil, err
	}
	switch m.msgType {
	case smallscep.PKCSReq:
		m.csrRaw = plain
		if m.csr, err = x509.ParseCertificateRequest(plain); err != nil {
			return nil, err
		}
	case smallscep.CertPoll:
		m.poll = &issuerAndSubject{}
		if _, err := asn1.Unmarshal(plain, m.poll); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// certRep builds the answer with smallstep/pkcs7 (its Encrypt with its
// default cipher, not the code under test).
func (f *scepFake) certRep(m *fakeMsg, rep fakeReply, csr *x509.CertificateRequest) ([]byte, error) {
	status := rep.status
	if status == "" {
		status = smallscep.SUCCESS
	}
	var content []byte
	if status == smallscep.SUCCESS {
		var certs []byte
		switch {
		case rep.noCerts:
		case rep.cert != nil:
			certs = rep.cert.Raw
		case csr != nil:
			certs = f.ca.issue(f.t, csr.Subject.CommonName, csr.PublicKey, x509.KeyUsageDigitalSignature, x509.ExtKeyUsageClientAuth).Raw
		}
		deg, err := pkcs7.DegenerateCertificate(certs)
		if err != nil {
			return nil, err
		}
		if content, err = pkcs7.Encrypt(deg, []*x509.Certificate{m.signer}); err != nil {
			return nil, err
		}
	}
	tid, nonce := m.tid, m.nonce
	if rep.tid != "" {
		tid = rep.tid
	}
	if rep.nonce != nil {
		nonce = rep.nonce
	}
	senderNonce := make([]byte, 16)
	_, _ = rand.Read(senderNonce)
	attrs := []pkcs7.Attribute{
		{Type: oidTransactionID, Value: smallscep.TransactionID(tid)},
		{Type: oidMessageType, Value: smallscep.CertRep},
		{Type: oidPKIStatus, Value: status},
		{Type: oidSenderNonce, Value: smallscep.SenderNonce(senderNonce)},
		{Type: oidRecipientNonce, Value: smallscep.RecipientNonce(nonce)},
	}
	if rep.failInfo != "" {
		attrs = append(attrs, pkcs7.Attribute{Type: oidFailInfo, Value: rep.failInfo})
	}
	sd, err := pkcs7.NewSignedData(content)
	if err != nil {
		return nil, err
	}
	signer := f.signerCA()
	if rep.signer != nil {
		signer = rep.signer
	}
	if err := sd.AddSigner(signer.cert, signer.key, pkcs7.SignerInfoConfig{ExtraSignedAttributes: attrs}); err != nil {
		return nil, err
	}
	return sd.Finish()
}

// raFor makes an RA certificate under ca: not a CA, keyEncipherment.
func raFor(t *testing.T, ca *testCA, i int) *testCA {
	key := rsaKey(t, i)
	return &testCA{cert: ca.issue(t, "upstream RA", key.Public(), x509.KeyUsageDigitalSignature|x509.KeyUsageKeyEncipherment), key: key}
}

// otherIssued is a certificate for pub from an unrelated CA.
func otherIssued(t *testing.T, pub crypto.PublicKey) *x509.Certificate {
	other := newRootCA(t, "unrelated CA", 9)
	return other.issue(t, "device", pub, x509.KeyUsageDigitalSignature)
}

// ecCACert is a CA certificate with an ECDSA key, unusable for SCEP.
func ecCACert(t *testing.T) []byte {
	key := mustECKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(7),
		Subject:               pkix.Name{CommonName: "EC CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	return mustCert(t, tmpl, tmpl, key.Public(), key).Raw
}
