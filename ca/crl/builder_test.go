package crl

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certgate/certgate/store"
)

var oidReasonCode = asn1.ObjectIdentifier{2, 5, 29, 21}

// wantEntry is what the CRL must say about one serial.
type wantEntry struct {
	reason    int
	revokedAt time.Time
}

// fillStore records, for the fixture CA unless noted: a real leaf revoked
// for keyCompromise, revocations with other reasons (unspecified among
// them), one expired an hour ago (still within the grace period) and
// records the CRL must leave off. It returns the entries the CRL must
// hold.
func fillStore(t *testing.T, st store.Store, leaf *x509.Certificate, now time.Time) map[string]wantEntry {
	t.Helper()
	live := now.Add(90 * 24 * time.Hour)
	at := now.Add(-2 * time.Hour)
	want := make(map[string]wantEntry)
	add := func(serial int64, reason int) {
		sn := big.NewInt(serial)
		record(t, st, testCAName, sn, live, reason, at)
		want[sn.Text(16)] = wantEntry{reason, at}
	}
	record(t, st, testCAName, leaf.SerialNumber, leaf.NotAfter, store.ReasonKeyCompromise, at.Add(-time.Hour))
	want[leaf.SerialNumber.Text(16)] = wantEntry{store.ReasonKeyCompromise, at.Add(-time.Hour)}
	add(0x1001, store.ReasonSuperseded)
	add(0x1002, store.ReasonUnspecified)
	add(0x1003, store.ReasonCessationOfOperation)
	add(0x1004, store.ReasonCertificateHold)
	add(0x1005, store.ReasonAffiliationChanged)
	// Expired an hour ago: RFC 5280 §3.3 wants it on one more CRL.
	record(t, st, testCAName, big.NewInt(0x2002), now.Add(-time.Hour), store.ReasonSuperseded, at.Add(-48*time.Hour))
	want["2002"] = wantEntry{store.ReasonSuperseded, at.Add(-48 * time.Hour)}

	// Left off: expired and revoked long ago, another CA's, valid, reserved.
	record(t, st, testCAName, big.NewInt(0x2001), now.Add(-30*24*time.Hour), store.ReasonKeyCompromise, now.Add(-60*24*time.Hour))
	record(t, st, "other-ca", big.NewInt(0x3001), live, store.ReasonKeyCompromise, at)
	record(t, st, testCAName, big.NewInt(0x4001), live, -1, time.Time{})
	if err := st.Reserve(context.Background(), &store.CertRecord{Serial: big.NewInt(0x5001), Issuer: testCAName, NotAfter: live}); err != nil {
		t.Fatalf("Reserve: %v", err)
	}
	return want
}

func TestBuild(t *testing.T) {
	c := loadCA(t)
	leaf := issueLeaf(t, c, "revoked-leaf")
	for _, tc := range []struct {
		name string
		fill func(t *testing.T, st store.Store, now time.Time) map[string]wantEntry
	}{
		{"ok/no revoked certificates", func(t *testing.T, st store.Store, now time.Time) map[string]wantEntry {
			record(t, st, testCAName, big.NewInt(0x4001), now.Add(time.Hour), -1, time.Time{})
			return nil
		}},
		{"ok/several revoked, expired and foreign ones left off", func(t *testing.T, st store.Store, now time.Time) map[string]wantEntry {
			return fillStore(t, st, leaf, now)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			st := openBolt(t, filepath.Join(t.TempDir(), "certgate.db"))
			want := tc.fill(t, st, clk.now())
			b, err := NewBuilder(options(c, st, clk))
			if err != nil {
				t.Fatalf("NewBuilder: %v", err)
			}
			blob, err := b.Build(context.Background())
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			rl := parse(t, blob.Data, c.Certificate())
			now := clk.now()
			checkTimes(t, blob, rl, now, DefaultValidity)
			if rl.Number.Cmp(big.NewInt(1)) != 0 {
				t.Errorf("CRL number = %v, want 1", rl.Number)
			}
			if !bytes.Equal(rl.AuthorityKeyId, c.Certificate().SubjectKeyId) {
				t.Errorf("authority key id = %x, want the CA's %x", rl.AuthorityKeyId, c.Certificate().SubjectKeyId)
			}
			if !bytes.Equal(rl.RawIssuer, c.Certificate().RawSubject) {
				t.Errorf("CRL issuer is not the CA's subject")
			}
			if rl.SignatureAlgorithm != x509.SHA256WithRSA {
				t.Errorf("signature algorithm = %v, want SHA256-RSA", rl.SignatureAlgorithm)
			}
			checkEntries(t, rl, want)
		})
	}
}

