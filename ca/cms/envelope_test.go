package cms

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smallstep/pkcs7"
)

// party is a certificate and its key.
type party struct {
	cert *x509.Certificate
	key  crypto.Signer
}

func selfSigned(key crypto.Signer, cn string, serial int64) (party, error) {
	tpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, key.Public(), key)
	if err != nil {
		return party{}, err
	}
	cert, err := x509.ParseCertificate(der)
	return party{cert: cert, key: key}, err
}

// rsaParties are two RSA recipients, made once: key generation is slow.
var rsaParties = sync.OnceValues(func() ([2]party, error) {
	var ps [2]party
	for i := range ps {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return ps, err
		}
		if ps[i], err = selfSigned(key, "cms test recipient", int64(i+1)); err != nil {
			return ps, err
		}
	}
	return ps, nil
})

func testParties(t *testing.T) (alice, bob party) {
	t.Helper()
	ps, err := rsaParties()
	if err != nil {
		t.Fatal(err)
	}
	return ps[0], ps[1]
}

// TestEnvelopeRoundTrip opens what Envelope builds with smallstep/pkcs7,
// an independent implementation, and with Open.
func TestEnvelopeRoundTrip(t *testing.T) {
	alice, _ := testParties(t)
	content := []byte("a PKCS#10 request, or a degenerate certs-only SignedData")
	tests := []struct {
		name   string
		cipher Cipher
		pkcs7  bool // smallstep/pkcs7 cannot decrypt AES-192-CBC
	}{
		{name: "ok/aes128-cbc", cipher: AES128CBC, pkcs7: true},
		{name: "ok/aes192-cbc", cipher: AES192CBC},
		{name: "ok/aes256-cbc", cipher: AES256CBC, pkcs7: true},
		{name: "ok/des-ede3-cbc", cipher: DESEDE3CBC, pkcs7: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			der, err := Envelope(content, alice.cert, tt.cipher)
			if err != nil {
				t.Fatal(err)
			}
			if got := envelopeCipherOID(t, der); !got.Equal(tt.cipher.OID()) {
				t.Fatalf("content cipher %v, want %v", got, tt.cipher.OID())
			}
			if tt.pkcs7 {
				p7, err := pkcs7.Parse(der)
				if err != nil {
					t.Fatal(err)
				}
				got, err := p7.Decrypt(alice.cert, alice.key)
				if err != nil || !bytes.Equal(got, content) {
					t.Fatalf("pkcs7 Decrypt = %q, %v", got, err)
				}
			}
			got, err := Open(der, alice.cert, alice.key.(crypto.Decrypter))
			if err != nil || !bytes.Equal(got, content) {
				t.Fatalf("Open = %q, %v", got, err)
			}
		})
	}
}

// envelopeCipherOID reads the content cipher of an envelope.
func envelopeCipherOID(t *testing.T, der []byte) asn1.ObjectIdentifier {
	t.Helper()
	var ci ContentInfo
	if err := UnmarshalAll(der, &ci); err != nil || !ci.ContentType.Equal(OIDEnvelopedData) {
		t.Fatalf("not an EnvelopedData ContentInfo: %v", err)
	}
	var ed EnvelopedData
	if err := UnmarshalAll(ci.Content.Bytes, &ed); err != nil {
		t.Fatal(err)
	}
	return ed.EncryptedContentInfo.ContentEncryptionAlgorithm.Algorithm
}

