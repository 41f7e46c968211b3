//go:build integration

package integration

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/smallstep/pkcs7"
	"github.com/smallstep/scep"
	"github.com/smallstep/scep/x509util"
)

// The Go SCEP client: built on smallstep/scep's client side, for the tests
// that need control over the message (renewal, cipher, GET, concurrency)
// that the command-line clients do not give.

// setDefaultCipher makes AES-256-CBC the envelope cipher of every request
// built with scep.NewCSRRequest. pkcs7's default is single DES, which
// certgate refuses; only TestSCEPCipherMatrix changes it, and it does not
// run in parallel with anything.
func setDefaultCipher() {
	pkcs7.ContentEncryptionAlgorithm = pkcs7.EncryptionAlgorithmAES256CBC
}

// identity is a key and the certificate that goes with it.
type identity struct {
	Key  *rsa.PrivateKey
	Cert *x509.Certificate
}

func newKey() (*rsa.PrivateKey, error) {
	return rsa.GenerateKey(rand.Reader, 2048)
}

// selfSigned returns a self-signed certificate for key, as SCEP clients
// make to sign a PKCSReq.
func selfSigned(key *rsa.PrivateKey, cn string) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// newSelfSignedIdentity returns a fresh key with a self-signed certificate.
func newSelfSignedIdentity(cn string) (identity, error) {
	key, err := newKey()
	if err != nil {
		return identity{}, err
	}
	cert, err := selfSigned(key, cn)
	return identity{Key: key, Cert: cert}, err
}

// newCSR returns a PKCS#10 request for key with CN cn and, when challenge
// is not empty, a challengePassword attribute.
func newCSR(key *rsa.PrivateKey, cn, challenge string) (*x509.CertificateRequest, error) {
	der, err := x509util.CreateCertificateRequest(rand.Reader, &x509util.CertificateRequest{
		CertificateRequest: x509.CertificateRequest{
			Subject:            pkix.Name{CommonName: cn},
			SignatureAlgorithm: x509.SHA256WithRSA,
		},
		ChallengePassword: challenge,
	}, key)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificateRequest(der)
}

// scepRequest is one CSR-carrying PKIOperation to send.
type scepRequest struct {
	Type scep.MessageType
	CSR  *x509.CertificateRequest
	// Key is the CSR's private key.
	Key *rsa.PrivateKey
	// Signer signs the pkiMessage; the CertRep is encrypted to it.
	Signer identity
}

// newPKCSReq builds an initial enrollment: fresh key, challenge in the CSR,
// signed by a self-signed certificate of the same key.
func newPKCSReq(cn, challenge string) (scepRequest, error) {
	id, err := newSelfSignedIdentity(cn)
	if err != nil {
		return scepRequest{}, err
	}
	csr, err := newCSR(id.Key, cn, challenge)
	return scepRequest{Type: scep.PKCSReq, CSR: csr, Key: id.Key, Signer: id}, err
}

func pkcsReq(t *testing.T, cn, challenge string) scepRequest {
	t.Helper()
	r, err := newPKCSReq(cn, challenge)
	if err != nil {
		t.Fatalf("build PKCSReq: %v", err)
	}
	return r
}

// renewalReq builds a RenewalReq for a new key, without a challenge,
// signed by signer (the certificate being renewed, or a stranger).
func renewalReq(t *testing.T, cn string, signer identity) scepRequest {
	t.Helper()
	key, err := newKey()
	if err != nil {
		t.Fatalf("key: %v", err)
	}
	csr, err := newCSR(key, cn, "")
	if err != nil {
		t.Fatalf("csr: %v", err)
	}
	return scepRequest{Type: scep.RenewalReq, CSR: csr, Key: key, Signer: signer}
}

// scepClient talks to one SCEP URL (/scep or /scep/<profile>).
type scepClient struct {
	url     string
	caCerts []*x509.Certificate
	hc      *http.Client
}

