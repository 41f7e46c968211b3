package local

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/certgate/certgate/ca"
)

func TestInitCertificates(t *testing.T) {
	c := loadFixture(t, Options{})
	root, inter := c.Root(), c.Certificate()
	if root == nil {
		t.Fatal("Root() = nil after Init")
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"root CN", root.Subject.CommonName, "certgate Root CA"},
		{"root IsCA", root.IsCA && root.BasicConstraintsValid, true},
		{"root MaxPathLen", root.MaxPathLen, 1},
		{"root KeyUsage", root.KeyUsage, x509.KeyUsageCertSign | x509.KeyUsageCRLSign},
		{"root key bits", root.PublicKey.(*rsa.PublicKey).N.BitLen(), 2048},
		{"root SKI set", len(root.SubjectKeyId), 20},
		{"root lifetime years", root.NotAfter.Year() - time.Now().Year(), 20},
		{"issuing CN", inter.Subject.CommonName, "certgate Issuing CA"},
		{"issuing IsCA", inter.IsCA && inter.BasicConstraintsValid, true},
		{"issuing MaxPathLen", [2]any{inter.MaxPathLen, inter.MaxPathLenZero}, [2]any{0, true}},
		{"issuing KeyUsage", inter.KeyUsage, x509.KeyUsageCertSign | x509.KeyUsageCRLSign |
			x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment},
		{"issuing key bits", inter.PublicKey.(*rsa.PublicKey).N.BitLen(), 2048},
		{"issuing SKI set", len(inter.SubjectKeyId), 20},
		{"issuing AKI is root SKI", inter.AuthorityKeyId, root.SubjectKeyId},
		{"issuing lifetime years", inter.NotAfter.Year() - time.Now().Year(), 10},
		{"serials at least 128 bits", root.SerialNumber.BitLen() >= 128 && inter.SerialNumber.BitLen() >= 128, true},
		{"Chain", c.Chain(), []*x509.Certificate{inter, root}},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
	if err := inter.CheckSignatureFrom(root); err != nil {
		t.Errorf("root did not sign the issuing CA: %v", err)
	}
	for name, want := range map[string]os.FileMode{"ca.key": 0o600, "root.key": 0o600, "ca.crt": 0o644, "root.crt": 0o644, ".": 0o700 | os.ModeDir} {
		fi, err := os.Stat(filepath.Join(fixtureDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want {
			t.Errorf("%s mode = %v, want %v", name, fi.Mode(), want)
		}
	}
	leftovers, err := filepath.Glob(filepath.Join(fixtureDir, ".*tmp*"))
	if err != nil || len(leftovers) > 0 {
		t.Errorf("temp files left behind: %v %v", leftovers, err)
	}
}

func TestInitDefaults(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 4096- and 3072-bit keys")
	}
	dir := filepath.Join(t.TempDir(), "new", "ca")
	if err := Init(dir, InitOptions{CommonName: "Acme"}); err != nil {
		t.Fatal(err)
	}
	c, err := Load(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := [2]int{c.Root().PublicKey.(*rsa.PublicKey).N.BitLen(), c.Certificate().PublicKey.(*rsa.PublicKey).N.BitLen()}; got != [2]int{4096, 3072} {
		t.Errorf("key bits (root, issuing) = %v, want [4096 3072]", got)
	}
	if got := c.Certificate().Subject.CommonName; got != "Acme Issuing CA" {
		t.Errorf("issuing CN = %q", got)
	}
}

func TestInitRefusesExisting(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	if err := Init(dir, testInitOptions()); err != nil {
		t.Fatal(err)
	}
	c, err := Load(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = Init(dir, testInitOptions())
	if want := filepath.Join(dir, "ca.crt") + " already exists"; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("second Init error = %v, want it to contain %q", err, want)
	}
	opts := testInitOptions()
	opts.Force = true
	if err := Init(dir, opts); err != nil {
		t.Fatalf("Init with Force: %v", err)
	}
	c2, err := Load(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c2.Certificate().Equal(c.Certificate()) {
		t.Error("Force did not replace the CA")
	}
}

func TestInitErrors(t *testing.T) {
	tests := []struct {
		name string
		opts InitOptions
		err  string
	}{
		{name: "fail/root bits", opts: InitOptions{RootBits: 1024, Bits: 2048},
			err: "ca: local: RootBits 1024 out of range 2048..16384"},
		{name: "fail/bits", opts: InitOptions{RootBits: 2048, Bits: 32768},
			err: "ca: local: Bits 32768 out of range 2048..16384"},
		{name: "fail/common name too long", opts: InitOptions{CommonName: strings.Repeat("x", 54), RootBits: 2048, Bits: 2048},
			err: `ca: local: CommonName "` + strings.Repeat("x", 54) + `" too long: "` + strings.Repeat("x", 54) + ` Issuing CA" would be 65 characters, the limit is 64`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "ca")
			if err := Init(dir, tt.opts); err == nil || err.Error() != tt.err {
				t.Fatalf("Init error = %v, want %q", err, tt.err)
			}
			if Exists(dir) {
				t.Error("a failed Init left a CA behind")
			}
		})
	}
}

func TestPrepareSign(t *testing.T) {
	c := loadFixture(t, Options{Name: "corp", PublicURL: "http://certgate.example:8080/"})
	csr := testCSR(t, "device-1")
	cert := issue(t, c, csr, testProfile(t, nil))

	roots := x509.NewCertPool()
	roots.AddCert(c.Root())
	inter := x509.NewCertPool()
	inter.AddCert(c.Certificate())
	if _, err := cert.Verify(x509.VerifyOptions{
		Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"CRL DP", cert.CRLDistributionPoints, []string{"http://certgate.example:8080/crl/corp.crl"}},
		{"OCSP", cert.OCSPServer, []string{"http://certgate.example:8080/ocsp"}},
		{"CA issuers", cert.IssuingCertificateURL, []string{"http://certgate.example:8080/ca/corp.crt"}},
		{"AKI", cert.AuthorityKeyId, c.Certificate().SubjectKeyId},
		{"SKI set", len(cert.SubjectKeyId), 20},
		{"signature algorithm", cert.SignatureAlgorithm, x509.SHA256WithRSA},
		{"serial >= 128 bits", cert.SerialNumber.BitLen() >= 128, true},
		{"subject", cert.Subject.CommonName, "device-1"},
		{"DNS", cert.DNSNames, []string{"device-1.example"}},
		{"name", c.Name(), "corp"},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
}

func TestPrepareSerialsUnique(t *testing.T) {
	c := loadFixture(t, Options{})
	csr, p := testCSR(t, "device-1"), testProfile(t, nil)
	seen := make(map[string]bool, 1000)
	for i := range 1000 {
		d, err := c.Prepare(context.Background(), csr, p)
		if err != nil {
			t.Fatal(err)
		}
		if d.Serial.BitLen() < 128 || d.Serial.Sign() <= 0 {
			t.Fatalf("prepare %d: serial %x has %d bits", i, d.Serial, d.Serial.BitLen())
		}
		if d.Template.SerialNumber.Cmp(d.Serial) != 0 {
			t.Fatalf("prepare %d: template serial differs from draft serial", i)
		}
		k := d.Serial.String()
		if seen[k] {
			t.Fatalf("prepare %d: serial %x repeated", i, d.Serial)
		}
		seen[k] = true
	}
}

func TestPrepare(t *testing.T) {
	base := time.Now()
	c := loadFixture(t, Options{})
	notAfter := c.Certificate().NotAfter
	csr := testCSR(t, "device-1")
	tests := []struct {
		name  string
		now   time.Time
		csr   *x509.CertificateRequest
		check func(*testing.T, *ca.Draft)
		err   string
	}{
		{name: "ok/no public URL, no CDP or AIA", now: base, csr: csr, check: func(t *testing.T, d *ca.Draft) {
			if d.Template.CRLDistributionPoints != nil || d.Template.OCSPServer != nil || d.Template.IssuingCertificateURL != nil {
				t.Errorf("URLs set without PublicURL: %v %v %v", d.Template.CRLDistributionPoints, d.Template.OCSPServer, d.Template.IssuingCertificateURL)
			}
			if !d.Template.NotAfter.Equal(base.UTC().Truncate(time.Second).Add(8760 * time.Hour)) {
				t.Errorf("NotAfter = %v", d.Template.NotAfter)
			}
		}},
		{name: "ok/not after clamped to the CA", now: notAfter.Add(-24 * time.Hour), csr: csr, check: func(t *testing.T, d *ca.Draft) {
			if !d.Template.NotAfter.Equal(notAfter) {
				t.Errorf("NotAfter = %v, want the CA's %v", d.Template.NotAfter, notAfter)
			}
		}},
		{name: "ok/not before clamped to the CA", now: c.Certificate().NotBefore, csr: csr, check: func(t *testing.T, d *ca.Draft) {
			if !d.Template.NotBefore.Equal(c.Certificate().NotBefore) {
				t.Errorf("NotBefore = %v, want the CA's %v", d.Template.NotBefore, c.Certificate().NotBefore)
			}
		}},
		{name: "fail/policy error passes through", now: base, csr: &x509.CertificateRequest{},
			err: "ca: policy: unsupported key type <nil> (profile accepts RSA >= 2048 bits, ECDSA P-256/P-384)"},
		{name: "fail/CA expired", now: notAfter, csr: csr,
			err: `ca: local: issuing CA "CN=certgate Issuing CA" expired on ` + notAfter.UTC().Format(time.RFC3339)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := loadFixture(t, Options{Now: func() time.Time { return tt.now }})
			d, err := c.Prepare(context.Background(), tt.csr, testProfile(t, nil))
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("Prepare error = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, d)
		})
	}
	t.Run("fail/policy error is a PolicyError", func(t *testing.T) {
		_, err := c.Prepare(context.Background(), &x509.CertificateRequest{}, testProfile(t, nil))
		var pe *ca.PolicyError
		if !errors.As(err, &pe) || pe.Code != ca.PolicyBadAlg {
			t.Fatalf("error = %#v, want a PolicyBadAlg", err)
		}
	})
	t.Run("fail/cancelled context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := c.Prepare(ctx, csr, testProfile(t, nil)); !errors.Is(err, context.Canceled) {
			t.Fatalf("error = %v, want context.Canceled", err)
		}
	})
	t.Run("fail/nil profile", func(t *testing.T) {
		if _, err := c.Prepare(context.Background(), csr, nil); err == nil || err.Error() != "ca: local: prepare: nil profile" {
			t.Fatalf("error = %v", err)
		}
	})
}

