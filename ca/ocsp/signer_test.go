package ocsp

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certgate/certgate/ca/ocsp/ocsptest"
	"github.com/certgate/certgate/store"
	xocsp "golang.org/x/crypto/ocsp"
)

func TestNewSignerErrors(t *testing.T) {
	main, foreign := cas(t)
	now := func() time.Time { return t0 }
	tests := []struct {
		name string
		cfg  SignerConfig
		err  string
	}{
		{name: "fail/empty name", cfg: SignerConfig{Issuer: main.cert, Key: main.key},
			err: `ocsp: signer name "" is not valid (want ^[a-z0-9][a-z0-9_-]{0,63}$)`},
		{name: "fail/name with slash", cfg: SignerConfig{Name: "a/b", Issuer: main.cert, Key: main.key},
			err: `ocsp: signer name "a/b" is not valid (want ^[a-z0-9][a-z0-9_-]{0,63}$)`},
		{name: "fail/no issuer", cfg: SignerConfig{Name: "corp", Key: main.key}, err: "ocsp: signer corp: no issuer certificate"},
		{name: "fail/neither key nor issue", cfg: SignerConfig{Name: "corp", Issuer: main.cert},
			err: "ocsp: signer corp: set exactly one of Key (mode ca) and Issue (delegated)"},
		{name: "fail/both key and issue", cfg: SignerConfig{Name: "corp", Issuer: main.cert, Key: main.key, Issue: main.issuer(now, nil)},
			err: "ocsp: signer corp: set exactly one of Key (mode ca) and Issue (delegated)"},
		{name: "fail/key of another CA", cfg: SignerConfig{Name: "corp", Issuer: main.cert, Key: foreign.key},
			err: "ocsp: signer corp: the key is not the issuer certificate's"},
		{name: "fail/negative responder validity", cfg: SignerConfig{Name: "corp", Issuer: main.cert, Issue: main.issuer(now, nil), ResponderValidity: -time.Hour},
			err: "ocsp: signer corp: ResponderValidity -1h0m0s is negative"},
		{name: "fail/unsupported responder key", cfg: SignerConfig{Name: "corp", Issuer: main.cert, Issue: main.issuer(now, nil), ResponderKey: x509.Ed25519},
			err: "ocsp: signer corp: ResponderKey Ed25519 is not supported (ECDSA, RSA)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewSigner(tt.cfg)
			if err == nil || err.Error() != tt.err {
				t.Fatalf("NewSigner error = %v, want %q", err, tt.err)
			}
			if s != nil {
				t.Error("a Signer came back with the error")
			}
		})
	}
}

// edCA is a CA whose key the responder cannot sign with.
func edCA(t *testing.T) testCA {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return newTestCA(t, "Ed CA", key, t0.Add(-time.Hour), t0.AddDate(1, 0, 0))
}

