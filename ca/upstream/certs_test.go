package upstream

import (
	"crypto/x509"
	"net/http"
	"testing"
	"time"
)

func TestOrderChain(t *testing.T) {
	root := newRootCA(t, "root", 1)
	mid := root.subCA(t, "mid", 2)
	issuing := mid.subCA(t, "issuing", 3)
	other := newRootCA(t, "other root", 4)
	ra := raFor(t, issuing, 5)
	for _, tc := range []struct {
		name string
		in   []*x509.Certificate
		want []*x509.Certificate
	}{
		{"ok/already-ordered", []*x509.Certificate{issuing.cert, mid.cert, root.cert}, []*x509.Certificate{issuing.cert, mid.cert, root.cert}},
		{"ok/reversed", []*x509.Certificate{root.cert, mid.cert, issuing.cert}, []*x509.Certificate{issuing.cert, mid.cert, root.cert}},
		{"ok/shuffled-with-ra", []*x509.Certificate{mid.cert, ra.cert, root.cert, issuing.cert}, []*x509.Certificate{issuing.cert, mid.cert, root.cert}},
		{"ok/single", []*x509.Certificate{root.cert}, []*x509.Certificate{root.cert}},
		{"ok/second-root-after-the-path", []*x509.Certificate{other.cert, mid.cert, issuing.cert}, []*x509.Certificate{issuing.cert, mid.cert, other.cert}},
		{"ok/gap-issuing-ca-still-first", []*x509.Certificate{root.cert, issuing.cert}, []*x509.Certificate{issuing.cert, root.cert}},
		{"ok/two-roots-kept-as-given", []*x509.Certificate{other.cert, root.cert}, []*x509.Certificate{other.cert, root.cert}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := orderChain(tc.in)
			if len(got) != len(tc.want) {
				t.Fatalf("%d certificates, want %d", len(got), len(tc.want))
			}
			for i := range got {
				if !got[i].Equal(tc.want[i]) {
					t.Fatalf("position %d: %v, want %v", i, got[i].Subject, tc.want[i].Subject)
				}
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		name, header string
		want         time.Duration
	}{
		{"ok/seconds", "120", 2 * time.Minute},
		{"ok/http-date", now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{"ok/absent", "", 0},
		{"fail/past-date", now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"fail/negative", "-5", 0},
		{"fail/garbage", "soon", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.header != "" {
				h.Set("Retry-After", tc.header)
			}
			if got := retryAfter(h, now); got != tc.want {
				t.Fatalf("retryAfter(%q) = %v, want %v", tc.header, got, tc.want)
			}
		})
	}
}

func TestSanitize(t *testing.T) {
	long := make([]byte, 300)
	for i := range long {
		long[i] = 'x'
	}
	for _, tc := range []struct{ name, in, want string }{
		{"ok/plain", "denied", "denied"},
		{"ok/control-characters", "a\x00b\r\nc\x1b", "a b  c "},
		{"ok/truncated", string(long), string(long[:200]) + "…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := sanitize(tc.in); got != tc.want {
				t.Fatalf("sanitize = %q, want %q", got, tc.want)
			}
		})
	}
}
