package validate

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certgate/certgate/store"
)

// memChallenges is an in-memory ChallengeConsumer with the store's
// semantics: consume removes, expired counts as absent.
type memChallenges struct {
	mu sync.Mutex
	m  map[string]*store.Challenge
}

func (m *memChallenges) put(secret string, c store.Challenge) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = map[string]*store.Challenge{}
	}
	c.Hash = ChallengeHash(secret)
	m.m[c.Profile+"/"+c.Hash] = &c
}

func (m *memChallenges) ConsumeChallenge(_ context.Context, profile, hash string, now time.Time) (*store.Challenge, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.m[profile+"/"+hash]
	delete(m.m, profile+"/"+hash)
	if !ok || !now.Before(c.ExpiresAt) {
		return nil, store.ErrNotFound
	}
	return c, nil
}

type failingChallenges struct{}

func (failingChallenges) ConsumeChallenge(context.Context, string, string, time.Time) (*store.Challenge, error) {
	return nil, errors.New("store: bolt: disk on fire")
}

func req(profile, challenge, cn string, uris ...string) *Request {
	csr := &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn}}
	for _, u := range uris {
		pu, _ := url.Parse(u)
		csr.URIs = append(csr.URIs, pu)
	}
	return &Request{Profile: profile, Challenge: challenge, CSR: csr}
}

func TestOneTime(t *testing.T) {
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	mem := &memChallenges{}
	later := now.Add(time.Hour)
	mem.put("good", store.Challenge{Profile: "p", ExpiresAt: later})
	mem.put("old", store.Challenge{Profile: "p", ExpiresAt: now})
	mem.put("for-cn", store.Challenge{Profile: "p", ExpiresAt: later, Subject: "laptop-7"})
	mem.put("for-cn-2", store.Challenge{Profile: "p", ExpiresAt: later, Subject: "laptop-7"})
	mem.put("for-dev", store.Challenge{Profile: "p", ExpiresAt: later, DeviceID: "dev-42"})
	mem.put("other-profile", store.Challenge{Profile: "q", ExpiresAt: later})
	v, err := NewOneTime(mem, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		r          *Request
		wantReject string
		wantDevice string
	}{
		{name: "ok/first use", r: req("p", "good", "x")},
		{name: "fail/second use", r: req("p", "good", "x"), wantReject: "unknown, used or expired"},
		{name: "fail/expired", r: req("p", "old", "x"), wantReject: "unknown, used or expired"},
		{name: "fail/other profile", r: req("p", "other-profile", "x"), wantReject: "unknown, used or expired"},
		{name: "fail/missing", r: req("p", "", "x"), wantReject: "missing challenge"},
		{name: "fail/bound to another subject", r: req("p", "for-cn", "laptop-8"), wantReject: "another subject"},
		{name: "ok/bound subject", r: req("p", "for-cn-2", "laptop-7")},
		{name: "ok/bound device in URI SAN", r: req("p", "for-dev", "x", "IntuneDeviceId://dev-42"), wantDevice: "dev-42"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dec, err := v.Validate(context.Background(), tc.r)
			if tc.wantReject != "" {
				var rej *Rejection
				if !errors.As(err, &rej) || !strings.Contains(rej.Reason, tc.wantReject) {
					t.Fatalf("err = %v, want a rejection containing %q", err, tc.wantReject)
				}
				return
			}
			if err != nil || dec.DeviceID != tc.wantDevice {
				t.Fatalf("Validate = %+v, %v; want device %q", dec, err, tc.wantDevice)
			}
		})
	}
	t.Run("fail/store error is not a rejection", func(t *testing.T) {
		v, _ := NewOneTime(failingChallenges{}, nil)
		_, err := v.Validate(context.Background(), req("p", "good", "x"))
		var rej *Rejection
		if err == nil || errors.As(err, &rej) {
			t.Fatalf("err = %v, want a plain error (fail closed, not a rejection)", err)
		}
	})
}

func TestAnyOf(t *testing.T) {
	static, _ := NewStatic([]string{"static-secret"})
	mem := &memChallenges{}
	mem.put("dyn", store.Challenge{Profile: "p", ExpiresAt: time.Now().Add(time.Hour)})
	onetime, _ := NewOneTime(mem, nil)
	broken, _ := NewOneTime(failingChallenges{}, nil)
	tests := []struct {
		name    string
		v       AnyOf
		secret  string
		wantErr string // "" ok, "reject:..." rejection, "error" other
	}{
		{name: "ok/static", v: AnyOf{static, onetime}, secret: "static-secret"},
		{name: "ok/one-time", v: AnyOf{static, onetime}, secret: "dyn"},
		{name: "fail/one-time again", v: AnyOf{static, onetime}, secret: "dyn", wantErr: "reject:unknown, used or expired"},
		{name: "fail/undecided validator is not skipped", v: AnyOf{static, broken}, secret: "nope", wantErr: "error"},
		{name: "ok/static before a broken one", v: AnyOf{static, broken}, secret: "static-secret"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.v.Validate(context.Background(), req("p", tc.secret, "x"))
			var rej *Rejection
			switch {
			case tc.wantErr == "":
				if err != nil {
					t.Fatal(err)
				}
			case tc.wantErr == "error":
				if err == nil || errors.As(err, &rej) {
					t.Fatalf("err = %v, want a non-rejection error", err)
				}
			default:
				if !errors.As(err, &rej) || !strings.Contains(rej.Reason, strings.TrimPrefix(tc.wantErr, "reject:")) {
					t.Fatalf("err = %v, want %s", err, tc.wantErr)
				}
			}
		})
	}
}