func TestNewErrors(t *testing.T) {
	main, foreign := cas(t)
	now := func() time.Time { return t0 }
	signer := func(cfg SignerConfig) *Signer {
		s, err := NewSigner(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	caMode := func(name string) *Signer { return signer(SignerConfig{Name: name, Issuer: main.cert, Key: main.key}) }
	delegated := func(issue IssueFunc, validity time.Duration) *Signer {
		return signer(SignerConfig{Name: "corp", Issuer: main.cert, Issue: issue, ResponderValidity: validity})
	}
	failing := func(crypto.Signer, time.Duration) (*x509.Certificate, error) { return nil, errors.New("CA offline") }
	noEKU := func(key crypto.Signer, validity time.Duration) (*x509.Certificate, error) {
		c, err := main.issuer(now, nil)(key, validity)
		if err != nil {
			return nil, err
		}
		c.ExtKeyUsage = nil
		return c, nil
	}
	otherKey := func(_ crypto.Signer, validity time.Duration) (*x509.Certificate, error) {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		return main.issuer(now, nil)(k, validity)
	}
	src := &ocsptest.Certs{}
	tests := []struct {
		name string
		opts Options
		err  string
	}{
		{name: "fail/no CA", opts: Options{Source: src}, err: "ocsp: no CA to answer for"},
		{name: "fail/no source", opts: Options{CAs: []*Signer{caMode("corp")}}, err: "ocsp: no certificate source"},
		{name: "fail/validity too short", opts: Options{CAs: []*Signer{caMode("corp")}, Source: src, Validity: time.Second},
			err: "ocsp: Validity 1s is shorter than 1m0s"},
		{name: "fail/negative MaxBody", opts: Options{CAs: []*Signer{caMode("corp")}, Source: src, MaxBody: -1},
			err: "ocsp: MemEntries, MaxBody, RefreshInterval, RefreshBatch, MaxSigning and SigningWait must not be negative"},
		{name: "fail/negative MaxSigning", opts: Options{CAs: []*Signer{caMode("corp")}, Source: src, MaxSigning: -1},
			err: "ocsp: MemEntries, MaxBody, RefreshInterval, RefreshBatch, MaxSigning and SigningWait must not be negative"},
		{name: "fail/negative SigningWait", opts: Options{CAs: []*Signer{caMode("corp")}, Source: src, SigningWait: -time.Second},
			err: "ocsp: MemEntries, MaxBody, RefreshInterval, RefreshBatch, MaxSigning and SigningWait must not be negative"},
		{name: "fail/nil Signer", opts: Options{CAs: []*Signer{nil}, Source: src}, err: "ocsp: nil Signer"},
		{name: "fail/same name twice", opts: Options{CAs: []*Signer{caMode("corp"), signer(SignerConfig{Name: "corp", Issuer: foreign.cert, Key: foreign.key})}, Source: src},
			err: "ocsp: two Signers named corp"},
		{name: "fail/same issuer twice", opts: Options{CAs: []*Signer{caMode("corp"), caMode("corp2")}, Source: src},
			err: "ocsp: Signers corp and corp2 answer for the same issuer"},
		{name: "fail/responder validity under twice Validity", opts: Options{CAs: []*Signer{delegated(main.issuer(now, nil), 47*time.Hour)}, Source: src},
			err: "ocsp: signer corp: ResponderValidity 47h0m0s is less than twice Validity 24h0m0s"},
		{name: "fail/first responder certificate not issued", opts: Options{CAs: []*Signer{delegated(failing, 0)}, Source: src, Now: now},
			err: "ocsp: signer corp: ocsp: issue responder certificate: CA offline"},
		{name: "fail/responder certificate without OCSPSigning", opts: Options{CAs: []*Signer{delegated(noEKU, 0)}, Source: src, Now: now},
			err: "ocsp: signer corp: ocsp: responder certificate lacks extKeyUsage OCSPSigning"},
		{name: "fail/responder certificate for another key", opts: Options{CAs: []*Signer{delegated(otherKey, 0)}, Source: src, Now: now},
			err: "ocsp: signer corp: ocsp: responder certificate: the key is not the issuer certificate's"},
		{name: "fail/responder certificate from another CA", opts: Options{CAs: []*Signer{delegated(foreign.issuer(now, nil), 0)}, Source: src, Now: now},
			err: "ocsp: signer corp: ocsp: responder certificate is not signed by the issuer it answers for"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := New(tt.opts)
			if err == nil || err.Error() != tt.err {
				t.Fatalf("New error = %v, want %q", err, tt.err)
			}
			if r != nil {
				t.Error("a Responder came back with the error")
			}
		})
	}
	t.Run("fail/CA key that cannot sign OCSP", func(t *testing.T) {
		ed := edCA(t)
		_, err := NewSigner(SignerConfig{Name: "ed", Issuer: ed.cert, Key: ed.key})
		if want := "ocsp: signer ed: ocsp: ed25519.PublicKey keys are not supported (RSA, ECDSA)"; err == nil || err.Error() != want {
			t.Fatalf("NewSigner error = %v, want %q", err, want)
		}
	})
}

func TestRotation(t *testing.T) {
	e := newEnv(t, modeDelegated)
	serial := e.addCert(store.StatusValid)
	first := e.signer.ResponderCertificate()
	if first == nil || e.issued.Load() != 1 {
		t.Fatalf("after New: responder %v, %d issued; want the first one", first, e.issued.Load())
	}
	old := e.ask(t, serial)
	half := first.NotBefore.Add(first.NotAfter.Sub(first.NotBefore) / 2)
	steps := []struct {
		name       string
		at         time.Time
		wantIssued int64
		wantCert   *x509.Certificate // nil: a new one
	}{
		{name: "before half-life: same certificate", at: half.Add(-time.Second), wantIssued: 1, wantCert: first},
		{name: "at half-life: rotated", at: half, wantIssued: 2},
	}
	other := e.addCert(store.StatusValid)
	for _, st := range steps {
		e.clock.Add(st.at.Sub(e.clock.Now()))
		p := e.ask(t, other, reqSpec{issuer: e.ca.cert, serial: other, nonce: octets(t, 8)})
		if got := e.issued.Load(); got != st.wantIssued {
			t.Errorf("%s: %d certificates issued, want %d", st.name, got, st.wantIssued)
		}
		same := p.Certificate.Equal(first)
		if (st.wantCert != nil) != same {
			t.Errorf("%s: signed by the first certificate: %v", st.name, same)
		}
	}
	second := e.signer.ResponderCertificate()
	if second.Equal(first) || second.SerialNumber.Cmp(first.SerialNumber) == 0 {
		t.Fatal("Responder() still returns the first certificate")
	}
	// A response signed before the rotation still verifies: it carries
	// the first certificate.
	if p := checkSigned(t, old.Raw, e.ca, serial); !p.Certificate.Equal(first) {
		t.Error("the old response does not carry the old certificate")
	}
	// And it is still served from the cache until its RefreshAt... which
	// has passed here (half-life is 3.5 days), so it is re-signed by the
	// new certificate.
	if p := e.ask(t, serial); !p.Certificate.Equal(second) {
		t.Error("re-signed response not signed by the new certificate")
	}
}

func TestRotationFailure(t *testing.T) {
	var fail atomic.Bool
	e := newEnv(t, modeDelegated, func(_ *Options, cfg *SignerConfig) {
		issue := cfg.Issue
		cfg.Issue = func(key crypto.Signer, validity time.Duration) (*x509.Certificate, error) {
			if fail.Load() {
				return nil, errors.New("CA offline")
			}
			return issue(key, validity)
		}
	})
	first := e.signer.ResponderCertificate()
	fail.Store(true)
	serial := e.addCert(store.StatusValid)
	tests := []struct {
		name     string
		at       time.Time
		wantCode int
	}{
		{name: "ok/past half-life: old certificate kept", at: first.NotAfter.Add(-time.Hour), wantCode: 200},
		{name: "fail/past notAfter: internal error", at: first.NotAfter, wantCode: 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.clock.Add(tt.at.Sub(e.clock.Now()))
			w := e.do(postReq(reqSpec{issuer: e.ca.cert, serial: serial, nonce: octets(t, 8)}.build(t)))
			if w.Code != tt.wantCode {
				t.Fatalf("HTTP %d, want %d", w.Code, tt.wantCode)
			}
			if tt.wantCode != 200 {
				return
			}
			p := checkSigned(t, w.Body.Bytes(), e.ca, serial)
			if !p.Certificate.Equal(first) {
				t.Error("not signed by the old certificate")
			}
			// nextUpdate never outlives the certificate that signed it.
			if !p.NextUpdate.Equal(first.NotAfter) {
				t.Errorf("nextUpdate %s, want the certificate's notAfter %s", p.NextUpdate, first.NotAfter)
			}
		})
	}
}

