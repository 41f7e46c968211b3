package cms

import (
	"bytes"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readPEM returns the DER of the one PEM block in testdata/name.
func readPEM(t testing.TB, name, typ string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != typ {
		t.Fatalf("%s: no %s PEM block", name, typ)
	}
	return block.Bytes
}

// TestDecryptPKCS8 reads keys OpenSSL 3 encrypted (testdata/gen.sh).
func TestDecryptPKCS8(t *testing.T) {
	want := readPEM(t, "key.pem", "PRIVATE KEY")
	tests := []struct {
		name string
		file string
		pass string
		err  error
	}{
		{name: "ok/aes-128-cbc hmacWithSHA1", file: "aes128-sha1.pem", pass: "test-pass"},
		{name: "ok/aes-192-cbc hmacWithSHA512", file: "aes192-sha512.pem", pass: "test-pass"},
		{name: "ok/aes-256-cbc hmacWithSHA256", file: "aes256-sha256.pem", pass: "test-pass"},
		{name: "ok/aes-256-cbc hmacWithSHA384", file: "aes256-sha384.pem", pass: "test-pass"},
		{name: "ok/des-ede3-cbc", file: "des3-sha256.pem", pass: "test-pass"},
		// Fixed fixtures, so this cannot pass the padding check by chance.
		{name: "fail/wrong passphrase aes", file: "aes256-sha256.pem", pass: "nope", err: ErrPassphrase},
		{name: "fail/wrong passphrase des3", file: "des3-sha256.pem", pass: "nope", err: ErrPassphrase},
		{name: "fail/empty passphrase", file: "aes128-sha1.pem", err: ErrPassphrase},
		{name: "fail/PBES1", file: "pbes1.pem", pass: "test-pass", err: ErrNotPBES2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecryptPKCS8(readPEM(t, tt.file, "ENCRYPTED PRIVATE KEY"), []byte(tt.pass))
			if tt.err != nil {
				if !errors.Is(err, tt.err) || got != nil {
					t.Fatalf("DecryptPKCS8 = %d bytes, %v; want %v", len(got), err, tt.err)
				}
				return
			}
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("DecryptPKCS8 = %d bytes, %v; want key.pem", len(got), err)
			}
		})
	}
}

// fixture is testdata/aes256-sha256.pem taken apart, so each field can be
// broken on its own and the whole put back together.
type fixture struct {
	scheme, kdfOID, cipher asn1.ObjectIdentifier
	kdf                    PBKDF2Params
	iv, data               []byte
}

func loadFixture(t *testing.T) fixture {
	t.Helper()
	var info EncryptedPrivateKeyInfo
	var params PBES2Params
	var f fixture
	if err := UnmarshalAll(readPEM(t, "aes256-sha256.pem", "ENCRYPTED PRIVATE KEY"), &info); err != nil {
		t.Fatal(err)
	}
	if err := UnmarshalAll(info.Algorithm.Parameters.FullBytes, &params); err != nil {
		t.Fatal(err)
	}
	if err := UnmarshalAll(params.KeyDerivationFunc.Parameters.FullBytes, &f.kdf); err != nil {
		t.Fatal(err)
	}
	if err := UnmarshalAll(params.EncryptionScheme.Parameters.FullBytes, &f.iv); err != nil {
		t.Fatal(err)
	}
	f.scheme, f.kdfOID, f.cipher = info.Algorithm.Algorithm, params.KeyDerivationFunc.Algorithm, params.EncryptionScheme.Algorithm
	f.data = info.EncryptedData
	return f
}

// alg puts the fixture's PBES2 AlgorithmIdentifier back together.
func (f fixture) alg(t *testing.T) pkix.AlgorithmIdentifier {
	t.Helper()
	withParams := func(oid asn1.ObjectIdentifier, v any) pkix.AlgorithmIdentifier {
		der, err := asn1.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return pkix.AlgorithmIdentifier{Algorithm: oid, Parameters: asn1.RawValue{FullBytes: der}}
	}
	return withParams(f.scheme, PBES2Params{
		KeyDerivationFunc: withParams(f.kdfOID, f.kdf),
		EncryptionScheme:  withParams(f.cipher, f.iv),
	})
}