// checkTimes checks the CRL's and the blob's validity against each other.
func checkTimes(t *testing.T, blob *store.Blob, rl *x509.RevocationList, now time.Time, validity time.Duration) {
	t.Helper()
	for _, f := range []struct {
		name      string
		got, want time.Time
	}{
		{"CRL thisUpdate", rl.ThisUpdate, now},
		{"CRL nextUpdate", rl.NextUpdate, now.Add(validity)},
		{"blob ThisUpdate", blob.ThisUpdate, now},
		{"blob NextUpdate", blob.NextUpdate, now.Add(validity)},
		{"blob RefreshAt", blob.RefreshAt, now.Add(validity / 2)},
	} {
		if !f.got.Equal(f.want) {
			t.Errorf("%s = %v, want %v", f.name, f.got, f.want)
		}
	}
}

// checkEntries checks that rl lists exactly want, with times and reasons,
// and no reasonCode extension for unspecified.
func checkEntries(t *testing.T, rl *x509.RevocationList, want map[string]wantEntry) {
	t.Helper()
	seen := make(map[string]bool)
	for _, e := range rl.RevokedCertificateEntries {
		sn := e.SerialNumber.Text(16)
		w, ok := want[sn]
		if !ok {
			t.Errorf("serial %s is on the CRL but should not be", sn)
			continue
		}
		seen[sn] = true
		if !e.RevocationTime.Equal(w.revokedAt) {
			t.Errorf("serial %s: revocation time %v, want %v", sn, e.RevocationTime, w.revokedAt)
		}
		if e.ReasonCode != w.reason {
			t.Errorf("serial %s: reason %d, want %d", sn, e.ReasonCode, w.reason)
		}
		hasExt := false
		for _, ext := range e.Extensions {
			hasExt = hasExt || ext.Id.Equal(oidReasonCode)
		}
		if hasExt != (w.reason != store.ReasonUnspecified) {
			t.Errorf("serial %s (reason %d): reasonCode extension present = %v", sn, w.reason, hasExt)
		}
	}
	for sn := range want {
		if !seen[sn] {
			t.Errorf("serial %s is missing from the CRL", sn)
		}
	}
}

