package upstream

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Result label values of certgate_upstream_requests_total.
const (
	resultOK          = "ok"
	resultRejected    = "rejected"
	resultPending     = "pending"
	resultUnavailable = "unavailable"
	resultCircuitOpen = "circuit_open"
	resultCanceled    = "canceled"
)

// collectors are shared by every upstream registered on one registry;
// the upstream label tells them apart.
type collectors struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	circuit  *prometheus.GaugeVec
}

// metrics are one upstream's series. A nil *metrics records nothing.
type metrics struct {
	c        *collectors
	upstream string
}

func newMetrics(reg prometheus.Registerer, upstream string) (*metrics, error) {
	if reg == nil {
		return nil, nil
	}
	c := &collectors{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "certgate_upstream_requests_total",
			Help: "Calls to upstream CAs by upstream, operation (enroll, poll, cacerts, getcacaps) and result (ok, rejected, pending, unavailable, circuit_open, canceled).",
		}, []string{"upstream", "operation", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "certgate_upstream_request_duration_seconds",
			Help:    "Duration of HTTP round trips to upstream CAs by upstream and operation; calls refused by an open circuit are not observed.",
			Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
		}, []string{"upstream", "operation"}),
		circuit: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "certgate_upstream_circuit_open",
			Help: "1 while the upstream's circuit breaker is open or half-open, 0 while closed.",
		}, []string{"upstream"}),
	}
	var err error
	if c.requests, err = register(reg, c.requests); err != nil {
		return nil, err
	}
	if c.duration, err = register(reg, c.duration); err != nil {
		return nil, err
	}
	if c.circuit, err = register(reg, c.circuit); err != nil {
		return nil, err
	}
	m := &metrics{c: c, upstream: upstream}
	m.c.circuit.WithLabelValues(upstream).Set(0)
	return m, nil
}

// register registers col, or returns the equal collector a previous
// upstream registered on the same registry.
func register[C prometheus.Collector](reg prometheus.Registerer, col C) (C, error) {
	err := reg.Register(col)
	if err == nil {
		return col, nil
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	var zero C
	return zero, errors.New("upstream: metrics: " + err.Error())
}

// observe records one round trip; start is zero for calls that never left
// (open circuit), which are counted but not timed.
func (m *metrics) observe(op string, start time.Time, err error) {
	if m == nil {
		return
	}
	m.c.requests.WithLabelValues(m.upstream, op, resultOf(err)).Inc()
	if !start.IsZero() {
		m.c.duration.WithLabelValues(m.upstream, op).Observe(time.Since(start).Seconds())
	}
}

func (m *metrics) circuitOpen(open bool) {
	if m == nil {
		return
	}
	v := 0.0
	if open {
		v = 1
	}
	m.c.circuit.WithLabelValues(m.upstream).Set(v)
}

func resultOf(err error) string {
	var rej *Rejected
	switch {
	case err == nil:
		return resultOK
	case errors.As(err, &rej):
		return resultRejected
	case errors.Is(err, ErrPending):
		return resultPending
	case errors.Is(err, errCircuitOpen):
		return resultCircuitOpen
	case classify(err) == neutral:
		return resultCanceled
	}
	return resultUnavailable
}
