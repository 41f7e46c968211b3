package main

import (
	"bufio"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Files seed writes into -out.
const (
	issuerFile        = "issuer.pem"     // the issuing CA certificate (-issuer of run, -CA of openssl)
	responderCertFile = "responder.crt"  // delegated responder (openssl -rsigner)
	responderKeyFile  = "responder.key"  // its key, PKCS#8 (openssl -rkey)
	indexFile         = "index.txt"      // OpenSSL CA database (openssl ocsp -index)
	indexAttrFile     = "index.txt.attr" // its attributes
	responsesFile     = "responses.b64"  // pre-signed responses (cfssl ocspserve -responses)
	serialsFile       = "serials.txt"    // every serial, hex
	sampleFile        = "sample.txt"     // the serials the load runs ask about
)

// peerFiles streams what seed issues into the files other responders read.
type peerFiles struct {
	files   []*os.File
	index   *bufio.Writer
	resps   *bufio.Writer
	serials *bufio.Writer
}

// createPeerFiles writes the certificate and key files at once and opens
// the streamed ones.
func createPeerFiles(dir string, issuer, responder *x509.Certificate, respKey crypto.Signer) (*peerFiles, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("ocspload: seed: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(respKey)
	if err != nil {
		return nil, fmt.Errorf("ocspload: seed: responder key: %w", err)
	}
	fixed := []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{issuerFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: issuer.Raw}), 0o644},
		{responderCertFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: responder.Raw}), 0o644},
		{responderKeyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600},
		// Seeded subjects are unique, but saying so spares openssl the
		// subject index it would otherwise build and check.
		{indexAttrFile, []byte("unique_subject = no\n"), 0o644},
	}
	for _, f := range fixed {
		if err := os.WriteFile(filepath.Join(dir, f.name), f.data, f.mode); err != nil {
			return nil, fmt.Errorf("ocspload: seed: %w", err)
		}
	}
	pf := &peerFiles{}
	for _, w := range []struct {
		name string
		dst  **bufio.Writer
	}{{indexFile, &pf.index}, {responsesFile, &pf.resps}, {serialsFile, &pf.serials}} {
		f, err := os.Create(filepath.Join(dir, w.name))
		if err != nil {
			pf.close()
			return nil, fmt.Errorf("ocspload: seed: %w", err)
		}
		pf.files = append(pf.files, f)
		*w.dst = bufio.NewWriterSize(f, 1<<20)
	}
	return pf, nil
}

// add appends one certificate to every streamed file.
func (p *peerFiles) add(s *seeded) error {
	_, err := p.index.WriteString(indexLine(s.serial, s.notAfter, s.cn))
	if err == nil {
		_, err = p.resps.WriteString(base64.StdEncoding.EncodeToString(s.ocsp) + "\n")
	}
	if err == nil {
		_, err = p.serials.WriteString(s.serial.Text(16) + "\n")
	}
	if err != nil {
		return fmt.Errorf("ocspload: seed: write peer files: %w", err)
	}
	return nil
}

// close flushes and closes every streamed file.
func (p *peerFiles) close() error {
	var errs []error
	for i, f := range p.files {
		w := []*bufio.Writer{p.index, p.resps, p.serials}[i]
		errs = append(errs, w.Flush(), f.Close())
	}
	p.files = nil
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("ocspload: seed: %w", err)
	}
	return nil
}

// indexLine is one row of an OpenSSL CA database (index.txt): status V,
// expiry as openssl writes it, no revocation date, the serial as openssl's
// BN_bn2hex prints it (upper case, whole octets: its OCSP responder looks
// rows up by that exact text), file name "unknown", and the subject in
// openssl's one-line form.
func indexLine(serial *big.Int, notAfter time.Time, cn string) string {
	hex := fmt.Sprintf("%X", serial.Bytes())
	if hex == "" {
		hex = "00"
	}
	// '/' would start a new RDN in the one-line form; seeded names have none.
	cn = strings.ReplaceAll(cn, "/", `\/`)
	// RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime after.
	layout := "060102150405Z"
	if notAfter.UTC().Year() >= 2050 {
		layout = "20060102150405Z"
	}
	return fmt.Sprintf("V\t%s\t\t%s\tunknown\t/CN=%s\n", notAfter.UTC().Format(layout), hex, cn)
}

// writeSample writes serials as hex, one a line.
func writeSample(path string, serials []*big.Int) error {
	var b strings.Builder
	for _, s := range serials {
		b.WriteString(s.Text(16))
		b.WriteByte('\n')
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("ocspload: seed: %w", err)
	}
	return nil
}
