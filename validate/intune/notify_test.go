package intune_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/certgate/certgate/integration/fakes/fakehttp"
	fakeintune "github.com/certgate/certgate/integration/fakes/intune"
	"github.com/certgate/certgate/validate"
	"github.com/certgate/certgate/validate/intune"
)

// issued returns a certificate as the CA would issue it.
func issued(t *testing.T, serial int64, notAfter time.Time) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial),
		Subject:   pkix.Name{CommonName: "Contoso Issuing CA", Organization: []string{"Contoso"}},
		NotBefore: notAfter.Add(-24 * time.Hour), NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func TestNotifySuccess(t *testing.T) {
	e := newEnv(t, nil)
	e.cloud.Intune.AllowChallenge("chal", fakeintune.Challenge{})
	ctx := context.Background()
	req := request(t, "chal", "tx-42")
	if _, err := e.v.Validate(ctx, req); err != nil {
		t.Fatal(err)
	}
	notAfter := time.Date(2027, 6, 11, 16, 11, 20, 0, time.UTC)
	cert := issued(t, 0x0a1b2c, notAfter)
	if err := e.v.NotifySuccess(ctx, req, cert); err != nil {
		t.Fatalf("NotifySuccess: %v", err)
	}
	ev := e.cloud.Intune.Events()
	if len(ev) != 2 || ev[1].Route != fakeintune.RouteSuccess {
		t.Fatalf("events = %+v, want validate then success", ev)
	}
	n := ev[1]
	if n.Validated != fakeintune.CodeSuccess {
		t.Errorf("success notification followed validation %q", n.Validated)
	}
	sum := sha1.Sum(cert.Raw)
	want := fakeintune.SuccessBody{
		TransactionID:                "tx-42",
		CertificateRequest:           n.Success.CertificateRequest,
		CertificateThumbprint:        strings.ToUpper(hex.EncodeToString(sum[:])),
		CertificateSerialNumber:      "0A1B2C",
		CertificateExpirationDateUtc: "2027-06-11T16:11:20.000Z",
		IssuingCertificateAuthority:  "CN=Contoso Issuing CA,O=Contoso",
		CallerInfo:                   "certgate-test/1.0",
	}
	if *n.Success != want {
		t.Errorf("notification =\n%+v\nwant\n%+v", *n.Success, want)
	}
	if string(n.CSR) != string(req.RawCSR) {
		t.Errorf("notification carries a different CSR")
	}
	if v := n.Header.Get("api-version"); v != "2018-02-20" {
		t.Errorf("api-version = %q", v)
	}
}

func TestNotifyFailure(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	req := request(t, "chal", "tx-7")
	long := strings.Repeat("é", 200) // 400 bytes
	tests := []struct {
		name     string
		hResult  int64
		desc     string
		wantDesc string
	}{
		{"ok/E_UNEXPECTED", intune.EUnexpected, "CA refused the profile", "CA refused the profile"},
		{"ok/cut to 255 bytes on a rune boundary", 0x80070005, long, strings.Repeat("é", 127)},
		{"ok/empty description replaced", 1, "  ", "certificate issuance failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.cloud.Intune.ResetRequests()
			if err := e.v.NotifyFailure(ctx, req, tt.hResult, tt.desc); err != nil {
				t.Fatalf("NotifyFailure: %v", err)
			}
			rs := e.cloud.Intune.RequestsFor(fakeintune.RouteFailure)
			if len(rs) != 1 {
				t.Fatalf("failureNotification calls = %d", len(rs))
			}
			n := rs[0].JSON.(map[string]any)["notification"].(map[string]any)
			// hResult must travel as a JSON number.
			if h, ok := n["hResult"].(float64); !ok || int64(h) != tt.hResult {
				t.Errorf("hResult = %#v, want the number %d", n["hResult"], tt.hResult)
			}
			if n["errorDescription"] != tt.wantDesc {
				t.Errorf("errorDescription = %q, want %q", n["errorDescription"], tt.wantDesc)
			}
			if n["transactionId"] != "tx-7" {
				t.Errorf("transactionId = %v", n["transactionId"])
			}
			if want := fmt.Sprintf(`"hResult":%d`, tt.hResult); !strings.Contains(string(rs[0].Body), want) {
				t.Errorf("body %s does not hold %s", rs[0].Body, want)
			}
		})
	}
}

