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

// pendingUpstream holds the first request and issues it when polled.
type pendingUpstream struct {
	fakeUpstream
	polls int
}

func (f *pendingUpstream) Forward(context.Context, *x509.CertificateRequest, []byte, string) (*x509.Certificate, error) {
	return nil, &upstream.PendingError{Upstream: "corp-ca", RetryAfter: time.Minute}
}

func (f *pendingUpstream) Poll(ctx context.Context, csr *x509.CertificateRequest, raw []byte, tx string) (*x509.Certificate, error) {
	f.polls++
	return f.fakeUpstream.Forward(ctx, csr, raw, tx)
}

// A request the upstream holds is remembered, and the device's poll
// (on any replica: the state is in the store) asks the upstream again.
func TestUpstreamPendingThenPoll(t *testing.T) {
	e := newEnv(t, testCA)
	up := &pendingUpstream{}
	s := e.service(t, func(o *enroll.Options) {
		o.Profiles["device"].Upstream = up
		o.Requests = e.store
	})
	ctx := context.Background()
	first := request(newCSR(t, ecKey, "held-upstream"), secret1)
	_, err := s.Enroll(ctx, first)
	if f := enroll.AsFailure(err); f.Reason != enroll.Pending || f.RetryAfter != time.Minute {
		t.Fatalf("first attempt: %v, want Pending with the upstream's Retry-After", err)
	}
	pr, err := e.store.RequestByKey(ctx, "device", "scep:"+first.TransactionID)
	if err != nil || pr.Status != store.RequestApproved || pr.DecidedBy != "upstream corp-ca" {
		t.Fatalf("remembered request %+v, %v", pr, err)
	}
	poll := &enroll.Request{Protocol: "scep", Profile: "device", TransactionID: first.TransactionID, Poll: true, PollKey: ecKey.Public()}
	res, err := s.Enroll(ctx, poll)
	if err != nil || up.polls != 1 {
		t.Fatalf("poll: %v (upstream polled %d times), want the certificate after one upstream poll", err, up.polls)
	}
	if rec, _ := e.store.Cert(ctx, res.Cert.SerialNumber); rec == nil || rec.Issuer != "corp-ca" {
		t.Fatal("the upstream's certificate is not recorded")
	}
	again, err := s.Enroll(ctx, poll)
	if err != nil || !again.Cert.Equal(res.Cert) || up.polls != 1 {
		t.Fatalf("second poll: %v; want the same certificate without asking the upstream again", err)
	}
	t.Run("fail/poll for a transaction nobody holds", func(t *testing.T) {
		p := *poll
		p.TransactionID = "unknown"
		if _, err := s.Enroll(ctx, &p); enroll.AsFailure(err).Reason != enroll.BadCertID {
			t.Fatalf("err = %v, want badCertId", err)
		}
	})
}
