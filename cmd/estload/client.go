package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/smallstep/pkcs7"
)

// maxResponseBytes caps what is read from a server; a certs-only answer is
// a few KiB, so anything near this is a broken server, not a certificate.
const maxResponseBytes = 1 << 20

// keyGenerators maps -key to how a client key is made.
var keyGenerators = map[string]func() (crypto.Signer, error){
	"ecdsa": func() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) },
	"rsa2048": func() (crypto.Signer, error) {
		return rsa.GenerateKey(rand.Reader, 2048)
	},
}

// client sends simpleenroll requests to one EST server. It holds only
// read-only state, so workers share it.
type client struct {
	http       *http.Client
	enrollURL  string
	user, pass string
}

// request is one simpleenroll body built ahead of the timed round trip,
// plus the key its answer must certify.
type request struct {
	body []byte
	pub  crypto.PublicKey
}

// errHTTPStatus is a non-200 answer; its value names the failure kind.
type errHTTPStatus int

func (e errHTTPStatus) Error() string { return fmt.Sprintf("estload: HTTP status %d", int(e)) }

// checkError is a 200 answer that does not hold the requested certificate.
type checkError struct {
	reason string // parse, not-certs-only, key-mismatch
	err    error
}

func (e *checkError) Error() string { return "estload: " + e.reason + ": " + e.err.Error() }
func (e *checkError) Unwrap() error { return e.err }

// newClient targets base + "/simpleenroll" (RFC 7030 §3.2.2); base may end
// in an optional label segment.
func newClient(hc *http.Client, base *url.URL, user, pass string) *client {
	u := *base
	u.Path = strings.TrimSuffix(u.Path, "/") + "/simpleenroll"
	u.RawPath = ""
	return &client{http: hc, enrollURL: u.String(), user: user, pass: pass}
}

// build makes a PKCS#10 for key with the given common name, base64
// encoded as RFC 7030 §4.2.1 (and RFC 8951) asks.
func build(key crypto.Signer, cn string) (*request, error) {
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: cn},
	}, key)
	if err != nil {
		return nil, fmt.Errorf("estload: CSR %s: %w", cn, err)
	}
	body := make([]byte, base64.StdEncoding.EncodedLen(len(der)))
	base64.StdEncoding.Encode(body, der)
	return &request{body: body, pub: key.Public()}, nil
}

// send posts one request and returns the body of a 200 answer.
func (c *client) send(ctx context.Context, r *request) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.enrollURL, bytes.NewReader(r.body))
	if err != nil {
		return nil, fmt.Errorf("estload: request: %w", err)
	}
	req.Header.Set("Content-Type", "application/pkcs10")
	req.Header.Set("Content-Transfer-Encoding", "base64")
	if c.pass != "" {
		req.SetBasicAuth(c.user, c.pass)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return nil, fmt.Errorf("estload: read answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, errHTTPStatus(resp.StatusCode)
	}
	return body, nil
}

// check accepts a 200 body only when it is a base64 certs-only PKCS#7
// holding a certificate for the request's key, and returns that
// certificate.
func check(r *request, body []byte) (*x509.Certificate, error) {
	// RFC 7030 answers may wrap their base64 in lines; RFC 8951 §3 makes
	// base64 the only encoding, so no raw DER fallback.
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(body)), ""))
	if err != nil {
		return nil, &checkError{"parse", fmt.Errorf("base64: %w", err)}
	}
	p7, err := pkcs7.Parse(der)
	if err != nil {
		return nil, &checkError{"parse", fmt.Errorf("PKCS#7: %w", err)}
	}
	if len(p7.Signers) > 0 || len(p7.Content) > 0 {
		return nil, &checkError{"not-certs-only", errors.New("PKCS#7 has signers or content")}
	}
	if len(p7.Certificates) == 0 {
		return nil, &checkError{"parse", errors.New("PKCS#7 holds no certificate")}
	}
	want, ok := r.pub.(interface{ Equal(crypto.PublicKey) bool })
	if !ok {
		return nil, &checkError{"key-mismatch", fmt.Errorf("cannot compare %T keys", r.pub)}
	}
	// The issued certificate may come with its chain; it is the one for
	// our key, wherever it is.
	for _, cert := range p7.Certificates {
		if want.Equal(cert.PublicKey) {
			return cert, nil
		}
	}
	return nil, &checkError{"key-mismatch", fmt.Errorf("none of %d certificates is for the CSR's key", len(p7.Certificates))}
}
