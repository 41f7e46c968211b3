package local

import (
	"errors"
	"fmt"

	"github.com/certgate/certgate/ca/cms"
)

// decryptPKCS8 decrypts an EncryptedPrivateKeyInfo (RFC 5958 §3) protected
// with PBES2 = PBKDF2 + a CBC cipher, which is what `openssl pkcs8 -topk8`
// and most HSM/PKI exports write, and returns the PrivateKeyInfo DER.
// PBES1 and the PKCS#12 PBE schemes (single DES or RC2, MD5 or SHA-1 key
// derivation) are refused.
func decryptPKCS8(der, passphrase []byte) ([]byte, error) {
	out, err := cms.DecryptPKCS8(der, passphrase)
	if errors.Is(err, cms.ErrPassphrase) {
		return nil, ErrPassphrase
	}
	if err != nil {
		return nil, fmt.Errorf("ca: local: %w", err)
	}
	return out, nil
}
