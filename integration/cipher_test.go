//go:build integration

package integration

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"testing"

	"github.com/smallstep/pkcs7"
	"github.com/smallstep/scep"
)

// Content-encryption algorithm OIDs.
var (
	oidDESCBC    = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 7}
	oidDESEDE3   = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}
	oidAES128CBC = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
)

// TestSCEPCipherMatrix sends PKCSReqs whose envelope uses each cipher a
// real client may pick and checks that certgate answers SUCCESS with a
// CertRep that decrypts and is encrypted with the same cipher. AES-128 and
// AES-256 envelopes come from smallstep/pkcs7 (its global
// ContentEncryptionAlgorithm, hence no t.Parallel here); pkcs7 cannot
// encrypt with DES-EDE3 or AES-192, so those envelopes are built by
// buildEnvelope below.
func TestSCEPCipherMatrix(t *testing.T) {
	srv := startServer(t, newDataDir(t))
	c := newSCEPClient(t, srv.URL+"/scep")
	defer setDefaultCipher()

	for _, tc := range []struct {
		name string
		// pkcs7Alg is the pkcs7.ContentEncryptionAlgorithm to use, or -1
		// for the hand-built envelope with ownKeySize and ownBlock.
		pkcs7Alg   int
		ownKeySize int
		ownBlock   func([]byte) (cipher.Block, error)
		oid        asn1.ObjectIdentifier
	}{
		{name: "ok/aes128-cbc", pkcs7Alg: pkcs7.EncryptionAlgorithmAES128CBC, oid: oidAES128CBC},
		{name: "ok/aes256-cbc", pkcs7Alg: pkcs7.EncryptionAlgorithmAES256CBC, oid: oidAES256CBC},
		{name: "ok/aes192-cbc", pkcs7Alg: -1, ownKeySize: 24, ownBlock: aes.NewCipher, oid: oidAES192CBC},
		{name: "ok/des-ede3-cbc", pkcs7Alg: -1, ownKeySize: 24, ownBlock: des.NewTripleDESCipher, oid: oidDESEDE3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := pkcsReq(t, "cipher-"+tc.name[3:], srv.Challenge())
			var raw []byte
			var err error
			if tc.pkcs7Alg >= 0 {
				pkcs7.ContentEncryptionAlgorithm = tc.pkcs7Alg
				raw, err = c.build(r)
				setDefaultCipher()
			} else {
				raw, err = c.buildOwn(r, tc.oid, tc.ownKeySize, tc.ownBlock)
			}
			if err != nil {
				t.Fatalf("build: %v", err)
			}
			if got := mustEnvelopeCipher(t, raw); !got.Equal(tc.oid) {
				t.Fatalf("request envelope cipher %v, want %v: the test built the wrong message", got, tc.oid)
			}
			body, err := c.post(t.Context(), raw)
			if err != nil {
				t.Fatal(err)
			}
			// smallstep/pkcs7 cannot decrypt AES-192 either, so the reply
			// is opened by openEnvelope (any CBC cipher of the table).
			rep, err := c.openWith(body, r.Signer, openEnvelope)
			if err != nil {
				t.Fatal(err)
			}
			mustIssued(t, rep, r)
			if got := mustEnvelopeCipher(t, body); !got.Equal(tc.oid) {
				t.Errorf("CertRep envelope cipher %v, want the request's %v", got, tc.oid)
			}
		})
	}

	// Single DES is what pkcs7 (and Debian's scepclient) use by default.
	// Whether certgate accepts it is a policy choice; answering with it is
	// not allowed either way.
	t.Run("ok/des-cbc-never-answered-in-kind", func(t *testing.T) {
		r := pkcsReq(t, "cipher-des", srv.Challenge())
		pkcs7.ContentEncryptionAlgorithm = pkcs7.EncryptionAlgorithmDESCBC
		raw, err := c.build(r)
		setDefaultCipher()
		if err != nil {
			t.Fatalf("build: %v", err)
		}
		body, err := c.post(t.Context(), raw)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := c.open(body, r.Signer)
		if err != nil {
			t.Fatal(err)
		}
		switch rep.PKIStatus {
		case scep.FAILURE:
			mustFail(t, rep, scep.BadAlg)
		case scep.SUCCESS:
			mustIssued(t, rep, r)
			if got := mustEnvelopeCipher(t, body); got.Equal(oidDESCBC) {
				t.Errorf("CertRep encrypted with single DES")
			}
		default:
			t.Fatalf("pkiStatus %q", string(rep.PKIStatus))
		}
	})
}

