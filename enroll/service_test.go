package enroll_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certgate/certgate/enroll"
	"github.com/certgate/certgate/store"
)

func TestEnroll(t *testing.T) {
	tests := []struct {
		name string
		// req builds the request; it may issue certificates first.
		req func(t *testing.T, e *env) *enroll.Request
		// now is the service's clock; nil means time.Now.
		now func() time.Time
		// wrap replaces the store the service sees; nil means e.store.
		wrap func(r enroll.Recorder) enroll.Recorder
		// wantReason is the Failure's reason; nil means success, which
		// check then examines.
		wantReason *enroll.Reason
		wantDetail string
		check      func(t *testing.T, e *env, req *enroll.Request, res *enroll.Result)
	}{
		{
			name: "ok/issued",
			req: func(t *testing.T, e *env) *enroll.Request {
				return request(newCSR(t, rsaKey, "device-1", "device-1.example.com"), secret1)
			},
			check: checkIssued,
		},
		{
			name: "ok/second secret",
			req: func(t *testing.T, e *env) *enroll.Request {
				return request(newCSR(t, ecKey, "device-2"), secret2)
			},
			check: func(t *testing.T, e *env, req *enroll.Request, res *enroll.Result) {
				if res.Record.RenewalOf != "" {
					t.Errorf("RenewalOf = %q for a first enrollment", res.Record.RenewalOf)
				}
			},
		},
		{
			name: "fail/unknown profile",
			req: func(t *testing.T, e *env) *enroll.Request {
				r := request(newCSR(t, ecKey, "device-3"), secret1)
				r.Profile = "printers"
				return r
			},
			wantReason: new(enroll.BadRequest),
			wantDetail: "unknown profile printers",
		},
		{
			name: "fail/no CSR",
			req: func(t *testing.T, e *env) *enroll.Request {
				return &enroll.Request{Protocol: "scep", Profile: "device", Challenge: secret1}
			},
			wantReason: new(enroll.BadRequest),
		},
		{
			name: "fail/wrong challenge",
			req: func(t *testing.T, e *env) *enroll.Request {
				return request(newCSR(t, ecKey, "device-4"), "not-the-secret")
			},
			wantReason: new(enroll.Unauthorized),
			wantDetail: "wrong challenge",
		},
		{
			name: "fail/missing challenge",
			req: func(t *testing.T, e *env) *enroll.Request {
				return request(newCSR(t, ecKey, "device-5"), "")
			},
			wantReason: new(enroll.Unauthorized),
			wantDetail: "missing challenge",
		},
		{
			name: "ok/authorised by the edge, no challenge",
			req: func(t *testing.T, e *env) *enroll.Request {
				r := request(newCSR(t, ecKey, "device-5b"), "")
				r.AuthorizedBy = "tls client certificate CN=registrar"
				return r
			},
		},
		{
			name: "fail/RSA-1024 CSR",
			req: func(t *testing.T, e *env) *enroll.Request {
				return request(newCSR(t, weakKey, "device-6"), secret1)
			},
			wantReason: new(enroll.BadAlg),
			wantDetail: "RSA 1024-bit key",
		},
		{
			name: "fail/broken CSR signature",
			req: func(t *testing.T, e *env) *enroll.Request {
				der := bytes.Clone(newCSR(t, rsaKey, "device-7").Raw)
				// The signature BIT STRING ends the DER; its last byte is
				// inside the RSA signature value.
				der[len(der)-1] ^= 0xff
				csr, err := x509.ParseCertificateRequest(der)
				if err != nil {
					t.Fatalf("re-parse CSR: %v", err)
				}
				return request(csr, secret1)
			},
			wantReason: new(enroll.BadMessageCheck),
			wantDetail: "CSR signature does not verify",
		},
		{
			name: "ok/renewal",
			req: func(t *testing.T, e *env) *enroll.Request {
				old := e.issue(t, "device-8")
				r := request(newCSR(t, rsaKey, "device-8"), "")
				r.RenewalOf = old.Cert
				return r
			},
			check: func(t *testing.T, e *env, req *enroll.Request, res *enroll.Result) {
				old := store.SerialHex(req.RenewalOf.SerialNumber)
				if res.Record.RenewalOf != old {
					t.Errorf("record.RenewalOf = %q, want the old serial %s", res.Record.RenewalOf, old)
				}
				if res.Record.SerialHex == old {
					t.Error("renewal reused the old serial")
				}
				stored := storedRecord(t, e, res.Cert.SerialNumber)
				if stored.RenewalOf != old {
					t.Errorf("stored RenewalOf = %q, want %s", stored.RenewalOf, old)
				}
			},
		},
		{
			name: "fail/renewal by unknown cert",
			req: func(t *testing.T, e *env) *enroll.Request {
				r := request(newCSR(t, ecKey, "device-9"), "")
				r.RenewalOf = selfSigned(t, big.NewInt(0x5eed), "device-9")
				return r
			},
			wantReason: new(enroll.BadCertID),
		},
		{
			// Only the exact bytes certgate issued authorise a renewal, not
			// another certificate that happens to carry the same serial.
			name: "fail/renewal by forged cert with an issued serial",
			req: func(t *testing.T, e *env) *enroll.Request {
				old := e.issue(t, "device-10")
				r := request(newCSR(t, ecKey, "device-10"), "")
				r.RenewalOf = selfSigned(t, old.Cert.SerialNumber, "device-10")
				return r
			},
			wantReason: new(enroll.BadCertID),
		},
		{
			// Go parses a certificate with serial 0; the store can never
			// hold one, so certgate did not issue it.
			name: "fail/renewal by cert with serial 0",
			req: func(t *testing.T, e *env) *enroll.Request {
				r := request(newCSR(t, ecKey, "device-11"), "")
				r.RenewalOf = selfSigned(t, big.NewInt(0), "device-11")
				return r
			},
			wantReason: new(enroll.BadCertID),
		},
		{
			name: "fail/renewal by revoked cert",
			req: func(t *testing.T, e *env) *enroll.Request {
				old := e.issue(t, "device-12")
				if _, err := e.store.Revoke(context.Background(), old.Cert.SerialNumber, store.ReasonKeyCompromise, time.Time{}); err != nil {
					t.Fatalf("Revoke: %v", err)
				}
				r := request(newCSR(t, ecKey, "device-12"), "")
				r.RenewalOf = old.Cert
				return r
			},
			wantReason: new(enroll.Unauthorized),
			wantDetail: "revoked",
		},
		{
			name: "fail/renewal by expired cert",
			req: func(t *testing.T, e *env) *enroll.Request {
				old := e.issue(t, "device-13")
				r := request(newCSR(t, ecKey, "device-13"), "")
				r.RenewalOf = old.Cert
				return r
			},
			// The default profile issues for one year.
			now:        func() time.Time { return time.Now().AddDate(2, 0, 0) },
			wantReason: new(enroll.BadTime),
		},
		{
			name: "fail/validator unavailable",
			req: func(t *testing.T, e *env) *enroll.Request {
				r := request(newCSR(t, ecKey, "device-14"), secret1)
				r.Profile = "mdm"
				return r
			},
			wantReason: new(enroll.Unavailable),
			wantDetail: "challenge could not be validated",
		},
		{
			name: "fail/store Issue fails",
			req: func(t *testing.T, e *env) *enroll.Request {
				return request(newCSR(t, ecKey, "device-15"), secret1)
			},
			wrap:       func(r enroll.Recorder) enroll.Recorder { return failingIssue{r} },
			wantReason: new(enroll.Unavailable),
			wantDetail: "could not record certificate",
		},
		{
			name: "ok/serial collision retried",
			req: func(t *testing.T, e *env) *enroll.Request {
				return request(newCSR(t, ecKey, "device-16"), secret1)
			},
			wrap: func(r enroll.Recorder) enroll.Recorder { return &conflictOnce{Recorder: r} },
			// check finds the wrapper through the service's store below.
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, testCA)
			req := tt.req(t, e)
			var rec enroll.Recorder = e.store
			if tt.wrap != nil {
				rec = tt.wrap(e.store)
			}
			svc := e.service(t, func(o *enroll.Options) { o.Store, o.Now = rec, tt.now })
			validBefore := e.count(t, store.StatusValid)

			res, err := svc.Enroll(context.Background(), req)

			validAfter := e.count(t, store.StatusValid)
			if tt.wantReason != nil {
				var f *enroll.Failure
				if !errors.As(err, &f) {
					t.Fatalf("Enroll error = %v (%T), want *enroll.Failure %s", err, err, *tt.wantReason)
				}
				if f.Reason != *tt.wantReason {
					t.Errorf("Failure.Reason = %s, want %s (%v)", f.Reason, *tt.wantReason, f)
				}
				if !strings.Contains(f.Detail, tt.wantDetail) {
					t.Errorf("Failure.Detail = %q, want it to contain %q", f.Detail, tt.wantDetail)
				}
				if res != nil {
					t.Errorf("Enroll returned a result with a failure: %+v", res)
				}
				if validAfter != validBefore {
					t.Errorf("valid records: %d before, %d after a failed enrollment", validBefore, validAfter)
				}
				return
			}
			if err != nil {
				t.Fatalf("Enroll: %v", err)
			}
			if res == nil || res.Cert == nil || res.Record == nil {
				t.Fatalf("Enroll returned %+v, want a certificate and its record", res)
			}
			if validAfter != validBefore+1 {
				t.Errorf("valid records: %d before, %d after one enrollment", validBefore, validAfter)
			}
			if got := storedRecord(t, e, res.Cert.SerialNumber); got.Status != store.StatusValid || !bytes.Equal(got.DER, res.Cert.Raw) {
				t.Errorf("stored record: status %s, DER equal %v; want valid and the returned certificate", got.Status, bytes.Equal(got.DER, res.Cert.Raw))
			}
			verifyChain(t, res)
			if c, ok := rec.(*conflictOnce); ok {
				checkRetried(t, c, res)
			}
			if tt.check != nil {
				tt.check(t, e, req, res)
			}
		})
	}
}

