package cms

import (
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
)

// Content types (RFC 5652 §4, §6).
var (
	// OIDData is id-data: plain octets.
	OIDData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	// OIDEnvelopedData is id-envelopedData.
	OIDEnvelopedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 3}
)

var oidRSAEncryption = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}

// ContentInfo is the outer CMS wrapper (RFC 5652 §3).
type ContentInfo struct {
	ContentType asn1.ObjectIdentifier
	// Content carries its own [0] EXPLICIT wrapper: encoding/asn1 encodes
	// a RawValue as given and ignores struct tags on it. Decoded, its
	// Bytes are the inner structure's DER.
	Content asn1.RawValue
}

// EnvelopedData is RFC 5652 §6.1 with key-transport recipients only,
// the one kind SCEP uses.
type EnvelopedData struct {
	Version              int
	RecipientInfos       []KeyTransRecipientInfo `asn1:"set"`
	EncryptedContentInfo EncryptedContentInfo
}

// KeyTransRecipientInfo is RFC 5652 §6.2.1, version 0: the recipient is
// named by issuer and serial number.
type KeyTransRecipientInfo struct {
	Version                int
	IssuerAndSerialNumber  IssuerAndSerialNumber
	KeyEncryptionAlgorithm pkix.AlgorithmIdentifier
	EncryptedKey           []byte
}

// IssuerAndSerialNumber names a certificate (RFC 5652 §10.2.4). Issuer
// is kept raw, to be compared byte for byte with x509.Certificate's
// RawIssuer.
type IssuerAndSerialNumber struct {
	Issuer       asn1.RawValue
	SerialNumber *big.Int
}

// EncryptedContentInfo is RFC 5652 §6.1's encrypted payload; for a CBC
// cipher the algorithm's parameters are the IV as an OCTET STRING.
type EncryptedContentInfo struct {
	ContentType                asn1.ObjectIdentifier
	ContentEncryptionAlgorithm pkix.AlgorithmIdentifier
	EncryptedContent           []byte `asn1:"tag:0,optional"`
}

// Envelope encrypts content with c under a fresh random key, which it
// encrypts to recipient's RSA key with PKCS#1 v1.5, and returns the DER
// ContentInfo of the EnvelopedData (RFC 5652 §6, RFC 8894 §3.2.2).
//
// certgate builds envelopes here rather than with smallstep/pkcs7's
// Encrypt, whose cipher is a package-global that concurrent callers would
// race on and which cannot do DES-EDE3.
func Envelope(content []byte, recipient *x509.Certificate, c Cipher) ([]byte, error) {
	if c.newBlock == nil {
		return nil, errors.New("envelope: no content cipher")
	}
	if c.openOnly {
		return nil, fmt.Errorf("envelope: %s is too weak to send with", c.name)
	}
	key := make([]byte, c.keySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("envelope: content key: %w", err)
	}
	iv := make([]byte, c.blockLen)
	if _, err := rand.Read(iv); err != nil {
		return nil, fmt.Errorf("envelope: iv: %w", err)
	}
	return seal(pad(content, c.blockLen), recipient, c, key, iv)
}

// seal is Envelope with the padding, key and IV given, so tests can
// build envelopes Envelope would not.
func seal(padded []byte, recipient *x509.Certificate, c Cipher, key, iv []byte) ([]byte, error) {
	if recipient == nil {
		return nil, errors.New("envelope: no recipient certificate")
	}
	pub, ok := recipient.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, errors.New("envelope: recipient key is not RSA")
	}
	block, err := c.newBlock(key)
	if err != nil {
		return nil, fmt.Errorf("envelope: %s: %w", c.name, err)
	}
	if len(iv) != block.BlockSize() || len(padded)%block.BlockSize() != 0 {
		return nil, errors.New("envelope: IV or content is not a whole block")
	}
	ciphertext := make([]byte, len(padded))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(ciphertext, padded)

	//lint:ignore SA1019 RSA PKCS#1 v1.5 key transport is what SCEP clients and CAs implement (RFC 8894 §3.5.2); OAEP is not interoperable.
	encKey, err := rsa.EncryptPKCS1v15(rand.Reader, pub, key)
	if err != nil {
		return nil, fmt.Errorf("envelope: encrypt key: %w", err)
	}
	ivDER, err := asn1.Marshal(iv)
	if err != nil {
		return nil, fmt.Errorf("envelope: %w", err)
	}
	inner, err := asn1.Marshal(EnvelopedData{
		RecipientInfos: []KeyTransRecipientInfo{{
			IssuerAndSerialNumber:  IssuerAndSerialNumber{Issuer: asn1.RawValue{FullBytes: recipient.RawIssuer}, SerialNumber: recipient.SerialNumber},
			KeyEncryptionAlgorithm: pkix.AlgorithmIdentifier{Algorithm: oidRSAEncryption, Parameters: asn1.NullRawValue},
			EncryptedKey:           encKey,
		}},
		EncryptedContentInfo: EncryptedContentInfo{
			ContentType:                OIDData,
			ContentEncryptionAlgorithm: pkix.AlgorithmIdentifier{Algorithm: c.oid, Parameters: asn1.RawValue{FullBytes: ivDER}},
			EncryptedContent:           ciphertext,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("envelope: %w", err)
	}
	return asn1.Marshal(ContentInfo{
		ContentType: OIDEnvelopedData,
		Content:     asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: inner},
	})
}
