package scep

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
)

// cipherAlg is a content-encryption algorithm certgate accepts and answers
// with.
type cipherAlg struct {
	name    string
	oid     asn1.ObjectIdentifier
	oidDER  []byte
	keySize int
	block   func(key []byte) (cipher.Block, error)
}

func newCipherAlg(name string, oid asn1.ObjectIdentifier, keySize int, block func([]byte) (cipher.Block, error)) cipherAlg {
	der, err := asn1.Marshal(oid)
	if err != nil {
		panic("scep: marshal cipher OID: " + err.Error()) // constant input; cannot fail
	}
	return cipherAlg{name: name, oid: oid, oidDER: der, keySize: keySize, block: block}
}

var (
	cipherAES256 = newCipherAlg("aes256-cbc", asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}, 32, aes.NewCipher)
	cipherAES192 = newCipherAlg("aes192-cbc", asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}, 24, aes.NewCipher)
	cipherAES128 = newCipherAlg("aes128-cbc", asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}, 16, aes.NewCipher)
	cipherDES3   = newCipherAlg("des-ede3-cbc", asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}, 24, des.NewTripleDESCipher)
	// cipherDES is accepted on requests only: Debian's scepclient (micromdm
	// 2.1.0) encrypts with single DES whatever GetCACaps says. We answer
	// such a client with DES-EDE3, which it decrypts, and never emit DES.
	cipherDES = newCipherAlg("des-cbc", asn1.ObjectIdentifier{1, 3, 14, 3, 2, 7}, 8, des.NewCipher)
)

// ciphers are the accepted request ciphers. RC2 is deliberately absent.
var ciphers = []cipherAlg{cipherAES256, cipherAES192, cipherAES128, cipherDES3, cipherDES}

// replyCipher is the cipher a CertRep uses for a request encrypted with c.
func replyCipher(c cipherAlg) cipherAlg {
	if c.name == cipherDES.name {
		return cipherDES3
	}
	return c
}

var (
	oidData          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidEnvelopedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 3}
	oidRSAEncryption = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
)

// CMS structures (RFC 5652 §6) for the reply envelope.
type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	// Content carries its own [0] EXPLICIT wrapper: encoding/asn1 encodes a
	// RawValue as given and ignores struct tags on it.
	Content asn1.RawValue
}

type envelopedData struct {
	Version              int
	RecipientInfos       []keyTransRecipientInfo `asn1:"set"`
	EncryptedContentInfo encryptedContentInfo
}

type keyTransRecipientInfo struct {
	Version                int
	IssuerAndSerialNumber  issuerAndSerial
	KeyEncryptionAlgorithm pkix.AlgorithmIdentifier
	EncryptedKey           []byte
}

type issuerAndSerial struct {
	Issuer       asn1.RawValue
	SerialNumber *big.Int
}

type encryptedContentInfo struct {
	ContentType                asn1.ObjectIdentifier
	ContentEncryptionAlgorithm pkix.AlgorithmIdentifier
	EncryptedContent           []byte `asn1:"tag:0,optional"`
}

// encryptEnvelope returns a DER ContentInfo holding content encrypted with
// alg to the recipient's RSA key (PKCS#1 v1.5 key transport, which every
// SCEP client implements).
func encryptEnvelope(content []byte, recipient *x509.Certificate, alg cipherAlg) ([]byte, error) {
	pub, ok := recipient.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, errors.New("scep: envelope: recipient key is not RSA")
	}
	key := make([]byte, alg.keySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("scep: envelope: content key: %w", err)
	}
	block, err := alg.block(key)
	if err != nil {
		return nil, fmt.Errorf("scep: envelope: %s: %w", alg.name, err)
	}
	iv := make([]byte, block.BlockSize())
	if _, err := rand.Read(iv); err != nil {
		return nil, fmt.Errorf("scep: envelope: iv: %w", err)
	}
	padded := pkcs7Pad(content, block.BlockSize())
	ciphertext := make([]byte, len(padded))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(ciphertext, padded)

	// RSA PKCS#1 v1.5 key transport is what RFC 8894 clients implement;
	// OAEP would be refused by most of them.
	//lint:ignore SA1019 required for SCEP interoperability.
	encKey, err := rsa.EncryptPKCS1v15(rand.Reader, pub, key)
	if err != nil {
		return nil, fmt.Errorf("scep: envelope: encrypt key: %w", err)
	}
	ivDER, err := asn1.Marshal(iv)
	if err != nil {
		return nil, fmt.Errorf("scep: envelope: %w", err)
	}
	env := envelopedData{
		Version: 0,
		RecipientInfos: []keyTransRecipientInfo{{
			Version:                0,
			IssuerAndSerialNumber:  issuerAndSerial{Issuer: asn1.RawValue{FullBytes: recipient.RawIssuer}, SerialNumber: recipient.SerialNumber},
			KeyEncryptionAlgorithm: pkix.AlgorithmIdentifier{Algorithm: oidRSAEncryption, Parameters: asn1.NullRawValue},
			EncryptedKey:           encKey,
		}},
		EncryptedContentInfo: encryptedContentInfo{
			ContentType:                oidData,
			ContentEncryptionAlgorithm: pkix.AlgorithmIdentifier{Algorithm: alg.oid, Parameters: asn1.RawValue{FullBytes: ivDER}},
			EncryptedContent:           ciphertext,
		},
	}
	inner, err := asn1.Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("scep: envelope: %w", err)
	}
	return asn1.Marshal(contentInfo{
		ContentType: oidEnvelopedData,
		Content:     asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: inner},
	})
}

func pkcs7Pad(b []byte, blockSize int) []byte {
	n := blockSize - len(b)%blockSize
	out := make([]byte, len(b), len(b)+n)
	copy(out, b)
	for i := 0; i < n; i++ {
		out = append(out, byte(n))
	}
	return out
}
