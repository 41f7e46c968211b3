package scep

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"

	"github.com/smallstep/pkcs7"
	smallscep "github.com/smallstep/scep"

	"github.com/certgate/certgate/ca"
	"github.com/certgate/certgate/enroll"
)

// RFC 8894 §3.2.1 signed attributes.
var (
	oidMessageType    = asn1.ObjectIdentifier{2, 16, 840, 1, 113733, 1, 9, 2}
	oidPKIStatus      = asn1.ObjectIdentifier{2, 16, 840, 1, 113733, 1, 9, 3}
	oidFailInfo       = asn1.ObjectIdentifier{2, 16, 840, 1, 113733, 1, 9, 4}
	oidSenderNonce    = asn1.ObjectIdentifier{2, 16, 840, 1, 113733, 1, 9, 5}
	oidRecipientNonce = asn1.ObjectIdentifier{2, 16, 840, 1, 113733, 1, 9, 6}
	oidTransactionID  = asn1.ObjectIdentifier{2, 16, 840, 1, 113733, 1, 9, 7}
)

func init() {
	// Windows' self-signed PKCSReq signer has a critical AKI (see doc.go).
	pkcs7.SetFallbackLegacyX509CertificateParserEnabled(true)
}

// decodeError is a request that cannot be answered with a CertRep because
// it is not a SCEP message we can attribute to a transaction.
type decodeError struct {
	status int
	// msg is shown to the client; cause only to the log.
	msg   string
	cause error
}

func (e *decodeError) Error() string {
	if e.cause != nil {
		return e.msg + ": " + e.cause.Error()
	}
	return e.msg
}

// message is a parsed, not yet verified, SCEP pkiMessage.
type message struct {
	p7            *pkcs7.PKCS7
	transactionID smallscep.TransactionID
	messageType   smallscep.MessageType
	senderNonce   []byte
	// signer is the certificate that signed the message: self-signed for
	// PKCSReq, a certificate we issued for RenewalReq. Replies are
	// encrypted to it.
	signer *x509.Certificate
	// digest is the signer's digest algorithm, reused for the reply.
	digest asn1.ObjectIdentifier
}

// parseMessage decodes the outer SignedData and the attributes a CertRep
// needs. Errors are *decodeError: nothing can be answered in SCEP terms.
func parseMessage(der []byte) (*message, error) {
	p7, err := pkcs7.Parse(der)
	if err != nil {
		return nil, &decodeError{status: 400, msg: "scep: message is not a PKCS#7 SignedData", cause: err}
	}
	if len(p7.Signers) != 1 {
		return nil, &decodeError{status: 400, msg: fmt.Sprintf("scep: message has %d signers, want 1", len(p7.Signers))}
	}
	m := &message{p7: p7, digest: p7.Signers[0].DigestAlgorithm.Algorithm}
	if err := p7.UnmarshalSignedAttribute(oidTransactionID, &m.transactionID); err != nil || m.transactionID == "" {
		return nil, &decodeError{status: 400, msg: "scep: message has no transactionID"}
	}
	if err := p7.UnmarshalSignedAttribute(oidMessageType, &m.messageType); err != nil {
		return nil, &decodeError{status: 400, msg: "scep: message has no messageType"}
	}
	if err := p7.UnmarshalSignedAttribute(oidSenderNonce, &m.senderNonce); err != nil || len(m.senderNonce) == 0 {
		return nil, &decodeError{status: 400, msg: "scep: message has no senderNonce"}
	}
	m.signer = p7.GetOnlySigner()
	if m.signer == nil {
		return nil, &decodeError{status: 400, msg: "scep: message does not carry its signer's certificate"}
	}
	return m, nil
}

// verify checks the message signature. From here on errors are failures
// that a CertRep can carry.
func (m *message) verify() error {
	if _, err := hashForOID(m.digest); err != nil {
		return &enroll.Failure{Reason: enroll.BadAlg, Detail: err.Error()}
	}
	err := m.p7.Verify()
	if err == nil {
		return nil
	}
	var st *pkcs7.SigningTimeNotValidError
	if errors.As(err, &st) {
		return &enroll.Failure{Reason: enroll.BadTime, Detail: "signingTime outside the signer certificate's validity", Err: err}
	}
	return &enroll.Failure{Reason: enroll.BadMessageCheck, Detail: "message signature does not verify", Err: err}
}

// csrRequest is the decrypted content of a PKCSReq or RenewalReq.
type csrRequest struct {
	raw       []byte
	csr       *x509.CertificateRequest
	challenge string
	cipher    cipherAlg
}

// open decrypts the pkcsPKIEnvelope with the RA key and returns its
// content and the cipher it used.
func (m *message) open(raCert *x509.Certificate, raKey crypto.Decrypter) ([]byte, cipherAlg, error) {
	cipher, ok := envelopeCipher(m.p7.Content)
	if !ok {
		return nil, cipherAlg{}, &enroll.Failure{Reason: enroll.BadAlg, Detail: "pkcsPKIEnvelope uses an unsupported content cipher (want AES-CBC or DES-EDE3-CBC)"}
	}
	raw, err := openEnvelope(m.p7.Content, cipher, raCert, raKey)
	if err != nil {
		return nil, cipherAlg{}, &enroll.Failure{Reason: enroll.BadMessageCheck, Detail: "pkcsPKIEnvelope cannot be decrypted with the CA key", Err: err}
	}
	return raw, cipher, nil
}

// decrypt opens the pkcsPKIEnvelope with the RA key and parses the CSR.
func (m *message) decrypt(raCert *x509.Certificate, raKey crypto.Decrypter) (*csrRequest, error) {
	raw, cipher, err := m.open(raCert, raKey)
	if err != nil {
		return nil, err
	}
	csr, err := x509.ParseCertificateRequest(raw)
	if err != nil {
		return nil, &enroll.Failure{Reason: enroll.BadRequest, Detail: "envelope does not hold a PKCS#10 request", Err: err}
	}
	challenge, err := ca.ChallengePassword(csr)
	if err != nil {
		return nil, &enroll.Failure{Reason: enroll.BadRequest, Detail: "malformed challengePassword attribute", Err: err}
	}
	return &csrRequest{raw: raw, csr: csr, challenge: challenge, cipher: cipher}, nil
}

// canReceive reports whether a reply can be encrypted to the signer.
func (m *message) canReceive() bool {
	_, ok := m.signer.PublicKey.(*rsa.PublicKey)
	return ok
}

var (
	oidSHA1   = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA512 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
	oidSHA384 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
)

func hashForOID(oid asn1.ObjectIdentifier) (crypto.Hash, error) {
	switch {
	case oid.Equal(oidSHA256):
		return crypto.SHA256, nil
	case oid.Equal(oidSHA512):
		return crypto.SHA512, nil
	case oid.Equal(oidSHA384):
		return crypto.SHA384, nil
	case oid.Equal(oidSHA1):
		return crypto.SHA1, nil
	}
	return 0, fmt.Errorf("digest algorithm %v not accepted (want SHA-256, SHA-512, SHA-384 or SHA-1)", oid)
}

// envelopeCipher finds the content-encryption algorithm of an
// EnvelopedData. It looks for the encoded OID rather than decoding the
// structure because clients built on OpenSSL may send BER with indefinite
// lengths, which encoding/asn1 rejects; each OID's 11-byte encoding occurs
// nowhere else in an envelope except by chance inside ciphertext (2^-88).
func envelopeCipher(envelope []byte) (cipherAlg, bool) {
	for _, c := range ciphers {
		if bytes.Contains(envelope, c.oidDER) {
			return c, true
		}
	}
	return cipherAlg{}, false
}
