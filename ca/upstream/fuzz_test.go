package upstream

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"

	"github.com/smallstep/pkcs7"
	smallscep "github.com/smallstep/scep"
)

// The fuzz targets check that no upstream answer and no key file makes
// the gateway panic; `go test` runs their seeds.

func FuzzDecodeCertsOnly(f *testing.F) {
	ca := newRootCA(f, "CA", 1)
	der, err := pkcs7.DegenerateCertificate(ca.cert.Raw)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(der)
	f.Add([]byte("MIIB"))
	f.Add([]byte("-----BEGIN PKCS7-----\nMAA=\n-----END PKCS7-----\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = decodeCertsOnly(b)
	})
}

func FuzzParseCertRep(f *testing.F) {
	ca := newRootCA(f, "CA", 1)
	scepCA := &scepCA{}
	if err := scepCA.setCerts([]*x509.Certificate{ca.cert}); err != nil {
		f.Fatal(err)
	}
	req := &pkiMessage{transactionID: "t", senderNonce: make([]byte, 16)}
	sd, err := pkcs7.NewSignedData(nil)
	if err != nil {
		f.Fatal(err)
	}
	err = sd.AddSigner(ca.cert, ca.key, pkcs7.SignerInfoConfig{ExtraSignedAttributes: []pkcs7.Attribute{
		{Type: oidTransactionID, Value: smallscep.TransactionID("t")},
		{Type: oidMessageType, Value: smallscep.CertRep},
		{Type: oidPKIStatus, Value: smallscep.SUCCESS},
		{Type: oidRecipientNonce, Value: smallscep.RecipientNonce(make([]byte, 16))},
	}})
	if err != nil {
		f.Fatal(err)
	}
	seed, err := sd.Finish()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, b []byte) {
		rep, err := parseCertRep(b, req, scepCA)
		if err == nil && rep.status == smallscep.SUCCESS {
			_, _ = pkcs7.Parse(rep.envelope)
		}
	})
}

func FuzzDecodePKCS12(f *testing.F) {
	for _, name := range []string{"leaf.p12", "leaf-legacy.p12"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _, _ = decodePKCS12(b, []byte("test-pass"))
	})
}