func TestPBES2DecryptMalformed(t *testing.T) {
	tests := []struct {
		name   string
		change func(*fixture)
		alg    *pkix.AlgorithmIdentifier // replaces the fixture's
		pass   string                    // "" is the right one
		err    string
		is     error
	}{
		{name: "ok/unchanged", change: func(*fixture) {}},
		{name: "fail/PKCS#12 PBE", change: func(f *fixture) { f.scheme = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 3} },
			err: "unsupported key encryption 1.2.840.113549.1.12.1.3 (want PBES2, e.g. openssl pkcs8 -topk8 -v2 aes-256-cbc)", is: ErrNotPBES2},
		{name: "fail/PBES2 parameters absent", alg: &pkix.AlgorithmIdentifier{Algorithm: OIDPBES2},
			err: "PBES2 parameters: asn1: "},
		{name: "fail/scrypt", change: func(f *fixture) { f.kdfOID = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11591, 4, 11} },
			err: "unsupported PBES2 key derivation 1.3.6.1.4.1.11591.4.11 (want PBKDF2)"},
		{name: "fail/zero iterations", change: func(f *fixture) { f.kdf.IterationCount = 0 },
			err: "PBKDF2 iteration count 0 out of range 1..10000000"},
		{name: "fail/too many iterations", change: func(f *fixture) { f.kdf.IterationCount = MaxIterations + 1 },
			err: "PBKDF2 iteration count 10000001 out of range 1..10000000"},
		{name: "fail/hmacWithSHA224", change: func(f *fixture) { f.kdf.PRF.Algorithm = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 8} },
			err: "unsupported PBKDF2 PRF 1.2.840.113549.2.8"},
		{name: "fail/aes-256-gcm", change: func(f *fixture) { f.cipher = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 46} },
			err: "unsupported PBES2 cipher 2.16.840.1.101.3.4.1.46 (want AES-CBC or DES-EDE3-CBC)"},
		{name: "fail/single DES", change: func(f *fixture) { f.cipher, f.iv = DESCBC.OID(), f.iv[:8] },
			err: "unsupported PBES2 cipher 1.3.14.3.2.7 (want AES-CBC or DES-EDE3-CBC)"},
		{name: "fail/key length does not fit", change: func(f *fixture) { f.kdf.KeyLength = 16 },
			err: "PBKDF2 key length 16 does not fit the cipher (32)"},
		{name: "fail/short IV", change: func(f *fixture) { f.iv = f.iv[:8] },
			err: "PBES2 IV is 8 bytes, want 16"},
		{name: "fail/des3 with an AES IV", change: func(f *fixture) { f.cipher = DESEDE3CBC.OID() },
			err: "PBES2 IV is 16 bytes, want 8"},
		{name: "fail/partial block", change: func(f *fixture) { f.data = f.data[:len(f.data)-1] },
			err: "encrypted data is not a whole number of cipher blocks"},
		{name: "fail/empty ciphertext", change: func(f *fixture) { f.data = nil },
			err: "encrypted data is not a whole number of cipher blocks"},
		// Fixed fixture, so this cannot pass the padding check by chance.
		{name: "fail/wrong passphrase", change: func(*fixture) {}, pass: "nope",
			err: ErrPassphrase.Error(), is: ErrPassphrase},
	}
	want := readPEM(t, "key.pem", "PRIVATE KEY")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := loadFixture(t)
			var alg pkix.AlgorithmIdentifier
			if tt.alg != nil {
				alg = *tt.alg
			} else {
				tt.change(&f)
				alg = f.alg(t)
			}
			pass := "test-pass"
			if tt.pass != "" {
				pass = tt.pass
			}
			got, err := PBES2Decrypt(alg, f.data, []byte(pass))
			if tt.err == "" {
				if err != nil || !bytes.Equal(got, want) {
					t.Fatalf("PBES2Decrypt = %d bytes, %v; want key.pem", len(got), err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tt.err) || got != nil {
				t.Fatalf("PBES2Decrypt = %q, %v; want error %q", got, err, tt.err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Fatalf("error %v is not %v", err, tt.is)
			}
		})
	}
}

func TestDecryptPKCS8Malformed(t *testing.T) {
	encode := func(t *testing.T, change func(*fixture)) []byte {
		f := loadFixture(t)
		change(&f)
		der, err := asn1.Marshal(EncryptedPrivateKeyInfo{Algorithm: f.alg(t), EncryptedData: f.data})
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	tests := []struct {
		name string
		der  func(t *testing.T) []byte
		err  string
	}{
		{name: "fail/not DER", der: func(*testing.T) []byte { return []byte{1, 2, 3} }, err: "EncryptedPrivateKeyInfo: asn1: "},
		{name: "fail/trailing data", der: func(t *testing.T) []byte { return append(encode(t, func(*fixture) {}), 0) },
			err: "EncryptedPrivateKeyInfo: trailing data"},
		{name: "fail/partial block", der: func(t *testing.T) []byte {
			return encode(t, func(f *fixture) { f.data = f.data[:17] })
		}, err: "encrypted key is not a whole number of cipher blocks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecryptPKCS8(tt.der(t), []byte("test-pass"))
			if err == nil || !strings.HasPrefix(err.Error(), tt.err) || got != nil {
				t.Fatalf("DecryptPKCS8 = %q, %v; want error %q", got, err, tt.err)
			}
		})
	}
}
