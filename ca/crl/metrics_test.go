package crl

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/certgate/certgate/store"
)

// TestMetrics builds twice, fails once, and checks what each metric says.
func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	src := &memSource{}
	h := newHarness(t, func(o *Options) { o.Metrics = NewMetrics(reg); o.Source = src })
	for serial := range int64(2) {
		src.recs = append(src.recs, &store.CertRecord{
			Serial: big.NewInt(0xc0 + serial), Issuer: testCAName, Status: store.StatusRevoked,
			NotAfter: h.clk.now().Add(time.Hour), RevokedAt: h.clk.now(),
		})
	}
	for range 2 {
		if _, err := h.s.b.Build(context.Background()); err != nil {
			t.Fatalf("Build: %v", err)
		}
	}
	src.fail(errSource)
	if _, err := h.s.b.Build(context.Background()); !errors.Is(err, errSource) {
		t.Fatalf("Build error = %v, want the source's", err)
	}
	const want = `
# HELP certgate_crl_builds_total CRL builds by CA and result (ok, error).
# TYPE certgate_crl_builds_total counter
certgate_crl_builds_total{ca="test-ca",result="error"} 1
certgate_crl_builds_total{ca="test-ca",result="ok"} 2
# HELP certgate_crl_entries Revoked certificates listed on the CA's latest CRL.
# TYPE certgate_crl_entries gauge
certgate_crl_entries{ca="test-ca"} 2
# HELP certgate_crl_number CRL number (RFC 5280 section 5.2.3) of the CA's latest CRL.
# TYPE certgate_crl_number gauge
certgate_crl_number{ca="test-ca"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("metric lint: %s: %s", p.Metric, p.Text)
	}
}
