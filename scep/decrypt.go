package scep

import (
	"crypto"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"

	"github.com/smallstep/pkcs7"
)

// openEnvelope decrypts a pkcsPKIEnvelope. smallstep/pkcs7 does the work
// (it also copes with BER from OpenSSL-based clients) for every cipher it
// knows; AES-192-CBC, which it lacks, is opened here from DER.
func openEnvelope(envelope []byte, alg cipherAlg, raCert *x509.Certificate, raKey crypto.Decrypter) ([]byte, error) {
	if alg.name == cipherAES192.name {
		return openDEREnvelope(envelope, alg, raCert, raKey)
	}
	env, err := pkcs7.Parse(envelope)
	if err != nil {
		return nil, fmt.Errorf("scep: envelope: %w", err)
	}
	return env.Decrypt(raCert, raKey)
}

// recipientInfo as received: the issuer is compared as raw bytes.
type receivedRecipientInfo struct {
	Version                int
	IssuerAndSerialNumber  issuerAndSerial
	KeyEncryptionAlgorithm struct {
		Algorithm  asn1.ObjectIdentifier
		Parameters asn1.RawValue `asn1:"optional"`
	}
	EncryptedKey []byte
}

type receivedEnvelope struct {
	Version        int
	RecipientInfos []receivedRecipientInfo `asn1:"set"`
	Content        struct {
		ContentType asn1.ObjectIdentifier
		Algorithm   struct {
			Algorithm asn1.ObjectIdentifier
			IV        []byte
		}
		EncryptedContent []byte `asn1:"tag:0,optional"`
	}
}

func openDEREnvelope(der []byte, alg cipherAlg, raCert *x509.Certificate, raKey crypto.Decrypter) ([]byte, error) {
	var ci struct {
		ContentType asn1.ObjectIdentifier
		Content     asn1.RawValue `asn1:"explicit,tag:0"`
	}
	if _, err := asn1.Unmarshal(der, &ci); err != nil || !ci.ContentType.Equal(oidEnvelopedData) {
		return nil, errors.New("scep: envelope: not a DER EnvelopedData")
	}
	var env receivedEnvelope
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &env); err != nil {
		return nil, fmt.Errorf("scep: envelope: %w", err)
	}
	var encKey []byte
	for _, ri := range env.RecipientInfos {
		if ri.IssuerAndSerialNumber.SerialNumber != nil &&
			ri.IssuerAndSerialNumber.SerialNumber.Cmp(raCert.SerialNumber) == 0 &&
			string(ri.IssuerAndSerialNumber.Issuer.FullBytes) == string(raCert.RawIssuer) &&
			ri.KeyEncryptionAlgorithm.Algorithm.Equal(oidRSAEncryption) {
			encKey = ri.EncryptedKey
		}
	}
	if encKey == nil {
		return nil, errors.New("scep: envelope: no RSA recipient info for the CA certificate")
	}
	// SessionKeyLen makes a bad padding yield a random key instead of an
	// error, which blunts the Bleichenbacher padding oracle.
	//lint:ignore SA1019 SCEP clients only implement PKCS#1 v1.5 key transport.
	key, err := raKey.Decrypt(rand.Reader, encKey, &rsa.PKCS1v15DecryptOptions{SessionKeyLen: alg.keySize})
	if err != nil {
		return nil, fmt.Errorf("scep: envelope: %w", err)
	}
	block, err := alg.block(key)
	if err != nil {
		return nil, fmt.Errorf("scep: envelope: %w", err)
	}
	ct, iv := env.Content.EncryptedContent, env.Content.Algorithm.IV
	if len(iv) != block.BlockSize() || len(ct) == 0 || len(ct)%block.BlockSize() != 0 {
		return nil, errors.New("scep: envelope: bad IV or ciphertext length")
	}
	pt := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(pt, ct)
	n := int(pt[len(pt)-1])
	if n == 0 || n > block.BlockSize() {
		return nil, errors.New("scep: envelope: bad padding")
	}
	for _, b := range pt[len(pt)-n:] {
		if int(b) != n {
			return nil, errors.New("scep: envelope: bad padding")
		}
	}
	return pt[:len(pt)-n], nil
}
