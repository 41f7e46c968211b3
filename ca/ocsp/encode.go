package ocsp

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"time"

	xocsp "golang.org/x/crypto/ocsp"
)

// certgate encodes responses itself instead of calling x/crypto/ocsp's
// CreateResponse, for three reasons, each a client we must satisfy:
//   - CreateResponse puts ExtraExtensions in singleExtensions, but RFC 6960
//     §4.4.1 puts the echoed nonce in responseExtensions, the only place
//     OpenSSL's OCSP_check_nonce (FreeRADIUS, openssl ocsp) looks;
//   - it stamps producedAt from the wall clock rounded down to the minute,
//     so it can precede thisUpdate and ignores the injected clock;
//   - it always writes a SHA-1 CertID unless told otherwise per call,
//     while RFC 6960 §4.2.1 answers with the CertID the client sent.
// x/crypto/ocsp still parses and checks every response in the tests.

var (
	oidPKIXOCSPBasic   = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 1}
	oidSHA256WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidECDSAWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	asn1NullRaw        = asn1.RawValue{Tag: asn1.TagNull}
)

// RFC 6960 §4.2.1 ASN.1 for encoding.
type (
	ocspResponse struct {
		Status        asn1.Enumerated
		ResponseBytes responseBytes `asn1:"explicit,tag:0,optional"`
	}
	responseBytes struct {
		ResponseType asn1.ObjectIdentifier
		Response     []byte
	}
	basicOCSPResponse struct {
		TBSResponseData    asn1.RawValue
		SignatureAlgorithm pkix.AlgorithmIdentifier
		Signature          asn1.BitString
		Certs              []asn1.RawValue `asn1:"explicit,tag:0,optional"`
	}
	responseData struct {
		// version is v1, the DEFAULT, so it is omitted (DER).
		ResponderID        asn1.RawValue
		ProducedAt         time.Time `asn1:"generalized"`
		Responses          []singleResponse
		ResponseExtensions []pkix.Extension `asn1:"explicit,tag:1,optional"`
	}
	certID struct {
		HashAlgorithm  pkix.AlgorithmIdentifier
		IssuerNameHash []byte
		IssuerKeyHash  []byte
		SerialNumber   *big.Int
	}
	singleResponse struct {
		CertID     certID
		CertStatus asn1.RawValue
		ThisUpdate time.Time `asn1:"generalized"`
		NextUpdate time.Time `asn1:"generalized,explicit,tag:0,optional"`
	}
	revokedInfo struct {
		RevocationTime time.Time       `asn1:"generalized"`
		Reason         asn1.Enumerated `asn1:"explicit,tag:0,optional"`
	}
)

// template is one singleResponse to sign.
type template struct {
	hash                   hashAlg
	serial                 *big.Int
	status                 int // xocsp.Good, Revoked or Unknown
	revokedAt              time.Time
	reason                 int
	producedAt, thisUpdate time.Time
	nextUpdate             time.Time
	nonce                  []byte // extnValue to echo; nil for none
}

// identity is who signs: the CA itself or its delegated responder.
type identity struct {
	key crypto.Signer
	// cert is the signing certificate: the delegated responder (included
	// in the response) or the CA (not included; the client has it).
	cert      *x509.Certificate
	delegated bool
}

