package cms

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
)

// Open decrypts a DER EnvelopedData ContentInfo addressed to recipient,
// whose private key is key, and returns the content. It reads the ciphers
// Envelope writes and single DES. Bytes after the ContentInfo are
// ignored.
//
// Open reads DER only. Envelopes from OpenSSL-based clients may be BER
// with indefinite lengths; smallstep/pkcs7 reads those, for the ciphers
// it knows.
func Open(der []byte, recipient *x509.Certificate, key crypto.Decrypter) ([]byte, error) {
	if recipient == nil || recipient.SerialNumber == nil || key == nil {
		return nil, errors.New("envelope: no recipient certificate or key")
	}
	var ci ContentInfo
	if _, err := asn1.Unmarshal(der, &ci); err != nil || !ci.ContentType.Equal(OIDEnvelopedData) ||
		ci.Content.Class != asn1.ClassContextSpecific || ci.Content.Tag != 0 || !ci.Content.IsCompound {
		return nil, errors.New("envelope: not a DER EnvelopedData")
	}
	var env EnvelopedData
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &env); err != nil {
		return nil, fmt.Errorf("envelope: %w", err)
	}
	eci := env.EncryptedContentInfo
	c, ok := cipherByOID(envelopeCiphers, eci.ContentEncryptionAlgorithm.Algorithm)
	if !ok {
		return nil, fmt.Errorf("envelope: unsupported content cipher %v", eci.ContentEncryptionAlgorithm.Algorithm)
	}
	var encKey []byte
	for _, ri := range env.RecipientInfos {
		id := ri.IssuerAndSerialNumber
		if id.SerialNumber != nil && id.SerialNumber.Cmp(recipient.SerialNumber) == 0 &&
			string(id.Issuer.FullBytes) == string(recipient.RawIssuer) &&
			ri.KeyEncryptionAlgorithm.Algorithm.Equal(oidRSAEncryption) {
			encKey = ri.EncryptedKey
		}
	}
	if encKey == nil {
		return nil, errors.New("envelope: no RSA recipient info for the certificate")
	}
	var iv []byte
	if err := UnmarshalAll(eci.ContentEncryptionAlgorithm.Parameters.FullBytes, &iv); err != nil ||
		len(iv) != c.blockLen || len(eci.EncryptedContent) == 0 || len(eci.EncryptedContent)%c.blockLen != 0 {
		return nil, errors.New("envelope: bad IV or ciphertext length")
	}
	// SessionKeyLen makes a bad padding yield a random key instead of an
	// error, which blunts the Bleichenbacher padding oracle.
	//lint:ignore SA1019 SCEP clients only implement PKCS#1 v1.5 key transport.
	cek, err := key.Decrypt(rand.Reader, encKey, &rsa.PKCS1v15DecryptOptions{SessionKeyLen: c.keySize})
	if err != nil {
		return nil, fmt.Errorf("envelope: %w", err)
	}
	pt, err := cbcDecrypt(c, cek, iv, eci.EncryptedContent)
	if err != nil {
		return nil, fmt.Errorf("envelope: %w", err)
	}
	content, err := Unpad(pt, c.blockLen)
	if err != nil {
		return nil, fmt.Errorf("envelope: %w", err)
	}
	return content, nil
}
