package upstream

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

// contentCipher is a CMS content-encryption algorithm for the pkcsPKIEnvelope.
type contentCipher struct {
	name    string
	oid     asn1.ObjectIdentifier
	keySize int
	block   func(key []byte) (cipher.Block, error)
}

// The ciphers the gateway sends with. smallstep/pkcs7's Encrypt takes its
// cipher from a package-global variable that other code in this process
// (certgate's SCEP server does not, but a test client might) can change
// concurrently, and cannot do DES-EDE3; we build the envelope here instead
// and touch no global.
var (
	// RFC 8894 §3.5.2: "AES" in GetCACaps promises AES128-CBC.
	cipherAES128 = contentCipher{"aes128-cbc", asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}, 16, aes.NewCipher}
	cipherDES3   = contentCipher{"des-ede3-cbc", asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}, 24, des.NewTripleDESCipher}
)

var (
	oidData          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidEnvelopedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 3}
	oidRSAEncryption = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
)

// RFC 5652 §6 structures.
type envContentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue // carries its own [0] EXPLICIT wrapper
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

// envelope encrypts content to the recipient's RSA key with PKCS#1 v1.5
// key transport, which every SCEP CA implements, and returns the DER
// ContentInfo (RFC 8894 §3.2.2).
func envelope(content []byte, recipient *x509.Certificate, alg contentCipher) ([]byte, error) {
	pub, ok := recipient.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, errors.New("envelope: the CA's encryption certificate has no RSA key")
	}
	key := make([]byte, alg.keySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("envelope: content key: %w", err)
	}
	block, err := alg.block(key)
	if err != nil {
		return nil, fmt.Errorf("envelope: %s: %w", alg.name, err)
	}
	iv := make([]byte, block.BlockSize())
	if _, err := rand.Read(iv); err != nil {
		return nil, fmt.Errorf("envelope: iv: %w", err)
	}
	padded := pad(content, block.BlockSize())
	ciphertext := make([]byte, len(padded))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(ciphertext, padded)

	//lint:ignore SA1019 RSA PKCS#1 v1.5 key transport is what SCEP CAs decrypt (RFC 8894 §3.5.2); OAEP is not interoperable.
	encKey, err := rsa.EncryptPKCS1v15(rand.Reader, pub, key)
	if err != nil {
		return nil, fmt.Errorf("envelope: encrypt key: %w", err)
	}
	ivDER, err := asn1.Marshal(iv)
	if err != nil {
		return nil, fmt.Errorf("envelope: %w", err)
	}
	inner, err := asn1.Marshal(envelopedData{
		RecipientInfos: []keyTransRecipientInfo{{
			IssuerAndSerialNumber:  issuerAndSerial{Issuer: asn1.RawValue{FullBytes: recipient.RawIssuer}, SerialNumber: recipient.SerialNumber},
			KeyEncryptionAlgorithm: pkix.AlgorithmIdentifier{Algorithm: oidRSAEncryption, Parameters: asn1.NullRawValue},
			EncryptedKey:           encKey,
		}},
		EncryptedContentInfo: encryptedContentInfo{
			ContentType:                oidData,
			ContentEncryptionAlgorithm: pkix.AlgorithmIdentifier{Algorithm: alg.oid, Parameters: asn1.RawValue{FullBytes: ivDER}},
			EncryptedContent:           ciphertext,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("envelope: %w", err)
	}
	return asn1.Marshal(envContentInfo{
		ContentType: oidEnvelopedData,
		Content:     asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: inner},
	})
}

// pad applies PKCS#7 padding (RFC 5652 §6.3).
func pad(b []byte, blockSize int) []byte {
	n := blockSize - len(b)%blockSize
	out := make([]byte, len(b), len(b)+n)
	copy(out, b)
	for range n {
		out = append(out, byte(n))
	}
	return out
}
