package workspaceone

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// resultError labels a lookup that got no answer it could read; the
// other result labels are the Status strings.
const resultError = "error"

// metrics are a Checker's Prometheus series. A nil *metrics records
// nothing.
type metrics struct {
	requests *prometheus.CounterVec
	latency  prometheus.Histogram
}

// newMetrics registers certgate_workspaceone_requests_total{result} and
// certgate_workspaceone_request_duration_seconds with reg. Series that
// another Checker registered already are shared, so several profiles
// (or tenants) can each have a Checker on one registry. A nil reg
// returns nil.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	if reg == nil {
		return nil, nil
	}
	requests, err := register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "certgate_workspaceone_requests_total",
		Help: "Workspace ONE device lookups by result (compliant, not_assessed, non_compliant, not_enrolled, not_found, error).",
	}, []string{"result"}))
	if err != nil {
		return nil, err
	}
	latency, err := register(reg, prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "certgate_workspaceone_request_duration_seconds",
		Help:    "Duration of Workspace ONE device lookups, waiting for a concurrency slot included.",
		Buckets: []float64{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60},
	}))
	if err != nil {
		return nil, err
	}
	return &metrics{requests: requests, latency: latency}, nil
}

// register registers c, or returns the collector of the same kind
// registered before it.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	var zero C
	return zero, errors.New("workspaceone: metrics: " + err.Error())
}

func (m *metrics) observe(st State, err error, start time.Time) {
	if m == nil {
		return
	}
	result := st.Status.String()
	if err != nil {
		result = resultError
	}
	m.requests.WithLabelValues(result).Inc()
	m.latency.Observe(time.Since(start).Seconds())
}
