package ocsp

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"math/big"
	"net/http"
	"testing"
	"time"

	"github.com/certgate/certgate/store"
	xocsp "golang.org/x/crypto/ocsp"
)

func TestAnswers(t *testing.T) {
	main, foreign := cas(t)
	type setup func(e *env) *big.Int
	record := func(st store.Status) setup { return func(e *env) *big.Int { return e.addCert(st) } }
	tests := []struct {
		name       string
		setup      setup
		issuer     *x509.Certificate
		hash       asn1.ObjectIdentifier
		nonce      []byte
		wantStatus int
		wantReason int
	}{
		{name: "ok/good", setup: record(store.StatusValid), wantStatus: xocsp.Good},
		{name: "ok/good sha256 CertID", setup: record(store.StatusValid), hash: oidSHA256, wantStatus: xocsp.Good},
		{name: "ok/revoked keyCompromise", setup: record(store.StatusRevoked), wantStatus: xocsp.Revoked, wantReason: xocsp.KeyCompromise},
		{name: "ok/revoked unspecified", setup: func(e *env) *big.Int {
			serial := e.addCert(store.StatusValid)
			if err := e.certs.Revoke(serial, 0, t0.Add(-time.Hour)); err != nil {
				t.Fatal(err)
			}
			return serial
		}, wantStatus: xocsp.Revoked, wantReason: xocsp.Unspecified},
		{name: "ok/unknown never issued", setup: func(*env) *big.Int { return big.NewInt(0xdead) }, wantStatus: xocsp.Unknown},
		{name: "ok/unknown reserved", setup: record(store.StatusReserved), wantStatus: xocsp.Unknown},
		{name: "ok/unknown issued by another CA", setup: func(e *env) *big.Int {
			serial := big.NewInt(0xbeef)
			e.certs.Add(store.CertRecord{Serial: serial, Issuer: "other", Status: store.StatusValid})
			return serial
		}, wantStatus: xocsp.Unknown},
		{name: "ok/unknown serial zero", setup: func(*env) *big.Int { return big.NewInt(0) }, wantStatus: xocsp.Unknown},
		{name: "ok/unknown serial of 21 octets", setup: func(*env) *big.Int { return new(big.Int).Lsh(big.NewInt(1), 165) }, wantStatus: xocsp.Unknown},
		{name: "ok/good with nonce", setup: record(store.StatusValid), nonce: octets(t, 32), wantStatus: xocsp.Good},
		{name: "ok/good with raw nonce", setup: record(store.StatusValid), nonce: []byte("0123456789abcdef"), wantStatus: xocsp.Good},
		{name: "ok/revoked with nonce sha256", setup: record(store.StatusRevoked), hash: oidSHA256, nonce: octets(t, 16),
			wantStatus: xocsp.Revoked, wantReason: xocsp.KeyCompromise},
		{name: "fail/unauthorized foreign CA", setup: record(store.StatusValid), issuer: foreign.cert},
	}
	for _, mode := range []string{modeDelegated, modeCA} {
		for _, method := range []string{http.MethodPost, http.MethodGet} {
			for _, tt := range tests {
				t.Run(mode+"/"+method+"/"+tt.name, func(t *testing.T) {
					e := newEnv(t, mode)
					serial := tt.setup(e)
					spec := reqSpec{issuer: main.cert, serial: serial, hash: tt.hash, nonce: tt.nonce}
					if tt.issuer != nil {
						spec.issuer = tt.issuer
					}
					der := spec.build(t)
					req := postReq(der)
					if method == http.MethodGet {
						req = getReq(der)
					}
					w := e.do(req)
					if w.Code != http.StatusOK {
						t.Fatalf("HTTP %d, want 200", w.Code)
					}
					if got := w.Header().Get("Content-Type"); got != "application/ocsp-response" {
						t.Errorf("Content-Type = %q", got)
					}
					if tt.issuer != nil {
						if !bytes.Equal(w.Body.Bytes(), xocsp.UnauthorizedErrorResponse) {
							t.Fatalf("body = %x, want unauthorized", w.Body.Bytes())
						}
						return
					}
					p := checkSigned(t, w.Body.Bytes(), main, serial)
					checkAnswer(t, e, p, spec, tt.wantStatus, tt.wantReason)
				})
			}
		}
	}
}

// checkAnswer checks a signed response against the request it answers.
func checkAnswer(t *testing.T, e *env, p *parsed, spec reqSpec, wantStatus, wantReason int) {
	t.Helper()
	wantHash := spec.hash
	if wantHash == nil {
		wantHash = oidSHA1
	}
	h := hashSHA1
	if wantHash.Equal(oidSHA256) {
		h = hashSHA256
	}
	hashes, err := computeIssuerHashes(e.ca.cert)
	if err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now()
	checks := []struct {
		name      string
		got, want any
	}{
		{"status", p.Status, wantStatus},
		{"serial", p.SerialNumber.Cmp(spec.serial), 0},
		{"CertID hash algorithm", p.hashOID.String(), wantHash.String()},
		{"CertID issuerNameHash", p.nameHash, hashes[h].name},
		{"CertID issuerKeyHash", p.keyHash, hashes[h].key},
		{"thisUpdate", p.ThisUpdate, now},
		{"producedAt", p.ProducedAt, now},
		{"nextUpdate", p.NextUpdate, now.Add(DefaultValidity)},
		{"signature algorithm is SHA-256", p.SignatureAlgorithm == x509.SHA256WithRSA || p.SignatureAlgorithm == x509.ECDSAWithSHA256, true},
		{"responder certificate included", p.Certificate != nil, e.mode == modeDelegated},
	}
	if wantStatus == xocsp.Revoked {
		checks = append(checks,
			struct {
				name      string
				got, want any
			}{"revocation reason", p.RevocationReason, wantReason})
	}
	for _, c := range checks {
		if !equal(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if p.Certificate != nil {
		checkResponderCert(t, p.Certificate, e.ca.cert)
	}
	switch {
	case spec.nonce == nil && len(p.responseExt) != 0:
		t.Errorf("response extensions %v without a nonce in the request", p.responseExt)
	case spec.nonce != nil && (len(p.responseExt) != 1 || !p.responseExt[0].Id.Equal(oidNonce) || !bytes.Equal(p.responseExt[0].Value, spec.nonce)):
		t.Errorf("response extensions %v, want the nonce %x echoed", p.responseExt, spec.nonce)
	}
	if len(p.Extensions) != 0 {
		t.Errorf("singleExtensions %v, want none (the nonce belongs in responseExtensions)", p.Extensions)
	}
}

// checkResponderCert checks the delegation RFC 6960 §4.2.2.2 requires.
func checkResponderCert(t *testing.T, cert, issuer *x509.Certificate) {
	t.Helper()
	if err := cert.CheckSignatureFrom(issuer); err != nil {
		t.Errorf("responder certificate not signed by the issuer: %v", err)
	}
	if !hasOCSPSigning(cert) {
		t.Error("responder certificate lacks OCSPSigning")
	}
	nocheck := false
	for _, ext := range cert.Extensions {
		nocheck = nocheck || ext.Id.Equal(asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 5})
	}
	if !nocheck {
		t.Error("responder certificate lacks id-pkix-ocsp-nocheck")
	}
}

func equal(a, b any) bool {
	switch a := a.(type) {
	case []byte:
		return bytes.Equal(a, b.([]byte))
	case time.Time:
		return a.Equal(b.(time.Time))
	}
	return a == b
}
