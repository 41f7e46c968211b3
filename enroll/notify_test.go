package enroll_test

import (
	"context"
	"crypto/x509"
	"errors"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/certgate/certgate/enroll"
	"github.com/certgate/certgate/store"
	"github.com/certgate/certgate/validate"
)

// recordingNotifier remembers every notification and fails successes when
// told to.
type recordingNotifier struct {
	mu        sync.Mutex
	successes []*x509.Certificate
	failures  []error
	failWith  error
}

func (n *recordingNotifier) Notify(_ context.Context, r *validate.Request, cert *x509.Certificate, issueErr error) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if cert == nil {
		n.failures = append(n.failures, issueErr)
		return nil
	}
	n.successes = append(n.successes, cert)
	return n.failWith
}

// storeRevoker revokes in the store alone.
type storeRevoker struct{ st enroll.Recorder }

func (r storeRevoker) Revoke(ctx context.Context, serial *big.Int, reason int, at time.Time) (*store.CertRecord, error) {
	return r.st.(interface {
		Revoke(context.Context, *big.Int, int, time.Time) (*store.CertRecord, error)
	}).Revoke(ctx, serial, reason, at)
}

func notifyingService(t *testing.T, e *env, n *recordingNotifier, rec enroll.Recorder) *enroll.Service {
	t.Helper()
	return e.service(t, func(o *enroll.Options) {
		o.Profiles["device"].Notifier = n
		o.Revoker = storeRevoker{e.store}
		if rec != nil {
			o.Store = rec
		}
	})
}

func TestNotify(t *testing.T) {
	ctx := context.Background()
	t.Run("ok/success notified", func(t *testing.T) {
		e := newEnv(t, testCA)
		n := &recordingNotifier{}
		res, err := notifyingService(t, e, n, nil).Enroll(ctx, request(newCSR(t, ecKey, "n-1"), secret1))
		if err != nil {
			t.Fatal(err)
		}
		if len(n.successes) != 1 || !n.successes[0].Equal(res.Cert) {
			t.Fatalf("successes %d, want the issued certificate", len(n.successes))
		}
	})
	t.Run("fail/unacknowledged success revokes", func(t *testing.T) {
		e := newEnv(t, testCA)
		n := &recordingNotifier{failWith: errors.New("intune: 500")}
		_, err := notifyingService(t, e, n, nil).Enroll(ctx, request(newCSR(t, ecKey, "n-2"), secret1))
		if enroll.AsFailure(err).Reason != enroll.Unavailable {
			t.Fatalf("err = %v, want unavailable", err)
		}
		revoked, _ := e.store.Search(ctx, store.Query{Status: store.StatusRevoked, Limit: -1})
		if len(revoked) != 1 || revoked[0].RevocationReason != store.ReasonCessationOfOperation {
			t.Fatalf("revoked records %+v, want one with cessationOfOperation", revoked)
		}
	})
	t.Run("fail/failed issuance notified", func(t *testing.T) {
		e := newEnv(t, testCA)
		n := &recordingNotifier{}
		_, err := notifyingService(t, e, n, failingIssue{e.store}).Enroll(ctx, request(newCSR(t, ecKey, "n-3"), secret1))
		if err == nil || len(n.failures) != 1 || len(n.successes) != 0 {
			t.Fatalf("err %v, %d failure and %d success notifications; want an error and one failure notification", err, len(n.failures), len(n.successes))
		}
	})
	t.Run("ok/rejection is not notified", func(t *testing.T) {
		e := newEnv(t, testCA)
		n := &recordingNotifier{}
		_, err := notifyingService(t, e, n, nil).Enroll(ctx, request(newCSR(t, ecKey, "n-4"), "wrong"))
		if enroll.AsFailure(err).Reason != enroll.Unauthorized || len(n.failures)+len(n.successes) != 0 {
			t.Fatalf("err %v, notifications %d/%d; want unauthorized and none", err, len(n.successes), len(n.failures))
		}
	})
	t.Run("fail/notifier without revoker", func(t *testing.T) {
		e := newEnv(t, testCA)
		_, err := enroll.NewService(enroll.Options{Store: e.store, Profiles: map[string]*enroll.Profile{
			"x": {Policy: e.policy(t, "x"), Issuer: e.ca, Validator: e.profiles(t)["device"].Validator, Notifier: &recordingNotifier{}},
		}})
		if err == nil {
			t.Fatal("NewService accepted a notifier without a revoker")
		}
	})
}
