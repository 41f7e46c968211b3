package upstream

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
)

// PKCS#5 v2.1 (RFC 8018) identifiers.
var (
	oidPBES2      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidHMACSHA1   = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACSHA256 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidHMACSHA384 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 10}
	oidHMACSHA512 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}
)

// errUnsupportedPBE is a password-based scheme we do not implement (the
// PKCS#12 RC2 and DES ones); PKCS#12 files using them go to x/crypto.
var errUnsupportedPBE = errors.New("unsupported password-based encryption")

// maxIterations bounds the work a hostile key file can ask for; real tools
// use 2048 (OpenSSL) to 600000 (OWASP 2023).
const maxIterations = 10_000_000

type pbes2Params struct {
	KeyDerivationFunc pkix.AlgorithmIdentifier
	EncryptionScheme  pkix.AlgorithmIdentifier
}

type pbkdf2Params struct {
	Salt           []byte // the otherSource CHOICE is unused in practice and refused
	IterationCount int
	KeyLength      int                      `asn1:"optional"`
	PRF            pkix.AlgorithmIdentifier `asn1:"optional"` // absent: hmacWithSHA1
}

type cbcCipher struct {
	keyLen int
	block  func(key []byte) (cipher.Block, error)
}

var pbes2Ciphers = map[string]cbcCipher{
	"2.16.840.1.101.3.4.1.2":  {16, aes.NewCipher},          // aes128-CBC
	"2.16.840.1.101.3.4.1.22": {24, aes.NewCipher},          // aes192-CBC
	"2.16.840.1.101.3.4.1.42": {32, aes.NewCipher},          // aes256-CBC
	"1.2.840.113549.3.7":      {24, des.NewTripleDESCipher}, // des-ede3-cbc
}

var prfs = map[string]func() hash.Hash{
	oidHMACSHA1.String():   sha1.New,
	oidHMACSHA256.String(): sha256.New,
	oidHMACSHA384.String(): sha512.New384,
	oidHMACSHA512.String(): sha512.New,
}

// pbes2Decrypt decrypts data protected with PBES2 = PBKDF2 + a CBC cipher
// (RFC 8018 §6.2), as `openssl pkcs8 -topk8` and OpenSSL 3's PKCS#12
// export write it. alg is the AlgorithmIdentifier naming PBES2.
func pbes2Decrypt(alg pkix.AlgorithmIdentifier, data, password []byte) ([]byte, error) {
	if !alg.Algorithm.Equal(oidPBES2) {
		return nil, fmt.Errorf("%w: %v", errUnsupportedPBE, alg.Algorithm)
	}
	var params pbes2Params
	if err := unmarshalAll(alg.Parameters.FullBytes, &params); err != nil {
		return nil, fmt.Errorf("PBES2 parameters: %w", err)
	}
	if !params.KeyDerivationFunc.Algorithm.Equal(oidPBKDF2) {
		return nil, fmt.Errorf("PBES2: key derivation %v is not PBKDF2", params.KeyDerivationFunc.Algorithm)
	}
	var kdf pbkdf2Params
	if err := unmarshalAll(params.KeyDerivationFunc.Parameters.FullBytes, &kdf); err != nil {
		return nil, fmt.Errorf("PBKDF2 parameters: %w", err)
	}
	if kdf.IterationCount < 1 || kdf.IterationCount > maxIterations {
		return nil, fmt.Errorf("PBKDF2: iteration count %d out of range", kdf.IterationCount)
	}
	prf := sha1.New
	if len(kdf.PRF.Algorithm) > 0 {
		var ok bool
		if prf, ok = prfs[kdf.PRF.Algorithm.String()]; !ok {
			return nil, fmt.Errorf("PBKDF2: unsupported PRF %v", kdf.PRF.Algorithm)
		}
	}
	c, ok := pbes2Ciphers[params.EncryptionScheme.Algorithm.String()]
	if !ok {
		return nil, fmt.Errorf("PBES2: unsupported cipher %v", params.EncryptionScheme.Algorithm)
	}
	if kdf.KeyLength != 0 && kdf.KeyLength != c.keyLen {
		return nil, fmt.Errorf("PBKDF2: key length %d does not fit the cipher", kdf.KeyLength)
	}
	var iv []byte
	if _, err := asn1.Unmarshal(params.EncryptionScheme.Parameters.FullBytes, &iv); err != nil {
		return nil, fmt.Errorf("PBES2: cipher IV: %w", err)
	}
	key, err := pbkdf2.Key(prf, string(password), kdf.Salt, kdf.IterationCount, c.keyLen)
	if err != nil {
		return nil, fmt.Errorf("PBKDF2: %w", err)
	}
	return cbcDecrypt(c.block, key, iv, data)
}

func cbcDecrypt(newBlock func([]byte) (cipher.Block, error), key, iv, data []byte) ([]byte, error) {
	block, err := newBlock(key)
	if err != nil {
		return nil, err
	}
	bs := block.BlockSize()
	if len(iv) != bs || len(data) == 0 || len(data)%bs != 0 {
		return nil, errors.New("ciphertext or IV has the wrong length")
	}
	out := make([]byte, len(data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(out, data)
	// A wrong password shows up here, as bad padding, almost always.
	n := int(out[len(out)-1])
	if n == 0 || n > bs || n > len(out) {
		return nil, errWrongPassphrase
	}
	for _, b := range out[len(out)-n:] {
		if int(b) != n {
			return nil, errWrongPassphrase
		}
	}
	return out[:len(out)-n], nil
}

var errWrongPassphrase = errors.New("wrong passphrase or corrupt data")

func unmarshalAll(der []byte, v any) error {
	rest, err := asn1.Unmarshal(der, v)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return errors.New("trailing data")
	}
	return nil
}
