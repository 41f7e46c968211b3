package crl

import (
	"math/big"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the CRL build counters and gauges. A nil *Metrics records
// nothing.
type Metrics struct {
	builds  *prometheus.CounterVec
	entries *prometheus.GaugeVec
	number  *prometheus.GaugeVec
}

// NewMetrics creates the CRL metrics and registers them on reg; like
// prometheus.MustRegister it panics if they already are, which only a
// wiring mistake can cause.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		builds: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "certgate_crl_builds_total",
			Help: "CRL builds by CA and result (ok, error).",
		}, []string{"ca", "result"}),
		entries: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "certgate_crl_entries",
			Help: "Revoked certificates listed on the CA's latest CRL.",
		}, []string{"ca"}),
		number: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "certgate_crl_number",
			Help: "CRL number (RFC 5280 section 5.2.3) of the CA's latest CRL.",
		}, []string{"ca"}),
	}
	reg.MustRegister(m.builds, m.entries, m.number)
	return m
}

func (m *Metrics) built(ca string, entries int, number uint64) {
	if m == nil {
		return
	}
	m.builds.WithLabelValues(ca, "ok").Inc()
	m.entries.WithLabelValues(ca).Set(float64(entries))
	m.number.WithLabelValues(ca).Set(float64(number))
}

// took records a CRL another replica built, which this one now serves.
func (m *Metrics) took(ca string, entries int, number *big.Int) {
	if m == nil {
		return
	}
	n, _ := new(big.Float).SetInt(number).Float64()
	m.entries.WithLabelValues(ca).Set(float64(entries))
	m.number.WithLabelValues(ca).Set(n)
}

func (m *Metrics) failed(ca string) {
	if m == nil {
		return
	}
	m.builds.WithLabelValues(ca, "error").Inc()
}