// TestBuildNumberSurvivesReopen: CRL numbers only go up, across builds and
// across a restart of the store.
func TestBuildNumberSurvivesReopen(t *testing.T) {
	c := loadCA(t)
	path := filepath.Join(t.TempDir(), "certgate.db")
	var last int64
	for round := range 3 {
		st := openBolt(t, path)
		b, err := NewBuilder(options(c, st, newClock()))
		if err != nil {
			t.Fatalf("NewBuilder: %v", err)
		}
		for range 2 {
			blob, err := b.Build(context.Background())
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			n := parse(t, blob.Data, c.Certificate()).Number.Int64()
			if n <= last {
				t.Fatalf("round %d: CRL number %d after %d, want more", round, n, last)
			}
			last = n
		}
		if err := st.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	if last != 6 {
		t.Fatalf("last CRL number = %d, want 6 (3 opens x 2 builds)", last)
	}
}

// TestBuildOtherKeyAndValidity builds for an ECDSA CA without a public URL
// and a custom validity: no IDP, the key's default signature algorithm.
func TestBuildOtherKeyAndValidity(t *testing.T) {
	iss := newTestIssuer(t, "ec-ca", nil)
	clk := newClock()
	b, err := NewBuilder(Options{CA: iss, Source: &memSource{}, Numbers: &counter{}, Validity: 6 * time.Hour, Now: clk.now})
	if err != nil {
		t.Fatalf("NewBuilder: %v", err)
	}
	blob, err := b.Build(context.Background())
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	rl := parse(t, blob.Data, iss.cert)
	checkTimes(t, blob, rl, clk.now(), 6*time.Hour)
	for _, ext := range rl.Extensions {
		if ext.Id.Equal(oidIssuingDistributionPoint) {
			t.Fatalf("CRL has an IDP without a public URL")
		}
	}
	if rl.SignatureAlgorithm != x509.ECDSAWithSHA256 {
		t.Errorf("signature algorithm = %v, want ECDSA-SHA256", rl.SignatureAlgorithm)
	}
}

func TestBuildErrors(t *testing.T) {
	c := loadCA(t)
	for _, tc := range []struct {
		name    string
		opts    func(o *Options)
		want    error
		wantMsg string
	}{
		{"fail/source", func(o *Options) { o.Source = &memSource{err: errSource} },
			errSource, "crl: build test-ca: find revoked certificates: disk on fire"},
		{"fail/numbers", func(o *Options) { o.Numbers = failingNumbers{} },
			errSource, "crl: build test-ca: draw CRL number: disk on fire"},
		{"fail/closed store", func(o *Options) {
			st := o.Source.(interface{ Close() error })
			st.Close()
		}, store.ErrClosed, "crl: build test-ca: find revoked certificates: store: bolt: search: store: closed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := openBolt(t, filepath.Join(t.TempDir(), "certgate.db"))
			o := options(c, st, newClock())
			tc.opts(&o)
			b, err := NewBuilder(o)
			if err != nil {
				t.Fatalf("NewBuilder: %v", err)
			}
			blob, err := b.Build(context.Background())
			if !errors.Is(err, tc.want) || err.Error() != tc.wantMsg {
				t.Fatalf("Build error = %v, want %q", err, tc.wantMsg)
			}
			if blob != nil {
				t.Fatalf("Build returned a blob with its error")
			}
		})
	}
}

type failingNumbers struct{}

func (failingNumbers) NextSequence(context.Context, string) (uint64, error) { return 0, errSource }