// checkIssued checks every field the record takes from the request and the
// certificate, in the result and in the store.
func checkIssued(t *testing.T, e *env, req *enroll.Request, res *enroll.Result) {
	t.Helper()
	cert := res.Cert
	for _, r := range []struct {
		where string
		rec   *store.CertRecord
	}{{"result", res.Record}, {"store", storedRecord(t, e, cert.SerialNumber)}} {
		rec := r.rec
		for _, f := range []struct{ field, got, want string }{
			{"SerialHex", rec.SerialHex, cert.SerialNumber.Text(16)},
			{"Issuer", rec.Issuer, "certgate"},
			{"Subject", rec.Subject, cert.Subject.String()},
			{"CommonName", rec.CommonName, "device-1"},
			{"Profile", rec.Profile, "device"},
			{"Protocol", rec.Protocol, "scep"},
			{"TransactionID", rec.TransactionID, "tx-device-1"},
			{"RequesterAddr", rec.RequesterAddr, "192.0.2.10:40000"},
			{"Status", string(rec.Status), string(store.StatusValid)},
			{"RenewalOf", rec.RenewalOf, ""},
		} {
			if f.got != f.want {
				t.Errorf("%s record %s = %q, want %q", r.where, f.field, f.got, f.want)
			}
		}
		if rec.Serial == nil || rec.Serial.Cmp(cert.SerialNumber) != 0 {
			t.Errorf("%s record Serial = %v, want %v", r.where, rec.Serial, cert.SerialNumber)
		}
		if !slices.Equal(rec.DNSNames, []string{"device-1.example.com"}) || !slices.Equal(rec.EmailAddrs, []string{"device-1@example.com"}) {
			t.Errorf("%s record SANs = %v %v, want the CSR's", r.where, rec.DNSNames, rec.EmailAddrs)
		}
		if !bytes.Equal(rec.DER, cert.Raw) {
			t.Errorf("%s record DER differs from the certificate", r.where)
		}
		if rec.IssuedAt.IsZero() || rec.CreatedAt.IsZero() {
			t.Errorf("%s record IssuedAt %v, CreatedAt %v; want both set", r.where, rec.IssuedAt, rec.CreatedAt)
		}
		if !rec.NotBefore.Equal(cert.NotBefore) || !rec.NotAfter.Equal(cert.NotAfter) {
			t.Errorf("%s record validity %v..%v, certificate %v..%v", r.where, rec.NotBefore, rec.NotAfter, cert.NotBefore, cert.NotAfter)
		}
	}
	if cert.Subject.CommonName != "device-1" || !slices.Equal(cert.DNSNames, []string{"device-1.example.com"}) {
		t.Errorf("certificate names %s %v, want the CSR's", cert.Subject, cert.DNSNames)
	}
	if !rsaKey.PublicKey.Equal(cert.PublicKey) {
		t.Error("certificate key is not the CSR's")
	}
	if len(res.Chain) != 2 || !res.Chain[0].Equal(e.ca.Certificate()) {
		t.Errorf("chain has %d certificates, want the issuing CA then the root", len(res.Chain))
	}
}