// Notify dispatches on the issuance error.
func TestNotify(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	req := request(t, "chal", "tx")
	if err := e.v.Notify(ctx, req, issued(t, 5, time.Now().Add(time.Hour)), nil); err != nil {
		t.Fatal(err)
	}
	if err := e.v.Notify(ctx, req, nil, errors.New("hsm: pin /etc/secret wrong")); err != nil {
		t.Fatal(err)
	}
	ev := e.cloud.Intune.Events()
	if len(ev) != 2 || ev[0].Route != fakeintune.RouteSuccess || ev[1].Route != fakeintune.RouteFailure {
		t.Fatalf("events = %+v, want success then failure", ev)
	}
	if ev[1].Failure.HResult != intune.EUnexpected || strings.Contains(ev[1].Failure.ErrorDescription, "/etc/secret") {
		t.Errorf("failure notification = %+v", ev[1].Failure)
	}
}

// A notification that does not get Success back is an error: the
// certificate must not be handed out.
func TestNotifyErrors(t *testing.T) {
	cert := issued(t, 9, time.Now().Add(time.Hour))
	tests := []struct {
		name  string
		setup func(e *env)
		req   func(t *testing.T) *validate.Request
		cert  *x509.Certificate
		want  string
		calls int
	}{
		{"fail/500", func(e *env) {
			e.cloud.Intune.SetFault(fakeintune.RouteSuccess, fakehttp.Fault{Status: 500, Body: "{}"})
		}, nil, cert, "intune: successNotification: HTTP 500 with a body that is not a result", 1},
		{"fail/slow", func(e *env) {
			e.cloud.Intune.SetFault(fakeintune.RouteSuccess, fakehttp.Fault{Hang: true})
		}, nil, cert, "context deadline exceeded", 1},
		{"fail/reset", func(e *env) {
			e.cloud.Intune.SetFault(fakeintune.RouteSuccess, fakehttp.Fault{Reset: true})
		}, nil, cert, "intune: successNotification: Post", 1},
		{"fail/code not Success", func(e *env) {
			e.cloud.Intune.SetNotificationCode(fakeintune.RouteSuccess, "Unknown", "")
		}, nil, cert, "intune: successNotification: HTTP 200, code Unknown", 1},
		{"fail/HTML", func(e *env) {
			e.cloud.Intune.SetFault(fakeintune.RouteSuccess, fakehttp.HTML(200))
		}, nil, cert, "not a result", 1},
		{"fail/no certificate", func(*env) {}, nil, nil, "intune: successNotification: no certificate", 0},
		{"fail/no transaction", func(*env) {}, func(t *testing.T) *validate.Request {
			return request(t, "chal", "")
		}, cert, "intune: successNotification: request has no SCEP transaction ID", 0},
		{"fail/no CSR", func(*env) {}, func(*testing.T) *validate.Request {
			return &validate.Request{TransactionID: "tx"}
		}, cert, "intune: successNotification: request has no CSR", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *intune.Config) { c.Timeout = timeoutFor(tt.name) })
			tt.setup(e)
			req := request(t, "chal", "tx")
			if tt.req != nil {
				req = tt.req(t)
			}
			err := e.v.NotifySuccess(context.Background(), req, tt.cert)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "intune: ") {
				t.Fatalf("NotifySuccess = %v, want an error containing %q", err, tt.want)
			}
			if n := e.cloud.Intune.Count(fakeintune.RouteSuccess); n != tt.calls {
				t.Errorf("successNotification calls = %d, want %d", n, tt.calls)
			}
			e.assertNoSecret(t, err)
		})
	}
}

func TestNotifyFailureBadHResult(t *testing.T) {
	e := newEnv(t, nil)
	for _, h := range []int64{1 << 32, -1<<31 - 1} {
		err := e.v.NotifyFailure(context.Background(), request(t, "c", "tx"), h, "x")
		if err == nil || !strings.Contains(err.Error(), "is not a 32-bit HRESULT") {
			t.Errorf("NotifyFailure(hResult %d) = %v", h, err)
		}
	}
}
