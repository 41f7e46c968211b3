package upstream

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/smallstep/pkcs7"
	smallscep "github.com/smallstep/scep"
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

// scepTransactionID is the ID the upstream knows the request by. The
// device's own ID is reused when it is a PrintableString (RFC 8894
// §3.2.1.1 wants one), so that a device polling certgate and certgate
// polling the upstream speak of the same transaction; otherwise (EST
// devices have none) it is the hex SHA-256 of the CSR's public key, which
// §3.2.1.1 suggests and which Poll derives identically.
func scepTransactionID(deviceID string, csr *x509.CertificateRequest) string {
	if deviceID != "" && len(deviceID) <= 128 && printable(deviceID) {
		return deviceID
	}
	sum := sha256.Sum256(csr.RawSubjectPublicKeyInfo)
	return hex.EncodeToString(sum[:])
}

// printable reports whether s fits an ASN.1 PrintableString.
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte(" '()+,-./:=?", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// pkiMessage is a request the gateway built.
type pkiMessage struct {
	der           []byte
	transactionID string
	senderNonce   []byte
}

// buildMessage signs content, encrypted to the CA, as msgType with the RA
// certificate and key (RFC 8894 §3.2). For a PKCSReq the content is the
// device's CSR byte for byte; for a CertPoll it is IssuerAndSubject.
func (s *SCEP) buildMessage(ca *scepCA, msgType smallscep.MessageType, transactionID string, content []byte) (*pkiMessage, error) {
	env, err := envelope(content, ca.recipient, ca.cipher)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("senderNonce: %w", err)
	}
	sd, err := pkcs7.NewSignedData(env)
	if err != nil {
		return nil, err
	}
	// Per message, not pkcs7's package-global default.
	if ca.digest == "SHA-256" {
		sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
	} else {
		sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA1)
	}
	err = sd.AddSigner(s.raCert, s.raKey, pkcs7.SignerInfoConfig{ExtraSignedAttributes: []pkcs7.Attribute{
		{Type: oidTransactionID, Value: smallscep.TransactionID(transactionID)},
		{Type: oidMessageType, Value: msgType},
		{Type: oidSenderNonce, Value: smallscep.SenderNonce(nonce)},
	}})
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	der, err := sd.Finish()
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	return &pkiMessage{der: der, transactionID: transactionID, senderNonce: nonce}, nil
}

// issuerAndSubject is the CertPoll content (RFC 8894 §3.3.3).
type issuerAndSubject struct {
	Issuer  asn1.RawValue
	Subject asn1.RawValue
}

// certRep is a verified CertRep.
type certRep struct {
	status   smallscep.PKIStatus
	failInfo smallscep.FailInfo
	// envelope is the encrypted content of a SUCCESS.
	envelope []byte
}

// errBadCertRep marks a CertRep that is not a valid answer to our
// request: the upstream is broken or someone is in the way.
var errBadCertRep = errors.New("invalid CertRep")

// parseCertRep verifies der as the CertRep to req: signed by a GetCACert
// certificate, same transactionID, our nonce echoed (RFC 8894 §3.2.1.5
// and §3.3.2). Only the fields a CertRep needs are read; smallstep/scep's
// ParsePKIMessage is not used because its DecryptPKIEnvelope indexes the
// first certificate of a possibly empty answer.
func parseCertRep(der []byte, req *pkiMessage, ca *scepCA) (*certRep, error) {
	p7, err := pkcs7.Parse(der)
	if err != nil {
		return nil, fmt.Errorf("%w: not PKCS#7 SignedData: %v", errBadCertRep, err)
	}
	if len(p7.Signers) != 1 {
		return nil, fmt.Errorf("%w: %d signers, want 1", errBadCertRep, len(p7.Signers))
	}
	if err := ca.verifyCertRep(p7); err != nil {
		return nil, fmt.Errorf("%w: signature: %v", errBadCertRep, err)
	}
	var (
		tid      smallscep.TransactionID
		msgType  smallscep.MessageType
		recNonce []byte
		rep      certRep
	)
	if err := p7.UnmarshalSignedAttribute(oidTransactionID, &tid); err != nil || string(tid) != req.transactionID {
		return nil, fmt.Errorf("%w: transactionID is not the request's", errBadCertRep)
	}
	if err := p7.UnmarshalSignedAttribute(oidMessageType, &msgType); err != nil || msgType != smallscep.CertRep {
		return nil, fmt.Errorf("%w: messageType is not CertRep", errBadCertRep)
	}
	if err := p7.UnmarshalSignedAttribute(oidRecipientNonce, &recNonce); err != nil || !bytes.Equal(recNonce, req.senderNonce) {
		return nil, fmt.Errorf("%w: recipientNonce does not echo our senderNonce", errBadCertRep)
	}
	if err := p7.UnmarshalSignedAttribute(oidPKIStatus, &rep.status); err != nil {
		return nil, fmt.Errorf("%w: no pkiStatus", errBadCertRep)
	}
	switch rep.status {
	case smallscep.SUCCESS:
		rep.envelope = p7.Content
	case smallscep.FAILURE:
		// A missing failInfo is tolerated as badRequest: the refusal
		// itself is clear.
		_ = p7.UnmarshalSignedAttribute(oidFailInfo, &rep.failInfo)
	case smallscep.PENDING:
	default:
		return nil, fmt.Errorf("%w: unknown pkiStatus %q", errBadCertRep, sanitize(string(rep.status)))
	}
	return &rep, nil
}

// issuedCert decrypts a SUCCESS CertRep's degenerate PKCS#7 with the RA
// key and returns the certificate for the CSR's key, which must have been
// signed by the upstream CA.
func (s *SCEP) issuedCert(rep *certRep, csr *x509.CertificateRequest, ca *scepCA) (*x509.Certificate, error) {
	env, err := pkcs7.Parse(rep.envelope)
	if err != nil {
		return nil, fmt.Errorf("%w: content is not EnvelopedData: %v", errBadCertRep, err)
	}
	plain, err := env.Decrypt(s.raCert, s.raKey)
	if err != nil {
		return nil, fmt.Errorf("%w: decrypt with the RA key: %v", errBadCertRep, err)
	}
	certs, err := parseCertsDER(plain)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errBadCertRep, err)
	}
	cert, err := certForKey(certs, csr)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errBadCertRep, err)
	}
	if !ca.issuedBy(cert) {
		return nil, fmt.Errorf("%w: the certificate was not signed by a GetCACert CA", errBadCertRep)
	}
	return cert, nil
}

// failInfoReason maps RFC 8894 §3.2.1.4.5 failInfo; an unknown or
// missing one is badRequest.
func failInfoReason(fi smallscep.FailInfo) Reason {
	switch fi {
	case smallscep.BadAlg:
		return ReasonBadAlg
	case smallscep.BadMessageCheck:
		return ReasonBadMessageCheck
	case smallscep.BadTime:
		return ReasonBadTime
	case smallscep.BadCertID:
		return ReasonBadCertID
	}
	return ReasonBadRequest
}