// newSCEPClient fetches GetCACert from url, which must answer with the
// degenerate PKCS#7 of [issuing CA, root].
func newSCEPClient(t *testing.T, url string) *scepClient {
	t.Helper()
	c := &scepClient{url: url, hc: &http.Client{Timeout: 60 * time.Second}}
	resp, err := c.hc.Get(url + "?operation=GetCACert")
	if err != nil {
		t.Fatalf("GetCACert: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GetCACert: %s %v", resp.Status, err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/x-x509-ca-ra-cert" {
		t.Fatalf("GetCACert Content-Type %q, want application/x-x509-ca-ra-cert", ct)
	}
	c.caCerts, err = scep.CACerts(body)
	if err != nil {
		t.Fatalf("GetCACert: %v", err)
	}
	return c
}

// build encodes r as a pkiMessage with scep.NewCSRRequest, encrypted with
// pkcs7.ContentEncryptionAlgorithm to the CA certificates that allow key
// encipherment (as a client that reads key usage would choose).
func (c *scepClient) build(r scepRequest) ([]byte, error) {
	msg, err := scep.NewCSRRequest(r.CSR, &scep.PKIMessage{
		MessageType: r.Type,
		Recipients:  c.caCerts,
		SignerKey:   r.Signer.Key,
		SignerCert:  r.Signer.Cert,
	}, scep.WithCertsSelector(scep.EnciphermentCertsSelector()))
	if err != nil {
		return nil, fmt.Errorf("build messageType %s: %w", string(r.Type), err)
	}
	return msg.Raw, nil
}

// post sends a pkiMessage with POST and returns the CertRep bytes.
func (c *scepClient) post(ctx context.Context, raw []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url+"?operation=PKIOperation", bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-pki-message")
	return c.do(req)
}

// get sends a pkiMessage with GET. With escape the base64 is URL-escaped
// as RFC 8894 asks; without, '+', '/' and '=' go raw, as Cisco sends them.
func (c *scepClient) get(ctx context.Context, raw []byte, escape bool) ([]byte, error) {
	msg := base64.StdEncoding.EncodeToString(raw)
	if escape {
		msg = url.QueryEscape(msg)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url+"?operation=PKIOperation&message="+msg, nil)
	if err != nil {
		return nil, err
	}
	return c.do(req)
}

func (c *scepClient) do(req *http.Request) ([]byte, error) {
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s %s: %s: %s", req.Method, req.URL.Path, resp.Status, bytes.TrimSpace(body))
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/x-pki-message" {
		return nil, fmt.Errorf("%s %s: Content-Type %q, want application/x-pki-message", req.Method, req.URL.Path, ct)
	}
	return body, nil
}

// open verifies a CertRep against the CA certificates and, on SUCCESS,
// decrypts the issued certificate with the signer's key.
func (c *scepClient) open(body []byte, signer identity) (*scep.PKIMessage, error) {
	msg, err := scep.ParsePKIMessage(body, scep.WithCACerts(c.caCerts))
	if err != nil {
		return nil, fmt.Errorf("parse CertRep: %w", err)
	}
	if msg.MessageType != scep.CertRep || msg.CertRepMessage == nil {
		return nil, fmt.Errorf("reply messageType %q, want CertRep (3)", string(msg.MessageType))
	}
	if msg.PKIStatus != scep.SUCCESS {
		return msg, nil
	}
	if err := msg.DecryptPKIEnvelope(signer.Cert, signer.Key); err != nil {
		return nil, fmt.Errorf("decrypt CertRep: %w", err)
	}
	if msg.Certificate == nil {
		return nil, errors.New("CertRep SUCCESS without a certificate")
	}
	return msg, nil
}

// transact builds, POSTs and opens one request.
func (c *scepClient) transact(ctx context.Context, r scepRequest) (*scep.PKIMessage, error) {
	raw, err := c.build(r)
	if err != nil {
		return nil, err
	}
	body, err := c.post(ctx, raw)
	if err != nil {
		return nil, err
	}
	return c.open(body, r.Signer)
}

func (c *scepClient) mustTransact(t *testing.T, r scepRequest) *scep.PKIMessage {
	t.Helper()
	msg, err := c.transact(context.Background(), r)
	if err != nil {
		t.Fatalf("%s: %v", string(r.Type), err)
	}
	return msg
}

// mustEnroll runs a PKCSReq and fails the test unless it gets SUCCESS with
// a certificate for the request's key.
func (c *scepClient) mustEnroll(t *testing.T, cn, challenge string) identity {
	t.Helper()
	r := pkcsReq(t, cn, challenge)
	rep := c.mustTransact(t, r)
	return mustIssued(t, rep, r)
}

// mustIssued checks a CertRep is SUCCESS with a certificate for r's key and
// subject, and returns the new identity.
func mustIssued(t *testing.T, rep *scep.PKIMessage, r scepRequest) identity {
	t.Helper()
	if rep.PKIStatus != scep.SUCCESS {
		t.Fatalf("messageType %s: pkiStatus %s failInfo %q, want SUCCESS (0)", string(r.Type), string(rep.PKIStatus), string(rep.FailInfo))
	}
	if !r.Key.PublicKey.Equal(rep.Certificate.PublicKey) {
		t.Fatalf("messageType %s: issued certificate is not for the request's key", string(r.Type))
	}
	if got, want := rep.Certificate.Subject.CommonName, r.CSR.Subject.CommonName; got != want {
		t.Fatalf("messageType %s: issued CN %q, want %q", string(r.Type), got, want)
	}
	return identity{Key: r.Key, Cert: rep.Certificate}
}

// mustFail checks a CertRep is FAILURE with the given failInfo.
func mustFail(t *testing.T, rep *scep.PKIMessage, want scep.FailInfo) {
	t.Helper()
	if rep.PKIStatus != scep.FAILURE || rep.FailInfo != want {
		t.Fatalf("pkiStatus %s failInfo %q, want FAILURE (2) with failInfo %q", string(rep.PKIStatus), string(rep.FailInfo), string(want))
	}
}

// serialHex formats a serial the way certgate's records and CLI do.
func serialHex(c *x509.Certificate) string {
	return c.SerialNumber.Text(16)
}
