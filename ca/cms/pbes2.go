package cms

import (
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
	// OIDPBES2 is id-PBES2.
	OIDPBES2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	// OIDPBKDF2 is id-PBKDF2.
	OIDPBKDF2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	// OIDHMACWithSHA1 is PBKDF2's default PRF.
	OIDHMACWithSHA1 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	// OIDHMACWithSHA256 is the PRF OpenSSL 3 writes.
	OIDHMACWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	// OIDHMACWithSHA384 is hmacWithSHA384.
	OIDHMACWithSHA384 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 10}
	// OIDHMACWithSHA512 is hmacWithSHA512.
	OIDHMACWithSHA512 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}
)

// MaxIterations bounds the key-derivation work a hostile file can ask
// for; real tools use 2048 (OpenSSL) to 600000 (OWASP 2023).
const MaxIterations = 10_000_000

var (
	// ErrPassphrase is returned when decrypted data is badly padded,
	// which is how a wrong passphrase almost always shows. A wrong
	// passphrase can pass the check by chance (about 1 in 256); callers
	// that parse the result should treat a parse failure the same way.
	ErrPassphrase = errors.New("wrong passphrase or corrupt data")
	// ErrNotPBES2 is wrapped by the error for data protected with another
	// scheme (PBES1, the PKCS#12 PBEs), which a caller may hand to a
	// legacy decoder.
	ErrNotPBES2 = errors.New("unsupported key encryption")
)

// EncryptedPrivateKeyInfo is RFC 5958 §3's encrypted PKCS#8 key: PEM
// type "ENCRYPTED PRIVATE KEY", PKCS#12 pkcs8ShroudedKeyBag.
type EncryptedPrivateKeyInfo struct {
	Algorithm     pkix.AlgorithmIdentifier
	EncryptedData []byte
}

// PBES2Params is RFC 8018 Appendix A.4's PBES2-params.
type PBES2Params struct {
	KeyDerivationFunc pkix.AlgorithmIdentifier
	EncryptionScheme  pkix.AlgorithmIdentifier
}

// PBKDF2Params is RFC 8018 Appendix A.2's PBKDF2-params.
type PBKDF2Params struct {
	Salt           []byte // the otherSource CHOICE is unused in practice and refused
	IterationCount int
	KeyLength      int                      `asn1:"optional"`
	PRF            pkix.AlgorithmIdentifier `asn1:"optional"` // absent means hmacWithSHA1
}

var pbkdf2PRFs = map[string]func() hash.Hash{
	OIDHMACWithSHA1.String():   sha1.New,
	OIDHMACWithSHA256.String(): sha256.New,
	OIDHMACWithSHA384.String(): sha512.New384,
	OIDHMACWithSHA512.String(): sha512.New,
}

// DecryptPKCS8 decrypts a DER EncryptedPrivateKeyInfo protected with
// PBES2, which is what `openssl pkcs8 -topk8` and most HSM and PKI
// exports write, and returns the PrivateKeyInfo DER for
// x509.ParsePKCS8PrivateKey.
func DecryptPKCS8(der, passphrase []byte) ([]byte, error) {
	var info EncryptedPrivateKeyInfo
	if err := UnmarshalAll(der, &info); err != nil {
		return nil, fmt.Errorf("EncryptedPrivateKeyInfo: %w", err)
	}
	return pbes2Decrypt(info.Algorithm, info.EncryptedData, passphrase, "encrypted key")
}

// PBES2Decrypt decrypts data protected with PBES2 = PBKDF2 + a CBC cipher
// (RFC 8018 §6.2); alg is the AlgorithmIdentifier naming PBES2, as found
// in an EncryptedPrivateKeyInfo or a PKCS#12 EncryptedContentInfo.
func PBES2Decrypt(alg pkix.AlgorithmIdentifier, data, password []byte) ([]byte, error) {
	return pbes2Decrypt(alg, data, password, "encrypted data")
}

// pbes2Decrypt is PBES2Decrypt; what names data in errors.
func pbes2Decrypt(alg pkix.AlgorithmIdentifier, data, password []byte, what string) ([]byte, error) {
	if !alg.Algorithm.Equal(OIDPBES2) {
		return nil, fmt.Errorf("%w %s (want PBES2, e.g. openssl pkcs8 -topk8 -v2 aes-256-cbc)", ErrNotPBES2, alg.Algorithm)
	}
	var params PBES2Params
	if err := UnmarshalAll(alg.Parameters.FullBytes, &params); err != nil {
		return nil, fmt.Errorf("PBES2 parameters: %w", err)
	}
	if !params.KeyDerivationFunc.Algorithm.Equal(OIDPBKDF2) {
		return nil, fmt.Errorf("unsupported PBES2 key derivation %s (want PBKDF2)", params.KeyDerivationFunc.Algorithm)
	}
	var kdf PBKDF2Params
	if err := UnmarshalAll(params.KeyDerivationFunc.Parameters.FullBytes, &kdf); err != nil {
		return nil, fmt.Errorf("PBKDF2 parameters: %w", err)
	}
	if kdf.IterationCount < 1 || kdf.IterationCount > MaxIterations {
		return nil, fmt.Errorf("PBKDF2 iteration count %d out of range 1..%d", kdf.IterationCount, MaxIterations)
	}
	prf := sha1.New
	if len(kdf.PRF.Algorithm) > 0 {
		var ok bool
		if prf, ok = pbkdf2PRFs[kdf.PRF.Algorithm.String()]; !ok {
			return nil, fmt.Errorf("unsupported PBKDF2 PRF %s", kdf.PRF.Algorithm)
		}
	}
	c, ok := cipherByOID(pbes2Ciphers, params.EncryptionScheme.Algorithm)
	if !ok {
		return nil, fmt.Errorf("unsupported PBES2 cipher %s (want AES-CBC or DES-EDE3-CBC)", params.EncryptionScheme.Algorithm)
	}
	if kdf.KeyLength != 0 && kdf.KeyLength != c.keySize {
		return nil, fmt.Errorf("PBKDF2 key length %d does not fit the cipher (%d)", kdf.KeyLength, c.keySize)
	}
	var iv []byte
	if err := UnmarshalAll(params.EncryptionScheme.Parameters.FullBytes, &iv); err != nil {
		return nil, fmt.Errorf("PBES2 IV: %w", err)
	}
	if len(iv) != c.blockLen {
		return nil, fmt.Errorf("PBES2 IV is %d bytes, want %d", len(iv), c.blockLen)
	}
	if len(data) == 0 || len(data)%c.blockLen != 0 {
		return nil, fmt.Errorf("%s is not a whole number of cipher blocks", what)
	}
	key, err := pbkdf2.Key(prf, string(password), kdf.Salt, kdf.IterationCount, c.keySize)
	if err != nil {
		return nil, fmt.Errorf("PBKDF2: %w", err)
	}
	pt, err := cbcDecrypt(c, key, iv, data)
	if err != nil {
		return nil, fmt.Errorf("PBES2: %w", err)
	}
	out, err := Unpad(pt, c.blockLen)
	if err != nil {
		return nil, ErrPassphrase
	}
	return out, nil
}

// UnmarshalAll is asn1.Unmarshal that refuses trailing bytes: a
// structure read from a file or a message field must be the whole of it.
func UnmarshalAll(der []byte, v any) error {
	rest, err := asn1.Unmarshal(der, v)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return errors.New("trailing data")
	}
	return nil
}
