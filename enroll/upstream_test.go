package enroll_test

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	"github.com/certgate/certgate/ca/upstream"
	"github.com/certgate/certgate/enroll"
	"github.com/certgate/certgate/store"
)

// fakeUpstream signs with a self-signed CA of its own, or fails with err.
type fakeUpstream struct {
	err     error
	csrSeen []byte
}

func (f *fakeUpstream) Name() string { return "corp-ca" }

func (f *fakeUpstream) Chain(context.Context) ([]*x509.Certificate, error) { return nil, nil }

func (f *fakeUpstream) Forward(_ context.Context, csr *x509.CertificateRequest, raw []byte, _ string) (*x509.Certificate, error) {
	f.csrSeen = raw
	if f.err != nil {
		return nil, f.err
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	tpl := &x509.Certificate{SerialNumber: serial, Subject: csr.Subject, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tpl, &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Corp CA"}}, csr.PublicKey, rsaKey)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

func TestUpstreamIssuance(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		csrKey     any
		wantReason *enroll.Reason
	}{
		{name: "ok/recorded under the upstream's name"},
		{name: "fail/upstream refuses the CSR", err: &upstream.Rejected{Reason: upstream.ReasonBadRequest, Message: "no"}, wantReason: new(enroll.BadRequest)},
		{name: "fail/upstream refuses certgate", err: &upstream.Rejected{Reason: upstream.ReasonUnauthorized, Message: "bad RA"}, wantReason: new(enroll.Unavailable)},
		{name: "fail/upstream holds it", err: &upstream.PendingError{Upstream: "corp-ca"}, wantReason: new(enroll.Pending)},
		{name: "fail/upstream down", err: &upstream.UnavailableError{Upstream: "corp-ca", Op: "enroll"}, wantReason: new(enroll.Unavailable)},
		{name: "fail/policy checked locally first", csrKey: "weak", wantReason: new(enroll.BadAlg)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, testCA)
			up := &fakeUpstream{err: tc.err}
			s := e.service(t, func(o *enroll.Options) { o.Profiles["device"].Upstream = up })
			csr := newCSR(t, ecKey, "via-upstream")
			if tc.csrKey == "weak" {
				csr = newCSR(t, weakKey, "via-upstream")
			}
			res, err := s.Enroll(context.Background(), request(csr, secret1))
			if tc.wantReason != nil {
				if f := enroll.AsFailure(err); err == nil || f.Reason != *tc.wantReason {
					t.Fatalf("err = %v, want %s", err, *tc.wantReason)
				}
				if tc.csrKey == "weak" && up.csrSeen != nil {
					t.Fatal("a CSR the profile refuses was forwarded")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(up.csrSeen) != string(csr.Raw) {
				t.Error("the CSR was not forwarded unchanged")
			}
			rec, err := e.store.Cert(context.Background(), res.Cert.SerialNumber)
			if err != nil || rec.Issuer != "corp-ca" || rec.Status != store.StatusValid || string(rec.DER) != string(res.Cert.Raw) {
				t.Fatalf("record %+v, %v; want the upstream's certificate recorded under corp-ca", rec, err)
			}
		})
	}
}
