package enroll_test

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"testing"
	"time"

	"github.com/certgate/certgate/enroll"
	"github.com/certgate/certgate/store"
)

// approvalService has "device" with manual approval.
func approvalService(t *testing.T, e *env) *enroll.Service {
	t.Helper()
	return e.service(t, func(o *enroll.Options) {
		o.Profiles["device"].Approval = true
		o.Requests = e.store
		o.PendingRetry = 42 * time.Second
	})
}

func mustPending(t *testing.T, err error) *enroll.Failure {
	t.Helper()
	f := enroll.AsFailure(err)
	if err == nil || f.Reason != enroll.Pending || f.RequestID == "" || f.RetryAfter != 42*time.Second {
		t.Fatalf("err = %v, want Pending with a request ID and Retry-After 42s", err)
	}
	return f
}

func TestApprovalFlow(t *testing.T) {
	e := newEnv(t, testCA)
	s := approvalService(t, e)
	ctx := context.Background()
	csr := newCSR(t, ecKey, "held-1")
	first := request(csr, secret1)

	// First submission: validated and held, nothing issued.
	f := mustPending(t, func() error { _, err := s.Enroll(ctx, first); return err }())
	if n := e.count(t, store.StatusValid) + e.count(t, store.StatusReserved); n != 0 {
		t.Fatalf("%d certificate records after holding, want 0", n)
	}
	pr, err := e.store.Request(ctx, f.RequestID)
	if err != nil || pr.Status != store.RequestPending || pr.TransactionID != first.TransactionID {
		t.Fatalf("held request %+v, %v", pr, err)
	}

	poll := &enroll.Request{Protocol: "scep", Profile: "device", TransactionID: first.TransactionID, Poll: true, PollKey: ecKey.Public()}
	t.Run("fail/poll while pending", func(t *testing.T) {
		_, err := s.Enroll(ctx, poll)
		mustPending(t, err)
	})
	t.Run("fail/poll by another key", func(t *testing.T) {
		p := *poll
		p.PollKey = rsaKey.Public()
		_, err := s.Enroll(ctx, &p)
		if enroll.AsFailure(err).Reason != enroll.BadMessageCheck {
			t.Fatalf("err = %v, want badMessageCheck", err)
		}
	})
	t.Run("fail/different CSR under the same transaction ID", func(t *testing.T) {
		other := request(newCSR(t, ecKey, "someone-else"), secret1)
		other.TransactionID = first.TransactionID
		_, err := s.Enroll(ctx, other)
		if enroll.AsFailure(err).Reason != enroll.BadRequest {
			t.Fatalf("err = %v, want badRequest", err)
		}
	})
	t.Run("fail/poll for an unknown transaction", func(t *testing.T) {
		p := *poll
		p.TransactionID = "nope"
		_, err := s.Enroll(ctx, &p)
		if enroll.AsFailure(err).Reason != enroll.BadCertID {
			t.Fatalf("err = %v, want badCertId", err)
		}
	})

	if _, err := e.store.DecideRequest(ctx, f.RequestID, true, "test", "", time.Now()); err != nil {
		t.Fatal(err)
	}
	var issued *x509.Certificate
	t.Run("ok/poll after approval issues the held CSR", func(t *testing.T) {
		res, err := s.Enroll(ctx, poll)
		if err != nil {
			t.Fatal(err)
		}
		issued = res.Cert
		if !issued.PublicKey.(interface{ Equal(crypto.PublicKey) bool }).Equal(csr.PublicKey) || res.Record.TransactionID != first.TransactionID {
			t.Fatal("issued certificate is not for the held request")
		}
		pr, _ := e.store.Request(ctx, f.RequestID)
		if pr.Status != store.RequestIssued || pr.Serial != res.Record.SerialHex {
			t.Fatalf("request after issuance: %+v", pr)
		}
	})
	t.Run("ok/asking again returns the same certificate", func(t *testing.T) {
		res, err := s.Enroll(ctx, first) // a re-sent PKCSReq
		if err != nil || issued == nil || !res.Cert.Equal(issued) {
			t.Fatalf("re-sent request: %v; want the certificate already issued", err)
		}
		if n := e.count(t, store.StatusValid); n != 1 {
			t.Fatalf("%d valid certificates, want 1", n)
		}
	})
}

func TestApprovalRejected(t *testing.T) {
	e := newEnv(t, testCA)
	s := approvalService(t, e)
	ctx := context.Background()
	r := request(newCSR(t, ecKey, "held-2"), secret1)
	f := mustPending(t, func() error { _, err := s.Enroll(ctx, r); return err }())
	if _, err := e.store.DecideRequest(ctx, f.RequestID, false, "test", "not ours", time.Now()); err != nil {
		t.Fatal(err)
	}
	_, err := s.Enroll(ctx, r)
	if fl := enroll.AsFailure(err); fl.Reason != enroll.Unauthorized || fl.Detail != "request rejected by an operator: not ours" {
		t.Fatalf("err = %v, want unauthorized naming the reason", err)
	}
}

func TestApprovalChecksFirst(t *testing.T) {
	e := newEnv(t, testCA)
	s := approvalService(t, e)
	ctx := context.Background()
	tests := []struct {
		name string
		r    *enroll.Request
		want enroll.Reason
	}{
		{name: "fail/wrong challenge is not held", r: request(newCSR(t, ecKey, "held-3"), "wrong"), want: enroll.Unauthorized},
		{name: "fail/weak key is not held", r: request(newCSR(t, weakKey, "held-4"), secret1), want: enroll.BadAlg},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Enroll(ctx, tc.r)
			if enroll.AsFailure(err).Reason != tc.want {
				t.Fatalf("err = %v, want %s", err, tc.want)
			}
			if _, err := e.store.RequestByKey(ctx, "device", "scep:"+tc.r.TransactionID); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("a refused request was held: %v", err)
			}
		})
	}
	t.Run("ok/renewal skips approval", func(t *testing.T) {
		plain := e.service(t, nil)
		old, err := plain.Enroll(ctx, request(newCSR(t, ecKey, "held-5"), secret1))
		if err != nil {
			t.Fatal(err)
		}
		rr := request(newCSR(t, ecKey, "held-5"), "")
		rr.RenewalOf = old.Cert
		if _, err := s.Enroll(ctx, rr); err != nil {
			t.Fatalf("renewal in an approval profile: %v", err)
		}
	})
	t.Run("ok/test certificate skips approval", func(t *testing.T) {
		tr := request(newCSR(t, ecKey, "held-6"), "")
		tr.AuthorizedBy, tr.Test, tr.MaxValidity = "admin", true, time.Hour
		res, err := s.Enroll(ctx, tr)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Record.Test || res.Cert.NotAfter.Sub(res.Cert.NotBefore) > time.Hour+time.Minute {
			t.Fatalf("test certificate: test=%v, validity %s; want flagged and about 1h", res.Record.Test, res.Cert.NotAfter.Sub(res.Cert.NotBefore))
		}
	})
}