func TestEnvelopeErrors(t *testing.T) {
	alice, _ := testParties(t)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ec, err := selfSigned(ecKey, "ec", 1)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		recipient *x509.Certificate
		cipher    Cipher
		err       string
	}{
		{name: "fail/no cipher", recipient: alice.cert, err: "envelope: no content cipher"},
		{name: "fail/single DES", recipient: alice.cert, cipher: DESCBC, err: "envelope: des-cbc is too weak to send with"},
		{name: "fail/no recipient", cipher: AES128CBC, err: "envelope: no recipient certificate"},
		{name: "fail/EC recipient", recipient: ec.cert, cipher: AES128CBC, err: "envelope: recipient key is not RSA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			der, err := Envelope([]byte("x"), tt.recipient, tt.cipher)
			if err == nil || err.Error() != tt.err || der != nil {
				t.Fatalf("Envelope = %d bytes, %v; want error %q", len(der), err, tt.err)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	alice, bob := testParties(t)
	sealed := func(c Cipher, padded, iv []byte) func(t *testing.T) []byte {
		return func(t *testing.T) []byte {
			der, err := seal(padded, alice.cert, c, make([]byte, c.keySize), iv)
			if err != nil {
				t.Fatal(err)
			}
			return der
		}
	}
	// reencode changes one part of a good envelope.
	reencode := func(f func(*EnvelopedData)) func(t *testing.T) []byte {
		return func(t *testing.T) []byte {
			der, err := Envelope([]byte("x"), alice.cert, AES128CBC)
			if err != nil {
				t.Fatal(err)
			}
			var ci ContentInfo
			var ed EnvelopedData
			if err := UnmarshalAll(der, &ci); err != nil {
				t.Fatal(err)
			}
			if err := UnmarshalAll(ci.Content.Bytes, &ed); err != nil {
				t.Fatal(err)
			}
			f(&ed)
			if ci.Content.Bytes, err = asn1.Marshal(ed); err != nil {
				t.Fatal(err)
			}
			ci.Content.FullBytes = nil
			if der, err = asn1.Marshal(ci); err != nil {
				t.Fatal(err)
			}
			return der
		}
	}
	tests := []struct {
		name string
		der  func(t *testing.T) []byte
		to   party
		err  string
	}{
		{name: "fail/not DER", der: func(*testing.T) []byte { return []byte{0x30, 0x80} }, to: alice,
			err: "envelope: not a DER EnvelopedData"},
		{name: "fail/signed data", der: func(t *testing.T) []byte {
			der, err := asn1.Marshal(ContentInfo{ContentType: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2},
				Content: asn1.RawValue{Class: asn1.ClassContextSpecific, IsCompound: true, Bytes: []byte{0x30, 0}}})
			if err != nil {
				t.Fatal(err)
			}
			return der
		}, to: alice, err: "envelope: not a DER EnvelopedData"},
		{name: "fail/content not [0]", der: func(t *testing.T) []byte {
			der, err := asn1.Marshal(ContentInfo{ContentType: OIDEnvelopedData, Content: asn1.RawValue{Tag: asn1.TagSequence, IsCompound: true, Bytes: []byte{}}})
			if err != nil {
				t.Fatal(err)
			}
			return der
		}, to: alice, err: "envelope: not a DER EnvelopedData"},
		{name: "fail/rc2", der: reencode(func(ed *EnvelopedData) {
			ed.EncryptedContentInfo.ContentEncryptionAlgorithm.Algorithm = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 2}
		}), to: alice, err: "envelope: unsupported content cipher 1.2.840.113549.3.2"},
		{name: "fail/other recipient", der: sealed(AES128CBC, make([]byte, 16), make([]byte, 16)), to: bob,
			err: "envelope: no RSA recipient info for the certificate"},
		{name: "fail/OAEP recipient info", der: reencode(func(ed *EnvelopedData) {
			ed.RecipientInfos[0].KeyEncryptionAlgorithm.Algorithm = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 7}
		}), to: alice, err: "envelope: no RSA recipient info for the certificate"},
		{name: "fail/short IV", der: reencode(func(ed *EnvelopedData) {
			ed.EncryptedContentInfo.ContentEncryptionAlgorithm.Parameters = asn1.RawValue{FullBytes: []byte{4, 8, 0, 0, 0, 0, 0, 0, 0, 0}}
		}), to: alice, err: "envelope: bad IV or ciphertext length"},
		{name: "fail/partial block", der: reencode(func(ed *EnvelopedData) {
			ed.EncryptedContentInfo.EncryptedContent = ed.EncryptedContentInfo.EncryptedContent[:15]
		}), to: alice, err: "envelope: bad IV or ciphertext length"},
		{name: "fail/no ciphertext", der: reencode(func(ed *EnvelopedData) {
			ed.EncryptedContentInfo.EncryptedContent = nil
		}), to: alice, err: "envelope: bad IV or ciphertext length"},
		{name: "fail/bad padding", der: sealed(AES256CBC, make([]byte, 32), make([]byte, 16)), to: alice,
			err: "envelope: bad padding"},
		{name: "fail/bad padding des", der: sealed(DESCBC, []byte("1234567\x02"), make([]byte, 8)), to: alice,
			err: "envelope: bad padding"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Open(tt.der(t), tt.to.cert, tt.to.key.(crypto.Decrypter))
			if err == nil || !strings.HasPrefix(err.Error(), tt.err) || got != nil {
				t.Fatalf("Open = %q, %v; want error %q", got, err, tt.err)
			}
		})
	}
}

// TestOpenDES reads single DES, which Envelope will not write.
func TestOpenDES(t *testing.T) {
	alice, _ := testParties(t)
	content := []byte("from micromdm scepclient")
	der, err := seal(pad(content, 8), alice.cert, DESCBC, []byte("8bytekey"), make([]byte, 8))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Open(der, alice.cert, alice.key.(crypto.Decrypter))
	if err != nil || !bytes.Equal(got, content) {
		t.Fatalf("Open = %q, %v", got, err)
	}
}

func TestOpenArguments(t *testing.T) {
	alice, _ := testParties(t)
	der, err := Envelope([]byte("x"), alice.cert, AES128CBC)
	if err != nil {
		t.Fatal(err)
	}
	noSerial := *alice.cert
	noSerial.SerialNumber = nil
	tests := []struct {
		name string
		cert *x509.Certificate
		key  crypto.Decrypter
	}{
		{name: "fail/no certificate", key: alice.key.(crypto.Decrypter)},
		{name: "fail/no key", cert: alice.cert},
		{name: "fail/certificate without serial", cert: &noSerial, key: alice.key.(crypto.Decrypter)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Open(der, tt.cert, tt.key)
			if err == nil || err.Error() != "envelope: no recipient certificate or key" {
				t.Fatalf("Open error %v", err)
			}
		})
	}
}
