package devicestate

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the device-state series, shared by every profile's Poller
// (they carry a profile label). A nil *Metrics records nothing.
type Metrics struct {
	checks    *prometheus.CounterVec
	actions   *prometheus.CounterVec
	staleness *prometheus.GaugeVec
}

// NewMetrics registers the series with reg; nil reg gives nil Metrics.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	if reg == nil {
		return nil, nil
	}
	m := &Metrics{
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "certgate_device_state_checks_total",
			Help: "Device lookups by profile, source and result (good, hold, revoke: what the MDM's answer meant; error: no usable answer).",
		}, []string{"profile", "source", "result"}),
		actions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "certgate_device_state_actions_total",
			Help: "Certificates changed by device state, by profile and action (revoke, hold, release).",
		}, []string{"profile", "action"}),
		staleness: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "certgate_device_state_staleness_seconds",
			Help: "Age of the oldest device confirmation among a profile's device-bound certificates, as of the last poll.",
		}, []string{"profile"}),
	}
	for _, c := range []prometheus.Collector{m.checks, m.actions, m.staleness} {
		if err := reg.Register(c); err != nil {
			return nil, errors.New("devicestate: metrics: " + err.Error())
		}
	}
	return m, nil
}

func (m *Metrics) check(profile, source, result string) {
	if m != nil {
		m.checks.WithLabelValues(profile, source, result).Inc()
	}
}

func (m *Metrics) action(profile, action string) {
	if m != nil {
		m.actions.WithLabelValues(profile, action).Inc()
	}
}

func (m *Metrics) setStaleness(profile string, seconds float64) {
	if m != nil {
		m.staleness.WithLabelValues(profile).Set(seconds)
	}
}
