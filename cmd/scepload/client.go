package main

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
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/smallstep/scep"
	"github.com/smallstep/scep/x509util"
)

// maxResponseBytes caps what is read from a server; a CertRep is a few KiB,
// so anything near this is a broken server, not a certificate.
const maxResponseBytes = 1 << 20

// client talks SCEP to one URL. It holds only read-only state after
// newClient, so workers share it.
type client struct {
	http      *http.Client
	base      *url.URL
	challenge string
	useGET    bool
	// caCerts verify CertRep signatures; recipients encrypt PKCSReq envelopes.
	caCerts    []*x509.Certificate
	recipients []*x509.Certificate
}

// identity is one pooled client key and the self-signed certificate that
// signs its PKCSReq messages and receives the encrypted CertRep.
type identity struct {
	key  *rsa.PrivateKey
	cert *x509.Certificate
}

// request is a PKCSReq built ahead of the timed round trip, plus what is
// needed to check the answer.
type request struct {
	raw   []byte
	tid   scep.TransactionID
	nonce scep.SenderNonce
	id    *identity
}

// newClient fetches GetCACert from base and picks the envelope recipients.
func newClient(ctx context.Context, hc *http.Client, base *url.URL, challenge string, useGET bool) (*client, error) {
	c := &client{http: hc, base: base, challenge: challenge, useGET: useGET}
	certs, err := c.getCACert(ctx)
	if err != nil {
		return nil, err
	}
	c.caCerts = certs
	// An RA advertises itself with an encipherment key usage; a lone CA
	// certificate often has none, and then it is the recipient itself.
	c.recipients = scep.EnciphermentCertsSelector().SelectCerts(certs)
	if len(c.recipients) == 0 {
		c.recipients = certs
	}
	return c, nil
}

