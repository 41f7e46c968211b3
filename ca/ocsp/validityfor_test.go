package ocsp

import (
	"math/big"
	"net/http"
	"testing"
	"time"

	"github.com/certgate/certgate/store"
	xocsp "golang.org/x/crypto/ocsp"
)

// TestValidityFor: Options.ValidityFor shortens the responses of the
// certificates it names (device-bound ones), is floored at a minute,
// leaves the others at Validity, and the shorter response is refreshed
// half-way through its own validity.
func TestValidityFor(t *testing.T) {
	main, _ := cas(t)
	bounded := func(o *Options, _ *SignerConfig) {
		o.Validity = 24 * time.Hour
		o.ValidityFor = func(rec *store.CertRecord) time.Duration {
			switch rec.DeviceID {
			case "device":
				return 10 * time.Minute
			case "tiny":
				return time.Second
			}
			return 0
		}
	}
	e := newEnv(t, modeCA, bounded)
	add := func(device string) *big.Int {
		serial := big.NewInt(0x5000 + nextSerial.Add(1))
		e.certs.Add(store.CertRecord{Serial: serial, Issuer: "corp", Status: store.StatusValid, DeviceID: device,
			NotBefore: t0.Add(-time.Hour), NotAfter: t0.AddDate(1, 0, 0)})
		return serial
	}
	ask := func(serial *big.Int) *parsed {
		t.Helper()
		w := e.do(postReq(reqSpec{issuer: main.cert, serial: serial}.build(t)))
		if w.Code != http.StatusOK {
			t.Fatalf("HTTP %d", w.Code)
		}
		p := checkSigned(t, w.Body.Bytes(), main, serial)
		if p.Status != xocsp.Good {
			t.Fatalf("status %d, want good", p.Status)
		}
		return p
	}
	for _, tc := range []struct {
		name   string
		device string
		want   time.Duration
	}{
		{"ok/device-bound good is bounded", "device", 10 * time.Minute},
		{"ok/bound floored at a minute", "tiny", time.Minute},
		{"ok/other certificates keep Validity", "", 24 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := ask(add(tc.device))
			if got := p.NextUpdate.Sub(p.ThisUpdate); got != tc.want {
				t.Fatalf("nextUpdate - thisUpdate = %s, want %s", got, tc.want)
			}
		})
	}
	t.Run("ok/re-signed half-way through the bound", func(t *testing.T) {
		serial := add("device")
		first := ask(serial)
		e.clock.Add(4 * time.Minute)
		if again := ask(serial); !again.ThisUpdate.Equal(first.ThisUpdate) {
			t.Fatalf("re-signed after 4 of 10 minutes")
		}
		e.clock.Add(2 * time.Minute)
		if again := ask(serial); !again.ThisUpdate.After(first.ThisUpdate) {
			t.Fatalf("not re-signed after 6 of 10 minutes")
		}
	})
}