// mustEnvelopeCipher returns the content-encryption OID of the
// EnvelopedData inside a pkiMessage (request or CertRep).
func mustEnvelopeCipher(t *testing.T, pkiMessage []byte) asn1.ObjectIdentifier {
	t.Helper()
	p7, err := pkcs7.Parse(pkiMessage)
	if err != nil {
		t.Fatalf("parse pkiMessage: %v", err)
	}
	var ci struct {
		ContentType asn1.ObjectIdentifier
		Content     asn1.RawValue `asn1:"explicit,tag:0"`
	}
	if _, err := asn1.Unmarshal(p7.Content, &ci); err != nil {
		t.Fatalf("pkcsPKIEnvelope ContentInfo: %v", err)
	}
	var env struct {
		Version              int
		RecipientInfos       asn1.RawValue
		EncryptedContentInfo struct {
			ContentType asn1.ObjectIdentifier
			Algorithm   pkix.AlgorithmIdentifier
			Encrypted   asn1.RawValue `asn1:"optional"`
		}
	}
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &env); err != nil {
		t.Fatalf("pkcsPKIEnvelope EnvelopedData: %v", err)
	}
	return env.EncryptedContentInfo.Algorithm.Algorithm
}

// SCEP signed attributes (RFC 8894 §3.2.1).
var (
	oidSCEPMessageType   = asn1.ObjectIdentifier{2, 16, 840, 1, 113733, 1, 9, 2}
	oidSCEPSenderNonce   = asn1.ObjectIdentifier{2, 16, 840, 1, 113733, 1, 9, 5}
	oidSCEPTransactionID = asn1.ObjectIdentifier{2, 16, 840, 1, 113733, 1, 9, 7}
	oidPKCS7Data         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidPKCS7Enveloped    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 3}
	oidRSAEncryption     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
)

// buildOwn encodes r like build, but with an envelope of any CBC cipher:
// the pkiMessage layout of RFC 8894 §3.2 assembled from pkcs7's SignedData
// and buildEnvelope.
func (c *scepClient) buildOwn(r scepRequest, oid asn1.ObjectIdentifier, keySize int, block func([]byte) (cipher.Block, error)) ([]byte, error) {
	recipients := scep.EnciphermentCertsSelector().SelectCerts(c.caCerts)
	if len(recipients) == 0 {
		return nil, errors.New("no CA certificate allows key encipherment")
	}
	env, err := buildEnvelope(r.CSR.Raw, recipients[0], oid, keySize, block)
	if err != nil {
		return nil, err
	}
	sd, err := pkcs7.NewSignedData(env)
	if err != nil {
		return nil, err
	}
	sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
	spki, err := x509.MarshalPKIXPublicKey(r.CSR.PublicKey)
	if err != nil {
		return nil, err
	}
	tid := sha256.Sum256(spki)
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	err = sd.AddSigner(r.Signer.Cert, r.Signer.Key, pkcs7.SignerInfoConfig{ExtraSignedAttributes: []pkcs7.Attribute{
		{Type: oidSCEPTransactionID, Value: hex.EncodeToString(tid[:])},
		{Type: oidSCEPMessageType, Value: string(r.Type)},
		{Type: oidSCEPSenderNonce, Value: nonce},
	}})
	if err != nil {
		return nil, err
	}
	return sd.Finish()
}

// CMS EnvelopedData (RFC 5652 §6) with one key-transport recipient.
type envContentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue
}

type envelopedData struct {
	Version              int
	RecipientInfos       []keyTransRecipient `asn1:"set"`
	EncryptedContentInfo envEncryptedContent
}

type keyTransRecipient struct {
	Version         int
	IssuerAndSerial issuerAndSerial
	KeyAlgorithm    pkix.AlgorithmIdentifier
	EncryptedKey    []byte
}

type issuerAndSerial struct {
	Issuer asn1.RawValue
	Serial *big.Int
}

type envEncryptedContent struct {
	ContentType asn1.ObjectIdentifier
	Algorithm   pkix.AlgorithmIdentifier
	Encrypted   []byte `asn1:"tag:0,optional"`
}

// buildEnvelope encrypts content for recipient's RSA key (PKCS#1 v1.5 key
// transport) with a CBC cipher identified by oid.
func buildEnvelope(content []byte, recipient *x509.Certificate, oid asn1.ObjectIdentifier, keySize int, newBlock func([]byte) (cipher.Block, error)) ([]byte, error) {
	pub, ok := recipient.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("recipient key is %T, not RSA", recipient.PublicKey)
	}
	key := make([]byte, keySize)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	block, err := newBlock(key)
	if err != nil {
		return nil, err
	}
	iv := make([]byte, block.BlockSize())
	if _, err := rand.Read(iv); err != nil {
		return nil, err
	}
	pad := block.BlockSize() - len(content)%block.BlockSize()
	plain := append(append([]byte{}, content...), bytes.Repeat([]byte{byte(pad)}, pad)...)
	ct := make([]byte, len(plain))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(ct, plain)
	//lint:ignore SA1019 SCEP key transport is PKCS#1 v1.5 (RFC 8894 §3.2.2); every client and server implements only that.
	encKey, err := rsa.EncryptPKCS1v15(rand.Reader, pub, key)
	if err != nil {
		return nil, err
	}
	ivDER, err := asn1.Marshal(iv)
	if err != nil {
		return nil, err
	}
	inner, err := asn1.Marshal(envelopedData{
		RecipientInfos: []keyTransRecipient{{
			IssuerAndSerial: issuerAndSerial{
				Issuer: asn1.RawValue{FullBytes: recipient.RawIssuer},
				Serial: recipient.SerialNumber,
			},
			KeyAlgorithm: pkix.AlgorithmIdentifier{Algorithm: oidRSAEncryption, Parameters: asn1.NullRawValue},
			EncryptedKey: encKey,
		}},
		EncryptedContentInfo: envEncryptedContent{
			ContentType: oidPKCS7Data,
			Algorithm:   pkix.AlgorithmIdentifier{Algorithm: oid, Parameters: asn1.RawValue{FullBytes: ivDER}},
			Encrypted:   ct,
		},
	})
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(envContentInfo{
		ContentType: oidPKCS7Enveloped,
		Content:     asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: inner},
	})
}

