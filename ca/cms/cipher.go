package cms

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"encoding/asn1"
	"errors"
	"slices"
)

// Cipher is a CBC content-encryption algorithm. The zero Cipher is no
// algorithm: Envelope refuses it. Ciphers are not comparable with ==;
// compare their Names.
type Cipher struct {
	name     string
	oid      asn1.ObjectIdentifier
	keySize  int
	blockLen int
	newBlock func(key []byte) (cipher.Block, error)
	// openOnly ciphers are too weak to send with but still arrive.
	openOnly bool
}

// Name is the algorithm's OpenSSL-style name, such as "aes128-cbc".
func (c Cipher) Name() string { return c.name }

// OID is the algorithm identifier. It is a copy: changing it changes no
// Cipher.
func (c Cipher) OID() asn1.ObjectIdentifier { return slices.Clone(c.oid) }

// KeySize is the key length in bytes.
func (c Cipher) KeySize() int { return c.keySize }

// The content ciphers.
var (
	// AES128CBC is what "AES" in SCEP GetCACaps promises (RFC 8894 §3.5.2).
	AES128CBC = Cipher{name: "aes128-cbc", oid: asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}, keySize: 16, blockLen: aes.BlockSize, newBlock: aes.NewCipher}
	// AES192CBC is AES-192 in CBC mode.
	AES192CBC = Cipher{name: "aes192-cbc", oid: asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}, keySize: 24, blockLen: aes.BlockSize, newBlock: aes.NewCipher}
	// AES256CBC is AES-256 in CBC mode.
	AES256CBC = Cipher{name: "aes256-cbc", oid: asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}, keySize: 32, blockLen: aes.BlockSize, newBlock: aes.NewCipher}
	// DESEDE3CBC is three-key triple DES, which every SCEP implementation
	// that predates RFC 8894 has.
	DESEDE3CBC = Cipher{name: "des-ede3-cbc", oid: asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}, keySize: 24, blockLen: des.BlockSize, newBlock: des.NewTripleDESCipher}
	// DESCBC is single DES: Open reads it, because some SCEP clients
	// (micromdm scepclient 2.1.0) send nothing else, and Envelope refuses
	// it.
	DESCBC = Cipher{name: "des-cbc", oid: asn1.ObjectIdentifier{1, 3, 14, 3, 2, 7}, keySize: 8, blockLen: des.BlockSize, newBlock: des.NewCipher, openOnly: true}
)

// Copies taken at start-up, so reassigning an exported variable changes
// nothing here.
var (
	pbes2Ciphers    = []Cipher{AES128CBC, AES192CBC, AES256CBC, DESEDE3CBC}
	envelopeCiphers = []Cipher{AES128CBC, AES192CBC, AES256CBC, DESEDE3CBC, DESCBC}
)

func cipherByOID(list []Cipher, oid asn1.ObjectIdentifier) (Cipher, bool) {
	for _, c := range list {
		if c.oid.Equal(oid) {
			return c, true
		}
	}
	return Cipher{}, false
}

// ErrPadding is returned by Unpad for malformed padding, which after CBC
// decryption usually means the wrong key.
var ErrPadding = errors.New("bad padding")

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

// Unpad strips PKCS#7 padding (RFC 5652 §6.3, RFC 8018 §6.1.1) from b,
// which must be a whole number of blockSize blocks. Any other input,
// including a wrong-length one, yields ErrPadding.
func Unpad(b []byte, blockSize int) ([]byte, error) {
	if blockSize < 1 || blockSize > 255 || len(b) == 0 || len(b)%blockSize != 0 {
		return nil, ErrPadding
	}
	n := int(b[len(b)-1])
	if n == 0 || n > blockSize {
		return nil, ErrPadding
	}
	for _, v := range b[len(b)-n:] {
		if int(v) != n {
			return nil, ErrPadding
		}
	}
	return b[:len(b)-n], nil
}

// cbcDecrypt decrypts ct under key and iv, leaving the padding on.
// Callers check the lengths first, to say which is wrong; the check here
// keeps CryptBlocks from panicking whatever they do.
func cbcDecrypt(c Cipher, key, iv, ct []byte) ([]byte, error) {
	block, err := c.newBlock(key)
	if err != nil {
		return nil, err
	}
	bs := block.BlockSize()
	if len(iv) != bs || len(ct) == 0 || len(ct)%bs != 0 {
		return nil, errors.New("IV or ciphertext is not a whole block")
	}
	pt := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(pt, ct)
	return pt, nil
}