func TestSign(t *testing.T) {
	c := loadFixture(t, Options{})
	csr, p := testCSR(t, "device-1"), testProfile(t, nil)
	prepare := func(t *testing.T) *ca.Draft {
		d, err := c.Prepare(context.Background(), csr, p)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	t.Run("fail/draft reused", func(t *testing.T) {
		d := prepare(t)
		cert, err := c.Sign(context.Background(), d)
		if err != nil {
			t.Fatal(err)
		}
		if cert.SerialNumber.Cmp(d.Serial) != 0 {
			t.Errorf("certificate serial %x, draft %x", cert.SerialNumber, d.Serial)
		}
		if _, err := c.Sign(context.Background(), d); !errors.Is(err, ca.ErrDraftReused) {
			t.Fatalf("second Sign error = %v, want ErrDraftReused", err)
		}
	})
	t.Run("fail/serial changed after prepare", func(t *testing.T) {
		d := prepare(t)
		d.Template.SerialNumber = new(big.Int).Add(d.Serial, big.NewInt(1))
		if _, err := c.Sign(context.Background(), d); err == nil || err.Error() != "ca: local: sign: draft serial and template serial differ" {
			t.Fatalf("error = %v", err)
		}
	})
	t.Run("fail/incomplete draft", func(t *testing.T) {
		for _, d := range []*ca.Draft{nil, {}, {Template: &x509.Certificate{}}} {
			if _, err := c.Sign(context.Background(), d); err == nil || err.Error() != "ca: local: sign: incomplete draft" {
				t.Fatalf("Sign(%+v) error = %v", d, err)
			}
		}
	})
	t.Run("fail/cancelled context leaves the draft usable", func(t *testing.T) {
		d := prepare(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := c.Sign(ctx, d); !errors.Is(err, context.Canceled) {
			t.Fatalf("error = %v, want context.Canceled", err)
		}
		if _, err := c.Sign(context.Background(), d); err != nil {
			t.Fatalf("Sign after a cancelled attempt: %v", err)
		}
	})
}

func TestLoadErrors(t *testing.T) {
	fixture := func(t *testing.T) string {
		dir := t.TempDir()
		for _, name := range []string{"ca.crt", "ca.key", "root.crt"} {
			if err := os.WriteFile(filepath.Join(dir, name), readFile(t, fixtureDir, name), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	write := func(t *testing.T, dir, name string, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name  string
		opts  Options
		setup func(t *testing.T, dir string)
		err   string // substring: several errors embed temp paths
	}{
		{name: "fail/bad name", opts: Options{Name: "Corp"},
			err: `ca: local: name "Corp" is not valid (want ^[a-z0-9][a-z0-9_-]{0,63}$; it is a URL path segment)`},
		{name: "fail/public URL without scheme", opts: Options{PublicURL: "certgate.example:8080"},
			err: `ca: local: public URL "certgate.example:8080" is not an http(s) base URL like http://host:8080`},
		{name: "fail/public URL with query", opts: Options{PublicURL: "http://h/?a=b"},
			err: `ca: local: public URL "http://h/?a=b" is not an http(s) base URL like http://host:8080`},
		{name: "fail/no ca.crt", setup: func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "ca.crt")) },
			err: "ca.crt: no such file or directory"},
		{name: "fail/empty ca.crt", setup: func(t *testing.T, dir string) { write(t, dir, "ca.crt", []byte("junk")) },
			err: "ca.crt: no CERTIFICATE PEM block"},
		{name: "fail/no ca.key", setup: func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "ca.key")) },
			err: "ca.key: no such file or directory"},
		{name: "fail/encrypted ca.key", setup: func(t *testing.T, dir string) {
			write(t, dir, "ca.key", legacyEncrypt(t, readFile(t, fixtureDir, "ca.key"), "pw"))
		}, err: "ca.key is encrypted; certgate keeps ca.key unencrypted, so import the key with its passphrase instead"},
		{name: "fail/key does not match", setup: func(t *testing.T, dir string) { write(t, dir, "ca.key", readFile(t, fixtureDir, "root.key")) },
			err: `ca: local: the key does not match the certificate "CN=certgate Issuing CA"`},
		{name: "fail/root.crt did not issue ca.crt", setup: func(t *testing.T, dir string) { write(t, dir, "root.crt", readFile(t, fixtureDir, "ca.crt")) },
			err: `ca: local: chain[0] "CN=certgate Issuing CA" did not issue "CN=certgate Issuing CA" (want issuers leaf-first)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := fixture(t)
			if tt.setup != nil {
				tt.setup(t, dir)
			}
			c, err := Load(dir, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("Load error = %v, want it to contain %q", err, tt.err)
			}
			if c != nil {
				t.Error("Load returned a CA with an error")
			}
		})
	}
	t.Run("ok/without root.crt", func(t *testing.T) {
		dir := fixture(t)
		os.Remove(filepath.Join(dir, "root.crt"))
		c, err := Load(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if c.Root() != c.Certificate() || len(c.Chain()) != 1 {
			t.Errorf("Root() = %v, len(Chain()) = %d; want the issuing CA, 1", c.Root().Subject, len(c.Chain()))
		}
		if root, issuing := c.Fingerprints(); root != issuing {
			t.Errorf("Fingerprints() = %s, %s; want both the issuing CA's", root, issuing)
		}
	})
}

func TestExists(t *testing.T) {
	if !Exists(fixtureDir) {
		t.Error("Exists(fixture) = false")
	}
	dir := t.TempDir()
	if Exists(dir) {
		t.Error("Exists(empty dir) = true")
	}
	if err := os.WriteFile(filepath.Join(dir, "ca.crt"), readFile(t, fixtureDir, "ca.crt"), 0o644); err != nil {
		t.Fatal(err)
	}
	if Exists(dir) {
		t.Error("Exists(dir without ca.key) = true")
	}
}

func TestFingerprint(t *testing.T) {
	// SHA-256("abc"), FIPS 180-2 appendix B.1.
	const want = "BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:B0:03:61:A3:96:17:7A:9C:B4:10:FF:61:F2:00:15:AD"
	if got := Fingerprint(&x509.Certificate{Raw: []byte("abc")}); got != want {
		t.Errorf("Fingerprint = %s, want %s", got, want)
	}
	if got := Fingerprint(nil); got != "" {
		t.Errorf("Fingerprint(nil) = %q", got)
	}
	c := loadFixture(t, Options{})
	root, issuing := c.Fingerprints()
	if root != Fingerprint(c.Root()) || issuing != Fingerprint(c.Certificate()) || root == issuing {
		t.Errorf("Fingerprints() = %s, %s", root, issuing)
	}
	if !bytes.Equal(c.Signer().Public().(*rsa.PublicKey).N.Bytes(), c.Certificate().PublicKey.(*rsa.PublicKey).N.Bytes()) {
		t.Error("Signer() is not the issuing CA key")
	}
	if c.Decrypter() == nil {
		t.Error("Decrypter() = nil")
	}
}
