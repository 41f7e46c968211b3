package intune

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Operation label values of certgate_intune_requests_total and
// certgate_intune_request_duration_seconds.
const (
	opValidate  = "validate"
	opSuccess   = "success_notification"
	opFailure   = "failure_notification"
	opDownload  = "download_revocations"
	opUpload    = "upload_revocations"
	opDiscovery = "discovery"
)

// Result label values: allowed and rejected are validateRequest's
// answers; ok is any other call that did what it should; error is a
// call that could not decide or failed.
const (
	resultAllowed  = "allowed"
	resultRejected = "rejected"
	resultOK       = "ok"
	resultError    = "error"
)

// metrics are the validator's Prometheus series. A nil *metrics records
// nothing.
type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	tokens   *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	if reg == nil {
		return nil, nil
	}
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "certgate_intune_requests_total",
			Help: "Intune and Graph calls by operation (validate, success_notification, failure_notification, download_revocations, upload_revocations, discovery, managed_device, entra_device) and result (allowed, rejected, ok, error).",
		}, []string{"operation", "result"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "certgate_intune_request_duration_seconds",
			Help:    "Duration of Intune and Graph calls by operation, token and discovery time included.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"operation"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "certgate_intune_token_refreshes_total",
			Help: "Entra token requests by audience (graph, intune) and result (ok, error).",
		}, []string{"audience", "result"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.latency, m.tokens} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				return nil, errors.New("intune: metrics: already registered (one Validator per registry)")
			}
			return nil, errors.New("intune: metrics: " + err.Error())
		}
	}
	return m, nil
}

func (m *metrics) observe(op, result string, start time.Time) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(op, result).Inc()
	m.latency.WithLabelValues(op).Observe(time.Since(start).Seconds())
}

func (m *metrics) tokenRefresh(audience string, err error) {
	if m == nil {
		return
	}
	result := resultOK
	if err != nil {
		result = resultError
	}
	m.tokens.WithLabelValues(audience, result).Inc()
}
