package scep

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"fmt"

	"github.com/smallstep/pkcs7"
	smallscep "github.com/smallstep/scep"
)

// reply describes a CertRep (RFC 8894 §3.3.2).
type reply struct {
	status   smallscep.PKIStatus
	failInfo smallscep.FailInfo
	// cert and cipher are set for SUCCESS: the issued certificate, sent in
	// a degenerate PKCS#7 encrypted with cipher to the request's signer.
	cert   *x509.Certificate
	cipher cipherAlg
}

// certRep builds a signed CertRep answering m. The reply is signed by the
// RA (our SCEP CA) with the digest the client used, when we accept it.
func certRep(m *message, raCert *x509.Certificate, raKey crypto.Signer, r reply) ([]byte, error) {
	var content []byte
	if r.status == smallscep.SUCCESS {
		deg, err := smallscep.DegenerateCertificates([]*x509.Certificate{r.cert})
		if err != nil {
			return nil, fmt.Errorf("scep: certrep: degenerate: %w", err)
		}
		content, err = encryptEnvelope(deg, m.signer, r.cipher)
		if err != nil {
			return nil, fmt.Errorf("scep: certrep: %w", err)
		}
	}
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("scep: certrep: nonce: %w", err)
	}
	attrs := []pkcs7.Attribute{
		{Type: oidTransactionID, Value: m.transactionID},
		{Type: oidMessageType, Value: smallscep.CertRep},
		{Type: oidPKIStatus, Value: r.status},
		{Type: oidSenderNonce, Value: nonce},
		{Type: oidRecipientNonce, Value: m.senderNonce},
	}
	if r.status == smallscep.FAILURE {
		attrs = append(attrs, pkcs7.Attribute{Type: oidFailInfo, Value: r.failInfo})
	}
	sd, err := pkcs7.NewSignedData(content)
	if err != nil {
		return nil, fmt.Errorf("scep: certrep: %w", err)
	}
	sd.SetDigestAlgorithm(replyDigest(m))
	if r.cert != nil {
		// Some clients look for the issued certificate among the outer
		// SignedData's certificates as well as in the envelope.
		sd.AddCertificate(r.cert)
	}
	if err := sd.AddSigner(raCert, raKey, pkcs7.SignerInfoConfig{ExtraSignedAttributes: attrs}); err != nil {
		return nil, fmt.Errorf("scep: certrep: sign: %w", err)
	}
	out, err := sd.Finish()
	if err != nil {
		return nil, fmt.Errorf("scep: certrep: %w", err)
	}
	return out, nil
}

// replyDigest answers with the client's digest where we accept it for
// replies (SHA-1 included: a client that signed with it may verify nothing
// else), and SHA-256 otherwise.
func replyDigest(m *message) asn1.ObjectIdentifier {
	if _, err := hashForOID(m.digest); err == nil {
		return m.digest
	}
	return oidSHA256
}
