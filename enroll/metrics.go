package enroll

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the enrollment counters and latencies. A nil *Metrics records
// nothing, which keeps tests that do not care free of registries.
type Metrics struct {
	enrollments *prometheus.CounterVec
	duration    *prometheus.HistogramVec
}

// NewMetrics creates the enrollment metrics and registers them on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		enrollments: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "certgate_enrollments_total",
			Help: "Enrollment requests by protocol, profile and result (issued, renewed, rejected, invalid, error).",
		}, []string{"protocol", "profile", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "certgate_enrollment_duration_seconds",
			Help:    "Time to decide and record an enrollment, by protocol and result.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"protocol", "result"}),
	}
	reg.MustRegister(m.enrollments, m.duration)
	return m
}

func (m *Metrics) observe(protocol, profile, result string, seconds float64) {
	if m == nil {
		return
	}
	m.enrollments.WithLabelValues(protocol, profile, result).Inc()
	m.duration.WithLabelValues(protocol, result).Observe(seconds)
}