// openWith is open with a custom envelope decryptor.
func (c *scepClient) openWith(body []byte, signer identity, decrypt func(env []byte, key *rsa.PrivateKey) ([]byte, error)) (*scep.PKIMessage, error) {
	msg, err := scep.ParsePKIMessage(body, scep.WithCACerts(c.caCerts))
	if err != nil {
		return nil, fmt.Errorf("parse CertRep: %w", err)
	}
	if msg.CertRepMessage == nil || msg.PKIStatus != scep.SUCCESS {
		return msg, nil
	}
	p7, err := pkcs7.Parse(body)
	if err != nil {
		return nil, err
	}
	deg, err := decrypt(p7.Content, signer.Key)
	if err != nil {
		return nil, fmt.Errorf("decrypt CertRep: %w", err)
	}
	certs, err := scep.CACerts(deg)
	if err != nil || len(certs) == 0 {
		return nil, fmt.Errorf("CertRep envelope holds no certificate: %v", err)
	}
	msg.Certificate = certs[0]
	return msg, nil
}

// openEnvelope decrypts a DER EnvelopedData with one RSA key-transport
// recipient and any CBC cipher buildEnvelope supports.
func openEnvelope(der []byte, key *rsa.PrivateKey) ([]byte, error) {
	var ci struct {
		ContentType asn1.ObjectIdentifier
		Content     asn1.RawValue `asn1:"explicit,tag:0"`
	}
	if _, err := asn1.Unmarshal(der, &ci); err != nil {
		return nil, fmt.Errorf("ContentInfo: %w", err)
	}
	var env struct {
		Version              int
		RecipientInfos       []keyTransRecipient `asn1:"set"`
		EncryptedContentInfo struct {
			ContentType asn1.ObjectIdentifier
			Algorithm   pkix.AlgorithmIdentifier
			Encrypted   []byte `asn1:"tag:0"`
		}
	}
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &env); err != nil {
		return nil, fmt.Errorf("EnvelopedData: %w", err)
	}
	if len(env.RecipientInfos) != 1 {
		return nil, fmt.Errorf("%d recipients, want 1", len(env.RecipientInfos))
	}
	//lint:ignore SA1019 SCEP key transport is PKCS#1 v1.5 (RFC 8894 §3.2.2); this is the test client's side.
	cek, err := rsa.DecryptPKCS1v15(nil, key, env.RecipientInfos[0].EncryptedKey)
	if err != nil {
		return nil, fmt.Errorf("content key: %w", err)
	}
	var newBlock func([]byte) (cipher.Block, error)
	switch alg := env.EncryptedContentInfo.Algorithm.Algorithm; {
	case alg.Equal(oidDESEDE3):
		newBlock = des.NewTripleDESCipher
	case alg.Equal(oidAES128CBC), alg.Equal(oidAES192CBC), alg.Equal(oidAES256CBC):
		newBlock = aes.NewCipher
	default:
		return nil, fmt.Errorf("content cipher %v not supported here", alg)
	}
	block, err := newBlock(cek)
	if err != nil {
		return nil, err
	}
	var iv []byte
	if _, err := asn1.Unmarshal(env.EncryptedContentInfo.Algorithm.Parameters.FullBytes, &iv); err != nil || len(iv) != block.BlockSize() {
		return nil, fmt.Errorf("bad IV parameter: %v", err)
	}
	ct := env.EncryptedContentInfo.Encrypted
	if len(ct) == 0 || len(ct)%block.BlockSize() != 0 {
		return nil, fmt.Errorf("ciphertext length %d", len(ct))
	}
	plain := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, ct)
	pad := int(plain[len(plain)-1])
	if pad == 0 || pad > block.BlockSize() || !bytes.Equal(plain[len(plain)-pad:], bytes.Repeat([]byte{byte(pad)}, pad)) {
		return nil, errors.New("bad padding")
	}
	return plain[:len(plain)-pad], nil
}