func (c *client) opURL(op string, extra url.Values) string {
	u := *c.base
	q := u.Query()
	q.Set("operation", op)
	for k, v := range extra {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func (c *client) getCACert(ctx context.Context) ([]*x509.Certificate, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.opURL("GetCACert", nil), nil)
	if err != nil {
		return nil, fmt.Errorf("scepload: GetCACert request: %w", err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scepload: GetCACert: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return nil, fmt.Errorf("scepload: GetCACert body: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scepload: GetCACert: HTTP %d", resp.StatusCode)
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return parseCACerts(mt, body)
}

// parseCACerts accepts both GetCACert answers of RFC 8894 §4.2.1: one DER
// certificate, or a degenerate PKCS#7 with the RA and CA chain.
func parseCACerts(mediaType string, body []byte) ([]*x509.Certificate, error) {
	if mediaType == "application/x-x509-ca-cert" {
		cert, err := x509.ParseCertificate(body)
		if err != nil {
			return nil, fmt.Errorf("scepload: GetCACert certificate: %w", err)
		}
		return []*x509.Certificate{cert}, nil
	}
	certs, err := scep.CACerts(body)
	if err != nil {
		return nil, fmt.Errorf("scepload: GetCACert PKCS#7 (%q): %w", mediaType, err)
	}
	if len(certs) == 0 {
		return nil, errors.New("scepload: GetCACert PKCS#7 holds no certificate")
	}
	return certs, nil
}

// newIdentity makes a client key and its self-signed signer certificate.
func newIdentity(bits int, serial int64) (*identity, error) {
	key, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, fmt.Errorf("scepload: generate key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: fmt.Sprintf("scepload signer %d", serial)},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("scepload: self-signed certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("scepload: parse self-signed certificate: %w", err)
	}
	return &identity{key: key, cert: cert}, nil
}

// build signs and encrypts a PKCSReq for id. The common name must be unique
// per request: servers such as micromdm's refuse a second live certificate
// for the same name.
func (c *client) build(id *identity, cn string) (*request, error) {
	tmpl := &x509util.CertificateRequest{
		CertificateRequest: x509.CertificateRequest{Subject: pkix.Name{CommonName: cn}},
		ChallengePassword:  c.challenge,
	}
	der, err := x509util.CreateCertificateRequest(rand.Reader, tmpl, id.key)
	if err != nil {
		return nil, fmt.Errorf("scepload: create CSR: %w", err)
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return nil, fmt.Errorf("scepload: parse CSR: %w", err)
	}
	msg, err := scep.NewCSRRequest(csr, &scep.PKIMessage{
		MessageType: scep.PKCSReq,
		Recipients:  c.recipients,
		SignerKey:   id.key,
		SignerCert:  id.cert,
	})
	if err != nil {
		return nil, fmt.Errorf("scepload: build PKCSReq: %w", err)
	}
	return &request{raw: msg.Raw, tid: msg.TransactionID, nonce: msg.SenderNonce, id: id}, nil
}

// errHTTPStatus marks a non-200 answer; its reason names the status.
type errHTTPStatus int

func (e errHTTPStatus) Error() string { return fmt.Sprintf("scepload: HTTP %d", int(e)) }

// send does the one timed round trip and returns the raw CertRep.
func (c *client) send(ctx context.Context, raw []byte) ([]byte, error) {
	var req *http.Request
	var err error
	if c.useGET {
		msg := url.Values{"message": {base64.StdEncoding.EncodeToString(raw)}}
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, c.opURL("PKIOperation", msg), nil)
	} else {
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, c.opURL("PKIOperation", nil), bytes.NewReader(raw))
		if req != nil {
			req.Header.Set("Content-Type", "application/x-pki-message")
		}
	}
	if err != nil {
		return nil, fmt.Errorf("scepload: PKIOperation request: %w", err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, errHTTPStatus(resp.StatusCode)
	}
	return body, nil
}

// checkError is a failed enrollment with a short reason for the tally.
type checkError struct {
	reason string
	err    error
}

func (e *checkError) Error() string { return e.reason + ": " + e.err.Error() }

func fail(reason string, err error) error { return &checkError{reason: reason, err: err} }

// check accepts a CertRep only when it is a signed SUCCESS for this
// transaction whose decrypted certificate carries the requested public key,
// and returns that certificate.
func (c *client) check(req *request, body []byte) (cert *x509.Certificate, err error) {
	// The SCEP library indexes into decoded structures; a hostile answer
	// must count as a failure, not stop the run.
	defer func() {
		if r := recover(); r != nil {
			cert, err = nil, fail("parse", fmt.Errorf("scepload: panic decoding CertRep: %v", r))
		}
	}()
	msg, err := scep.ParsePKIMessage(body, scep.WithCACerts(c.caCerts))
	if err != nil {
		return nil, fail("parse", err)
	}
	if msg.MessageType != scep.CertRep || msg.CertRepMessage == nil {
		return nil, fail("message-type", fmt.Errorf("scepload: got message type %s, want CertRep", msg.MessageType))
	}
	if msg.TransactionID != req.tid {
		return nil, fail("transaction-id", errors.New("scepload: CertRep transactionID does not match the request"))
	}
	if !bytes.Equal(msg.RecipientNonce, req.nonce) {
		return nil, fail("recipient-nonce", errors.New("scepload: CertRep recipientNonce is not our senderNonce"))
	}
	switch msg.PKIStatus {
	case scep.SUCCESS:
	case scep.FAILURE:
		name, _, _ := strings.Cut(msg.FailInfo.String(), " ")
		return nil, fail("failure/"+name, errors.New("scepload: CertRep FAILURE"))
	case scep.PENDING:
		return nil, fail("pending", errors.New("scepload: CertRep PENDING"))
	default:
		return nil, fail("pki-status", fmt.Errorf("scepload: CertRep status %q", msg.PKIStatus))
	}
	if err := msg.DecryptPKIEnvelope(req.id.cert, req.id.key); err != nil {
		return nil, fail("decrypt", err)
	}
	if msg.Certificate == nil {
		return nil, fail("decrypt", errors.New("scepload: CertRep envelope holds no certificate"))
	}
	pub, ok := msg.Certificate.PublicKey.(*rsa.PublicKey)
	if !ok || !pub.Equal(&req.id.key.PublicKey) {
		return nil, fail("key-mismatch", errors.New("scepload: issued certificate does not carry the requested key"))
	}
	return msg.Certificate, nil
}
