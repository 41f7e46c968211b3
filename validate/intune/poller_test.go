package intune_test

import (
	"context"
	"errors"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	fakeintune "github.com/certgate/certgate/integration/fakes/intune"
	"github.com/certgate/certgate/store"
	"github.com/certgate/certgate/validate/intune"
)

// memRevoker knows some serials and how each revocation should end.
type memRevoker struct {
	mu      sync.Mutex
	known   map[string]error // serial hex → error to return (nil: revoke)
	revoked []string
}

func (m *memRevoker) Revoke(_ context.Context, serial *big.Int, reason int, _ time.Time) (*store.CertRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	err, ok := m.known[serial.Text(16)]
	if !ok {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if reason != store.ReasonCessationOfOperation {
		return nil, errors.New("wrong reason")
	}
	m.revoked = append(m.revoked, serial.Text(16))
	return &store.CertRecord{SerialHex: serial.Text(16)}, nil
}

func TestPoller(t *testing.T) {
	e := newEnv(t, nil)
	rv := &memRevoker{known: map[string]error{
		"c0ffee":  nil,                             // as certgate's notification sent it
		"3039":    nil,                             // 12345 in decimal
		"deadbee": errors.New("store: bolt: full"), // a transient failure
	}}
	e.cloud.Intune.QueueRevocations(
		fakeintune.RevocationRequest{RequestContext: "hex", SerialNumber: "C0FFEE"},
		fakeintune.RevocationRequest{RequestContext: "decimal", SerialNumber: "12345"},
		fakeintune.RevocationRequest{RequestContext: "unknown", SerialNumber: "ABCDEF"},
		fakeintune.RevocationRequest{RequestContext: "broken", SerialNumber: "0DEADBEE"},
	)
	p := &intune.Poller{Validator: e.v, Revoker: rv, Log: zerolog.Nop()}
	n, err := p.Once(context.Background())
	if err != nil || n != 4 {
		t.Fatalf("Once = %d, %v; want 4 answered", n, err)
	}
	want := map[string]struct {
		ok   bool
		code string
	}{
		"hex":     {true, "None"},
		"decimal": {true, "None"},
		"unknown": {false, "CertificateNotFoundError"},
		"broken":  {false, "ServiceUnavailableException"},
	}
	results := e.cloud.Intune.RevocationResults()
	if len(results) != len(want) {
		t.Fatalf("%d results uploaded, want %d", len(results), len(want))
	}
	for _, r := range results {
		w, ok := want[r.RequestContext]
		if !ok || r.Succeeded != w.ok || r.ErrorCode != w.code {
			t.Errorf("result %s: succeeded %v code %s, want %v %s", r.RequestContext, r.Succeeded, r.ErrorCode, w.ok, w.code)
		}
	}
	if len(rv.revoked) != 2 {
		t.Errorf("revoked %v, want c0ffee and 3039", rv.revoked)
	}
}
