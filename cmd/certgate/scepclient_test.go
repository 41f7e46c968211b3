package main

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net/http"
	"testing"
	"time"

	smallscep "github.com/smallstep/scep"
	"github.com/smallstep/scep/x509util"
)

// enrollSCEP enrolls one device as a smallstep/scep client would: a
// PKCSReq signed with a self-signed certificate, encrypted to the CA,
// POSTed to scepURL. It returns the issued certificate.
func enrollSCEP(t *testing.T, scepURL string, caCert *x509.Certificate, challenge string) *x509.Certificate {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	self := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "serve-test-device"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, self, self, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	if self, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	csrDER, err := x509util.CreateCertificateRequest(rand.Reader, &x509util.CertificateRequest{
		CertificateRequest: x509.CertificateRequest{Subject: pkix.Name{CommonName: "serve-test-device"}},
		ChallengePassword:  challenge,
	}, key)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := x509.ParseCertificateRequest(csrDER)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := smallscep.NewCSRRequest(csr, &smallscep.PKIMessage{
		MessageType: smallscep.PKCSReq,
		Recipients:  []*x509.Certificate{caCert},
		SignerKey:   key,
		SignerCert:  self,
	})
	if err != nil {
		t.Fatal(err)
	}

	resp, err := http.Post(scepURL+"?operation=PKIOperation", "application/x-pki-message", bytes.NewReader(msg.Raw))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PKIOperation: status %d: %s", resp.StatusCode, body)
	}
	rep, err := smallscep.ParsePKIMessage(body, smallscep.WithCACerts([]*x509.Certificate{caCert}))
	if err != nil {
		t.Fatalf("parse CertRep: %v", err)
	}
	if rep.PKIStatus != smallscep.SUCCESS {
		t.Fatalf("CertRep status %q, failInfo %q; want SUCCESS", rep.PKIStatus, rep.FailInfo)
	}
	if err := rep.DecryptPKIEnvelope(self, key); err != nil {
		t.Fatalf("decrypt CertRep: %v", err)
	}
	cert := rep.CertRepMessage.Certificate
	if cert == nil || cert.Subject.CommonName != "serve-test-device" || !key.PublicKey.Equal(cert.PublicKey) {
		t.Fatalf("CertRep holds %v, want a certificate for the device's key", cert)
	}
	return cert
}