// encodeResponse signs t as a successful OCSPResponse for issuer.
func encodeResponse(issuer *x509.Certificate, hashes *issuerHashes, id identity, t *template) ([]byte, error) {
	status, err := certStatus(t)
	if err != nil {
		return nil, err
	}
	data := responseData{
		// byName (RFC 6960 §4.2.2.3), as x/crypto/ocsp writes it.
		ResponderID: asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 1, IsCompound: true, Bytes: id.cert.RawSubject},
		ProducedAt:  t.producedAt.UTC(),
		Responses: []singleResponse{{
			CertID: certID{
				HashAlgorithm:  pkix.AlgorithmIdentifier{Algorithm: t.hash.oid(), Parameters: asn1NullRaw},
				IssuerNameHash: hashes[t.hash].name,
				IssuerKeyHash:  hashes[t.hash].key,
				SerialNumber:   t.serial,
			},
			CertStatus: status,
			ThisUpdate: t.thisUpdate.UTC(),
			NextUpdate: t.nextUpdate.UTC(),
		}},
	}
	if t.nonce != nil {
		data.ResponseExtensions = []pkix.Extension{{Id: oidNonce, Value: t.nonce}}
	}
	tbs, err := asn1.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("ocsp: encode response data: %w", err)
	}
	sigAlg, err := signatureAlgorithm(id.key.Public())
	if err != nil {
		return nil, err
	}
	digest := sha256.Sum256(tbs)
	sig, err := id.key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("ocsp: sign: %w", err)
	}
	basic := basicOCSPResponse{
		TBSResponseData:    asn1.RawValue{FullBytes: tbs},
		SignatureAlgorithm: sigAlg,
		Signature:          asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)},
	}
	if id.delegated {
		// RFC 6960 §4.2.2.2: the client needs the responder certificate
		// to check the signature; it has the CA's.
		basic.Certs = []asn1.RawValue{{FullBytes: id.cert.Raw}}
	}
	basicDER, err := asn1.Marshal(basic)
	if err != nil {
		return nil, fmt.Errorf("ocsp: encode basic response: %w", err)
	}
	der, err := asn1.Marshal(ocspResponse{
		Status:        asn1.Enumerated(xocsp.Success),
		ResponseBytes: responseBytes{ResponseType: oidPKIXOCSPBasic, Response: basicDER},
	})
	if err != nil {
		return nil, fmt.Errorf("ocsp: encode response: %w", err)
	}
	return der, nil
}

// certStatus encodes the CertStatus CHOICE, whose alternatives are
// IMPLICITly tagged: good [0] NULL, revoked [1] RevokedInfo, unknown [2] NULL.
func certStatus(t *template) (asn1.RawValue, error) {
	switch t.status {
	case xocsp.Good:
		return asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0}, nil
	case xocsp.Unknown:
		return asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 2}, nil
	case xocsp.Revoked:
		info := revokedInfo{RevocationTime: t.revokedAt.UTC()}
		// unspecified (0) is left out, as RFC 5280 §5.3.1 asks of CRLs.
		if t.reason != 0 {
			info.Reason = asn1.Enumerated(t.reason)
		}
		der, err := asn1.Marshal(info)
		if err != nil {
			return asn1.RawValue{}, fmt.Errorf("ocsp: encode revoked info: %w", err)
		}
		var seq asn1.RawValue
		if _, err := asn1.Unmarshal(der, &seq); err != nil {
			return asn1.RawValue{}, fmt.Errorf("ocsp: encode revoked info: %w", err)
		}
		return asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 1, IsCompound: true, Bytes: seq.Bytes}, nil
	}
	return asn1.RawValue{}, fmt.Errorf("ocsp: status %d cannot be encoded", t.status)
}

// signatureAlgorithm is what key signs SHA-256 digests as.
func signatureAlgorithm(pub crypto.PublicKey) (pkix.AlgorithmIdentifier, error) {
	switch pub.(type) {
	case *rsa.PublicKey:
		// RFC 4055 §5: RSA PKCS#1 v1.5 identifiers carry NULL parameters.
		return pkix.AlgorithmIdentifier{Algorithm: oidSHA256WithRSA, Parameters: asn1NullRaw}, nil
	case *ecdsa.PublicKey:
		// RFC 5758 §3.2: ECDSA identifiers carry no parameters.
		return pkix.AlgorithmIdentifier{Algorithm: oidECDSAWithSHA256}, nil
	}
	return pkix.AlgorithmIdentifier{}, fmt.Errorf("ocsp: %T keys are not supported (RSA, ECDSA)", pub)
}
