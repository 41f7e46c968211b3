package jamf

import "github.com/prometheus/client_golang/prometheus"

// TokenWaiters returns how many callers wait on a token fetch, so a test
// can release a held fetch once they have all piled up.
func (c *DeviceChecker) TokenWaiters() int {
	s := c.api.tokens
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.waiters
}

// MaxConnsPerHost is the transport's connection cap.
func (c *DeviceChecker) MaxConnsPerHost() int { return c.transport.MaxConnsPerHost }

// RequestsFor is the requests counter of one operation and result.
func (m *Metrics) RequestsFor(op, result string) prometheus.Collector {
	return m.requests.WithLabelValues(op, result)
}

// TokenRefreshesFor is the token refresh counter of one result.
func (m *Metrics) TokenRefreshesFor(result string) prometheus.Collector {
	return m.tokens.WithLabelValues(result)
}
