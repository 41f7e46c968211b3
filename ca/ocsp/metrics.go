package ocsp

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the responder's counters. A nil *Metrics records nothing.
type Metrics struct {
	responses *prometheus.CounterVec
	signs     *prometheus.CounterVec
}

// Label values of certgate_ocsp_responses_total.
const (
	// status: good, revoked and unknown are signed answers; the others
	// are unsigned OCSPResponseStatus values (RFC 6960 §4.2.1), trylater
	// when every signing slot stayed busy.
	labelMalformed    = "malformed"
	labelUnauthorized = "unauthorized"
	labelInternal     = "internal"
	labelTryLater     = "trylater"

	// cache: hit served a pre-signed response (memory or store.Cache);
	// miss signed one; nonce signed one that is never cached; stale
	// served a response past RefreshAt because re-signing failed; none
	// never reached the cache (errors).
	cacheHit   = "hit"
	cacheMiss  = "miss"
	cacheNonce = "nonce"
	cacheStale = "stale"
	cacheNone  = "none"
)

// NewMetrics creates the OCSP metrics and registers them on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		responses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "certgate_ocsp_responses_total",
			Help: "OCSP responses by status (good, revoked, unknown, malformed, unauthorized, internal, trylater) and cache (hit, miss, nonce, stale, none).",
		}, []string{"status", "cache"}),
		signs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "certgate_ocsp_sign_total",
			Help: "OCSP response signatures by result (ok, error); cache hits sign nothing.",
		}, []string{"result"}),
	}
	reg.MustRegister(m.responses, m.signs)
	return m
}

func (m *Metrics) response(status, cache string) {
	if m == nil {
		return
	}
	m.responses.WithLabelValues(status, cache).Inc()
}

func (m *Metrics) signed(err error) {
	if m == nil {
		return
	}
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.signs.WithLabelValues(result).Inc()
}
