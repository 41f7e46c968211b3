package upstream

import (
	"context"
	"crypto/x509"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestMetrics: two upstreams share a registry; each call is counted by
// operation and result, timed unless the circuit refused it, and the
// circuit gauge follows the breaker.
func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	okFake, badFake := newESTFake(t), newESTFake(t)
	ca := newRootCA(t, "CA", 1)
	okFake.enroll = func(w http.ResponseWriter, r *http.Request) {
		csr, _, _ := readCSR(r)
		_, _ = w.Write(certsOnly(t, true, ca.issue(t, "d", csr.PublicKey, x509.KeyUsageDigitalSignature)))
	}
	badFake.enroll = func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) }
	good := mustEST(t, ESTConfig{Name: "good", BaseURL: okFake.srv.URL + "/.well-known/est", Roots: okFake.roots(), Registerer: reg})
	bad := mustEST(t, ESTConfig{Name: "bad", BaseURL: badFake.srv.URL + "/.well-known/est", Roots: badFake.roots(), Registerer: reg, FailureThreshold: 2, CoolDown: time.Minute})
	csr, raw := deviceCSR(t, "d", "")
	if _, err := good.Forward(context.Background(), csr, raw, ""); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		_, _ = bad.Forward(context.Background(), csr, raw, "")
	}
	c := good.c.metrics.c
	for _, tc := range []struct {
		name string
		got  float64
		want float64
	}{
		{"good/enroll/ok", testutil.ToFloat64(c.requests.WithLabelValues("good", OpEnroll, resultOK)), 1},
		{"bad/enroll/unavailable", testutil.ToFloat64(c.requests.WithLabelValues("bad", OpEnroll, resultUnavailable)), 2},
		{"bad/enroll/circuit_open", testutil.ToFloat64(c.requests.WithLabelValues("bad", OpEnroll, resultCircuitOpen)), 1},
		{"good/circuit", testutil.ToFloat64(c.circuit.WithLabelValues("good")), 0},
		{"bad/circuit", testutil.ToFloat64(c.circuit.WithLabelValues("bad")), 1},
		{"duration series", float64(testutil.CollectAndCount(c.duration)), 2},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	// Two timed calls to bad (the third was refused untimed) and one to good.
	if n := histogramCount(t, reg, "bad"); n != 2 {
		t.Errorf("bad: %d timed calls, want 2", n)
	}
}

func histogramCount(t *testing.T, reg *prometheus.Registry, upstream string) uint64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "certgate_upstream_request_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "upstream" && l.GetValue() == upstream {
					return m.GetHistogram().GetSampleCount()
				}
			}
		}
	}
	return 0
}
