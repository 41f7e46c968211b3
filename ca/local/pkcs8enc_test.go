package local

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"strings"
	"testing"
)

// pbes2DER builds an EncryptedPrivateKeyInfo from parts, so each field can
// be broken on its own. openssl-made keys cover the working paths
// (TestImportKeyFormats).
type pbes2Parts struct {
	scheme, kdf, prf, cipher asn1.ObjectIdentifier
	iterations, keyLen       int
	iv, data                 []byte
}

func validParts() pbes2Parts {
	return pbes2Parts{
		scheme: oidPBES2, kdf: oidPBKDF2, prf: oidHMACSHA256, cipher: oidAES256CBC,
		iterations: 1, iv: make([]byte, 16), data: make([]byte, 32),
	}
}

func algID(t *testing.T, oid asn1.ObjectIdentifier, params any) pkix.AlgorithmIdentifier {
	t.Helper()
	der, err := asn1.Marshal(params)
	if err != nil {
		t.Fatal(err)
	}
	return pkix.AlgorithmIdentifier{Algorithm: oid, Parameters: asn1.RawValue{FullBytes: der}}
}

func (p pbes2Parts) der(t *testing.T) []byte {
	t.Helper()
	kdf := pbkdf2Params{Salt: []byte("salt"), IterationCount: p.iterations, KeyLength: p.keyLen}
	if p.prf != nil {
		kdf.PRF = pkix.AlgorithmIdentifier{Algorithm: p.prf, Parameters: asn1.NullRawValue}
	}
	params := pbes2Params{KeyDerivationFunc: algID(t, p.kdf, kdf), EncryptionScheme: algID(t, p.cipher, p.iv)}
	der, err := asn1.Marshal(encryptedPrivateKeyInfo{Algorithm: algID(t, p.scheme, params), EncryptedData: p.data})
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestDecryptPKCS8Malformed(t *testing.T) {
	mod := func(f func(*pbes2Parts)) pbes2Parts {
		p := validParts()
		f(&p)
		return p
	}
	tests := []struct {
		name string
		der  func(t *testing.T) []byte
		err  string
	}{
		{name: "fail/not DER", der: func(*testing.T) []byte { return []byte{1, 2, 3} },
			err: "ca: local: EncryptedPrivateKeyInfo: asn1: "},
		{name: "fail/trailing data", der: func(t *testing.T) []byte { return append(validParts().der(t), 0) },
			err: "ca: local: EncryptedPrivateKeyInfo: trailing data"},
		{name: "fail/PKCS#12 PBE", der: mod(func(p *pbes2Parts) { p.scheme = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 3} }).der,
			err: "ca: local: unsupported key encryption 1.2.840.113549.1.12.1.3 (want PBES2, e.g. openssl pkcs8 -topk8 -v2 aes-256-cbc)"},
		{name: "fail/scrypt", der: mod(func(p *pbes2Parts) { p.kdf = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11591, 4, 11} }).der,
			err: "ca: local: unsupported PBES2 key derivation 1.3.6.1.4.1.11591.4.11 (want PBKDF2)"},
		{name: "fail/zero iterations", der: mod(func(p *pbes2Parts) { p.iterations = 0 }).der,
			err: "ca: local: PBKDF2 iteration count 0 out of range 1..10000000"},
		{name: "fail/too many iterations", der: mod(func(p *pbes2Parts) { p.iterations = 10_000_001 }).der,
			err: "ca: local: PBKDF2 iteration count 10000001 out of range 1..10000000"},
		{name: "fail/hmacWithSHA224", der: mod(func(p *pbes2Parts) { p.prf = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 8} }).der,
			err: "ca: local: unsupported PBKDF2 PRF 1.2.840.113549.2.8"},
		{name: "fail/aes-256-gcm", der: mod(func(p *pbes2Parts) { p.cipher = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 46} }).der,
			err: "ca: local: unsupported PBES2 cipher 2.16.840.1.101.3.4.1.46 (want AES-CBC or DES-EDE3-CBC)"},
		{name: "fail/key length does not fit", der: mod(func(p *pbes2Parts) { p.keyLen = 16 }).der,
			err: "ca: local: PBKDF2 key length 16 does not fit the cipher (32)"},
		{name: "fail/short IV", der: mod(func(p *pbes2Parts) { p.iv = make([]byte, 8) }).der,
			err: "ca: local: PBES2 IV is 8 bytes, want 16"},
		{name: "fail/partial block", der: mod(func(p *pbes2Parts) { p.data = make([]byte, 17) }).der,
			err: "ca: local: encrypted key is not a whole number of cipher blocks"},
		{name: "fail/empty ciphertext", der: mod(func(p *pbes2Parts) { p.data = nil }).der,
			err: "ca: local: encrypted key is not a whole number of cipher blocks"},
		{name: "fail/bad padding", der: validParts().der,
			err: ErrPassphrase.Error()},
		{name: "fail/des3 short IV", der: mod(func(p *pbes2Parts) { p.cipher, p.prf, p.iv = oidDESEDE3CBC, nil, make([]byte, 16) }).der,
			err: "ca: local: PBES2 IV is 16 bytes, want 8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decryptPKCS8(tt.der(t), []byte("pw"))
			if err == nil || !strings.HasPrefix(err.Error(), tt.err) {
				t.Fatalf("error = %v, want prefix %q", err, tt.err)
			}
		})
	}
}

func TestUnpad(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want string
		err  bool
	}{
		{name: "ok/one byte", in: []byte("abcdefg\x01"), want: "abcdefg"},
		{name: "ok/full block", in: []byte("abcdefgh\x08\x08\x08\x08\x08\x08\x08\x08"), want: "abcdefgh"},
		{name: "fail/zero", in: []byte("abcdefg\x00"), err: true},
		{name: "fail/longer than a block", in: []byte("abcdefg\x09"), err: true},
		{name: "fail/inconsistent", in: []byte("abcdef\x01\x02"), err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := unpad(tt.in, 8)
			if tt.err {
				if err != ErrPassphrase {
					t.Fatalf("error = %v, want ErrPassphrase", err)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Fatalf("unpad = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