func TestRSAResponderKey(t *testing.T) {
	e := newEnv(t, modeDelegated, func(_ *Options, cfg *SignerConfig) { cfg.ResponderKey = x509.RSA })
	serial := e.addCert(store.StatusValid)
	p := e.ask(t, serial)
	if _, ok := p.Certificate.PublicKey.(*rsa.PublicKey); !ok || p.SignatureAlgorithm != x509.SHA256WithRSA {
		t.Errorf("responder key %T, signature %v; want RSA, SHA256WithRSA", p.Certificate.PublicKey, p.SignatureAlgorithm)
	}
	if p.Status != xocsp.Good {
		t.Errorf("status %d", p.Status)
	}
}

// TestExpiringCA: in mode ca, nextUpdate stops at the CA's notAfter, and
// an expired CA answers nothing.
func TestExpiringCA(t *testing.T) {
	cas(t)
	e := newEnv(t, modeCA, func(o *Options, cfg *SignerConfig) {
		cfg.Issuer, cfg.Key = expiringCA.cert, &countingSigner{Signer: expiringCA.key, n: new(atomic.Int64)}
	})
	e.ca = expiringCA
	serial := e.addCert(store.StatusValid)
	p := e.ask(t, serial, reqSpec{issuer: expiringCA.cert, serial: serial, nonce: octets(t, 4)})
	if !p.NextUpdate.Equal(expiringCA.cert.NotAfter) {
		t.Errorf("nextUpdate %s, want the CA's notAfter %s", p.NextUpdate, expiringCA.cert.NotAfter)
	}
	e.clock.Add(expiringCA.cert.NotAfter.Sub(e.clock.Now()))
	w := e.do(postReq(reqSpec{issuer: expiringCA.cert, serial: serial, nonce: octets(t, 4)}.build(t)))
	if w.Code != 500 || !strings.Contains(w.Body.String(), string(xocsp.InternalErrorErrorResponse)) {
		t.Errorf("expired CA: HTTP %d body %x, want 500 internalError", w.Code, w.Body.Bytes())
	}
}