// checkRetried checks that the collided serial was dropped and the
// certificate carries the one reserved on the retry.
func checkRetried(t *testing.T, c *conflictOnce, res *enroll.Result) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.offered) != 2 {
		t.Fatalf("Reserve called %d times, want 2 (one collision, one retry)", len(c.offered))
	}
	if c.offered[0].Cmp(c.offered[1]) == 0 {
		t.Error("retry reserved the serial that collided")
	}
	if res.Cert.SerialNumber.Cmp(c.offered[1]) != 0 {
		t.Errorf("certificate serial %x, want the retried reservation %x", res.Cert.SerialNumber, c.offered[1])
	}
}

func storedRecord(t *testing.T, e *env, serial *big.Int) *store.CertRecord {
	t.Helper()
	rec, err := e.store.Cert(context.Background(), serial)
	if err != nil {
		t.Fatalf("store.Cert(%x): %v", serial, err)
	}
	return rec
}

// verifyChain checks the certificate as a relying party would: up to the
// root Enroll returned, for client authentication.
func verifyChain(t *testing.T, res *enroll.Result) {
	t.Helper()
	if len(res.Chain) == 0 {
		t.Fatal("empty chain")
	}
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(res.Chain[len(res.Chain)-1])
	for _, c := range res.Chain[:len(res.Chain)-1] {
		inter.AddCert(c)
	}
	if _, err := res.Cert.Verify(x509.VerifyOptions{
		Roots: roots, Intermediates: inter,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}); err != nil {
		t.Errorf("certificate does not verify against its chain: %v", err)
	}
}

