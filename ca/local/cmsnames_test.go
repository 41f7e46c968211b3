package local

import (
	"github.com/certgate/certgate/ca/cms"
)

// The PBES2 code moved to ca/cms; these names keep pkcs8enc_test.go,
// which pins ca/local's error messages, building PBES2 structures as it
// did.
type (
	encryptedPrivateKeyInfo = cms.EncryptedPrivateKeyInfo
	pbes2Params             = cms.PBES2Params
	pbkdf2Params            = cms.PBKDF2Params
)

var (
	oidPBES2      = cms.OIDPBES2
	oidPBKDF2     = cms.OIDPBKDF2
	oidHMACSHA256 = cms.OIDHMACWithSHA256
	oidAES256CBC  = cms.AES256CBC.OID()
	oidDESEDE3CBC = cms.DESEDE3CBC.OID()
)

// unpad is cms.Unpad with ca/local's error, which decryptPKCS8 returns
// for bad padding.
func unpad(pt []byte, bs int) ([]byte, error) {
	out, err := cms.Unpad(pt, bs)
	if err != nil {
		return nil, ErrPassphrase
	}
	return out, nil
}
