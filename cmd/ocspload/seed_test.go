package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	xocsp "golang.org/x/crypto/ocsp"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certgate/certgate/ca/local"
	"github.com/certgate/certgate/store"
	"github.com/certgate/certgate/store/bolt"
)

// testDataDir makes a certgate data directory holding an RSA-2048 CA
// (local.Init would spend seconds on RSA-3072 and 4096 keys).
func testDataDir(t *testing.T) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "seed test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0),
		BasicConstraintsValid: true, IsCA: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	err = local.Import(filepath.Join(dir, "ca"),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

// TestSeed checks that every seeded certificate is in certgate's store as
// enrollment leaves it, and that the peer files name the same ones.
func TestSeed(t *testing.T) {
	data, out := testDataDir(t), t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := mainErr([]string{"seed", "-data-dir", data, "-out", out, "-n", "25", "-c", "4", "-sample", "10"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	issuer, err := readIssuer(filepath.Join(out, issuerFile))
	if err != nil {
		t.Fatal(err)
	}

	st, err := bolt.Open(filepath.Join(data, "certgate.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	recs, err := st.Search(context.Background(), store.Query{Limit: -1})
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]*store.CertRecord{}
	for _, r := range recs {
		cert, err := x509.ParseCertificate(r.DER)
		if r.Status != store.StatusValid || r.Issuer != "certgate" || err != nil || cert.SerialNumber.Cmp(r.Serial) != 0 || cert.CheckSignatureFrom(issuer) != nil {
			t.Fatalf("record %s: status %s, issuer %q, DER error %v: not an issued certificate of the CA", r.SerialHex, r.Status, r.Issuer, err)
		}
		stored[r.SerialHex] = r
	}
	if len(stored) != 25 {
		t.Fatalf("%d records in the store, want 25", len(stored))
	}

	serials := readLines(t, filepath.Join(out, serialsFile))
	index := readLines(t, filepath.Join(out, indexFile))
	resps := readLines(t, filepath.Join(out, responsesFile))
	if len(serials) != 25 || len(index) != 25 || len(resps) != 25 {
		t.Fatalf("%d serials, %d index rows, %d responses; want 25 each", len(serials), len(index), len(resps))
	}
	for i, s := range serials {
		rec := stored[s]
		if rec == nil {
			t.Fatalf("serials.txt names %s, which the store lacks", s)
		}
		if want := indexLine(rec.Serial, rec.NotAfter, rec.CommonName); index[i]+"\n" != want {
			t.Errorf("index row %d = %q, want %q", i, index[i], want)
		}
		der, err := base64.StdEncoding.DecodeString(resps[i])
		if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		if err := checkResponse(der, rec.Serial, issuer, time.Now(), xocsp.Good); err != nil {
			t.Errorf("response %d: %v", i, err)
		}
	}
	sample := readLines(t, filepath.Join(out, sampleFile))
	if len(sample) != 10 {
		t.Fatalf("%d sampled serials, want 10", len(sample))
	}
	for _, s := range sample {
		if stored[s] == nil {
			t.Errorf("sample.txt names %s, which was not seeded", s)
		}
	}
}

func TestSeedRefusesLockedStore(t *testing.T) {
	data := testDataDir(t)
	st, err := bolt.Open(filepath.Join(data, "certgate.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var stdout, stderr bytes.Buffer
	code := mainErr([]string{"seed", "-data-dir", data, "-out", t.TempDir(), "-n", "1"}, &stdout, &stderr)
	if code != 2 || !strings.Contains(stderr.String(), "locked") {
		t.Fatalf("exit %d, stderr %q; want 2 and a locked store, as when certgate serve runs", code, stderr.String())
	}
}