// A failed Issue leaves the reservation, which is what store's policy
// wants: the serial was taken and is never reused.
func TestEnrollIssueFailureKeepsReservation(t *testing.T) {
	e := newEnv(t, testCA)
	svc := e.service(t, func(o *enroll.Options) { o.Store = failingIssue{e.store} })
	_, err := svc.Enroll(context.Background(), request(newCSR(t, ecKey, "device-r"), secret1))
	if !errors.Is(err, errDiskFull) {
		t.Fatalf("Enroll error = %v, want it to wrap the store's error", err)
	}
	if n := e.count(t, store.StatusReserved); n != 1 {
		t.Errorf("%d reservations after a failed Issue, want 1", n)
	}
}

// Three collisions in a row mean something is broken; Enroll gives up
// instead of looping.
func TestEnrollGivesUpAfterRepeatedCollisions(t *testing.T) {
	e := newEnv(t, testCA)
	always := &alwaysConflict{Recorder: e.store}
	svc := e.service(t, func(o *enroll.Options) { o.Store = always })
	_, err := svc.Enroll(context.Background(), request(newCSR(t, ecKey, "device-c"), secret1))
	var f *enroll.Failure
	if !errors.As(err, &f) || f.Reason != enroll.Unavailable || !errors.Is(err, store.ErrConflict) {
		t.Fatalf("Enroll error = %v, want an Unavailable failure wrapping store.ErrConflict", err)
	}
	if always.calls != 3 {
		t.Errorf("Reserve called %d times, want 3", always.calls)
	}
}

type alwaysConflict struct {
	enroll.Recorder
	calls int
}

func (a *alwaysConflict) Reserve(context.Context, *store.CertRecord) error {
	a.calls++
	return store.ErrConflict
}

func TestNewService(t *testing.T) {
	e := newEnv(t, testCA)
	profiles := e.profiles(t)
	tests := []struct {
		name    string
		opts    enroll.Options
		wantErr string
	}{
		{"ok", enroll.Options{Profiles: profiles, Store: e.store}, ""},
		{"fail/no profiles", enroll.Options{Store: e.store}, "enroll: no profiles"},
		{"fail/no store", enroll.Options{Profiles: profiles}, "enroll: no store"},
		{"fail/profile without validator", enroll.Options{Store: e.store, Profiles: map[string]*enroll.Profile{
			"bare": {Policy: profiles["device"].Policy, Issuer: e.ca},
		}}, "enroll: profile bare lacks policy, issuer or validator"},
		{"fail/nil profile", enroll.Options{Store: e.store, Profiles: map[string]*enroll.Profile{"nil": nil}},
			"enroll: profile nil lacks policy, issuer or validator"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := enroll.NewService(tt.opts)
			if tt.wantErr == "" {
				if err != nil || s == nil {
					t.Fatalf("NewService = %v, %v", s, err)
				}
				if !s.HasProfile("device") || s.HasProfile("printers") {
					t.Error("HasProfile does not match the configured profiles")
				}
				return
			}
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("NewService error = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