func TestNewBuilderErrors(t *testing.T) {
	c := loadCA(t)
	noCRLSign := newTestIssuer(t, "no-crl-sign", func(tpl *x509.Certificate) { tpl.KeyUsage = x509.KeyUsageCertSign })
	noSKI := newTestIssuer(t, "no-ski", nil)
	noSKI.cert.SubjectKeyId = nil
	wrongKey := newTestIssuer(t, "wrong-key", nil)
	wrongKey.key = newTestIssuer(t, "other", nil).key
	noCert := &testIssuer{name: "no-cert", key: wrongKey.key}
	noKey := &testIssuer{name: "no-key", cert: wrongKey.cert}
	badName := newTestIssuer(t, "a/b", nil)
	for _, tc := range []struct {
		name string
		opts func(o *Options)
		want string
	}{
		{"fail/no CA", func(o *Options) { o.CA = nil }, "crl: Options.CA is required"},
		{"fail/no source", func(o *Options) { o.Source = nil }, "crl: Options.Source is required"},
		{"fail/no numbers", func(o *Options) { o.Numbers = nil }, "crl: Options.Numbers is required"},
		{"fail/CA name with a slash", func(o *Options) { o.CA = badName }, `crl: CA name "a/b" cannot be a URL path segment`},
		{"fail/CA without cRLSign", func(o *Options) { o.CA = noCRLSign }, "crl: CA no-crl-sign: certificate does not allow cRLSign"},
		{"fail/CA without SKI", func(o *Options) { o.CA = noSKI }, "crl: CA no-ski: certificate has no subject key identifier, which the CRL's authority key identifier needs"},
		{"fail/CA key mismatch", func(o *Options) { o.CA = wrongKey }, "crl: CA wrong-key: signer does not match the certificate's public key"},
		{"fail/CA without certificate", func(o *Options) { o.CA = noCert }, "crl: CA no-cert: no certificate"},
		{"fail/CA without key", func(o *Options) { o.CA = noKey }, "crl: CA no-key: no signer"},
		{"fail/validity too short", func(o *Options) { o.Validity = 24 }, "crl: Options.Validity 24ns is below 1m0s"},
		{"fail/negative debounce", func(o *Options) { o.Debounce = -time.Second }, "crl: Options.Debounce -1s is negative"},
		{"fail/bad public URL", func(o *Options) { o.PublicURL = "certgate.test" }, `crl: public URL "certgate.test" is not an http(s) base URL like http://host:8080`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := Options{CA: c, PublicURL: testPublicURL, Source: &memSource{}, Numbers: &counter{}}
			tc.opts(&o)
			if _, err := NewBuilder(o); err == nil || err.Error() != tc.want {
				t.Fatalf("error = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestBuildOpenSSL has openssl parse and verify the CRL, as relying
// parties built on it will.
func TestBuildOpenSSL(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("openssl not on PATH, and CI must run this check")
		}
		t.Skip("openssl not on PATH")
	}
	c := loadCA(t)
	leaf := issueLeaf(t, c, "openssl-leaf")
	clk := newClock()
	st := openBolt(t, filepath.Join(t.TempDir(), "certgate.db"))
	fillStore(t, st, leaf, clk.now())
	b, err := NewBuilder(options(c, st, clk))
	if err != nil {
		t.Fatalf("NewBuilder: %v", err)
	}
	blob, err := b.Build(context.Background())
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	crlPath := filepath.Join(t.TempDir(), "test.crl")
	if err := os.WriteFile(crlPath, blob.Data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(openssl, "crl", "-inform", "DER", "-in", crlPath, "-noout", "-text",
		"-CAfile", filepath.Join(caDir, "ca.crt")).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl crl: %v\n%s", err, out)
	}
	text := string(out)
	for _, want := range []string{
		"verify OK",
		"X509v3 CRL Number: \n                1\n",
		"X509v3 Issuing Distribution Point: critical\n                Full Name:\n                  URI:" + wantCDP + "\n",
		"X509v3 Authority Key Identifier:",
		"Signature Algorithm: sha256WithRSAEncryption",
		"Serial Number: " + opensslSerial(leaf.SerialNumber),
		"Key Compromise",
		"Superseded",
		"Cessation Of Operation",
		"Certificate Hold",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("openssl output lacks %q", want)
		}
	}
	if n := strings.Count(text, "Serial Number:"); n != 7 {
		t.Errorf("openssl lists %d serials, want 7", n)
	}
	// Unspecified (1002) carries no entry extension: the text up to the
	// next serial has none.
	_, after, _ := strings.Cut(text, "Serial Number: 1002\n")
	entry, _, _ := strings.Cut(after, "Serial Number:")
	if entry == "" || strings.Contains(entry, "CRL entry extensions") {
		t.Errorf("entry 1002 (unspecified) = %q, want a revocation date and no extensions", entry)
	}
	if strings.Contains(text, "Serial Number: 2001") {
		t.Errorf("openssl lists the long-expired serial 2001")
	}
	if t.Failed() {
		t.Logf("openssl output:\n%s", text)
	}
}

// opensslSerial is how openssl prints a serial: upper-case hex of whole
// bytes.
func opensslSerial(n *big.Int) string {
	return fmt.Sprintf("%X", n.Bytes())
}
