package cms

import (
	"crypto"
	"testing"
)

// FuzzOpen checks that no envelope makes Open panic.
func FuzzOpen(f *testing.F) {
	ps, err := rsaParties()
	if err != nil {
		f.Fatal(err)
	}
	alice := ps[0]
	for _, c := range []Cipher{AES128CBC, AES192CBC, DESEDE3CBC} {
		der, err := Envelope([]byte("seed"), alice.cert, c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(der)
	}
	f.Add([]byte{0x30, 0x03, 0x06, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, der []byte) {
		_, _ = Open(der, alice.cert, alice.key.(crypto.Decrypter))
	})
}

// FuzzDecryptPKCS8 checks that no key file makes DecryptPKCS8 panic.
func FuzzDecryptPKCS8(f *testing.F) {
	for _, name := range []string{"aes128-sha1.pem", "des3-sha256.pem", "pbes1.pem"} {
		f.Add(readPEM(f, name, "ENCRYPTED PRIVATE KEY"), []byte("test-pass"))
	}
	f.Fuzz(func(t *testing.T, der, pass []byte) {
		_, _ = DecryptPKCS8(der, pass)
	})
}
