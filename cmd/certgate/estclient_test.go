package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/smallstep/pkcs7"
)

// enrollEST runs one EST simpleenroll with HTTP Basic against estURL
// (trusting root) and returns the issued certificate and the DER of the
// server's TLS certificate.
func enrollEST(t *testing.T, estURL string, root *x509.Certificate, challenge string) (*x509.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "est-device"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(root)
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	req, err := http.NewRequest(http.MethodPost, estURL+"simpleenroll", bytes.NewReader([]byte(base64.StdEncoding.EncodeToString(csr))))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/pkcs10")
	req.SetBasicAuth("device", challenge)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("EST simpleenroll: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("EST simpleenroll: %s: %s", resp.Status, body)
	}
	der, err := base64.StdEncoding.DecodeString(string(bytes.ReplaceAll(body, []byte("\n"), nil)))
	if err != nil {
		t.Fatalf("answer is not base64: %v", err)
	}
	p7, err := pkcs7.Parse(der)
	if err != nil || len(p7.Certificates) != 1 {
		t.Fatalf("answer is not a certs-only PKCS#7 with one certificate: %v", err)
	}
	return p7.Certificates[0], resp.TLS.PeerCertificates[0].Raw
}
