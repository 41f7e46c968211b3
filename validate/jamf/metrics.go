package jamf

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Operation label values.
const (
	opLookup  = "device_lookup"
	opWebhook = "webhook"
)

// Result label values: found and not_found answer a lookup; issued,
// unauthorized, bad_request and too_large answer a webhook call; error
// is a call that could not be completed.
const (
	resultFound        = "found"
	resultNotFound     = "not_found"
	resultIssued       = "issued"
	resultUnauthorized = "unauthorized"
	resultBadRequest   = "bad_request"
	resultTooLarge     = "too_large"
	resultOK           = "ok"
	resultError        = "error"
)

// Metrics are the package's Prometheus series, shared by every Webhook
// and DeviceChecker of a process (one per profile would collide in the
// registry). A nil *Metrics records nothing.
type Metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	tokens   *prometheus.CounterVec
}

// NewMetrics registers the series with reg: certgate_jamf_requests_total
// {operation, result}, certgate_jamf_request_duration_seconds
// {operation} and certgate_jamf_token_refreshes_total {result}. A nil reg
// returns nil, which records nothing.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	if reg == nil {
		return nil, nil
	}
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "certgate_jamf_requests_total",
			Help: "Jamf calls by operation (device_lookup, webhook) and result (found, not_found, issued, unauthorized, bad_request, too_large, error).",
		}, []string{"operation", "result"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "certgate_jamf_request_duration_seconds",
			Help:    "Duration of Jamf calls by operation: device lookups (token and paging included) and webhook answers.",
			Buckets: []float64{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"operation"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "certgate_jamf_token_refreshes_total",
			Help: "Jamf Pro API token requests by result (ok, error).",
		}, []string{"result"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.latency, m.tokens} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				return nil, errors.New("jamf: metrics: already registered (create one Metrics per registry and share it)")
			}
			return nil, errors.New("jamf: metrics: " + err.Error())
		}
	}
	return m, nil
}

func (m *Metrics) observe(op, result string, start time.Time) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(op, result).Inc()
	m.latency.WithLabelValues(op).Observe(time.Since(start).Seconds())
}

func (m *Metrics) tokenRefresh(err error) {
	if m == nil {
		return
	}
	result := resultOK
	if err != nil {
		result = resultError
	}
	m.tokens.WithLabelValues(result).Inc()
}
