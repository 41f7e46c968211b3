package upstream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Defaults shared by both upstream kinds.
const (
	// DefaultTimeout bounds one Forward, Poll or Chain call.
	DefaultTimeout = 30 * time.Second
	// DefaultChainRefresh is how long a fetched chain (and SCEP
	// capabilities) is used before it is fetched again.
	DefaultChainRefresh = time.Hour
)

const (
	// maxBody caps what is read of any upstream answer: a certificate
	// chain is a few KiB, and a hostile or broken upstream must not make
	// the gateway buffer without bound.
	maxBody = 1 << 20
	// retryAttempts is the number of tries of a call that is safe to
	// repeat (GetCACert, GetCACaps, cacerts). Enrollments are tried once.
	retryAttempts = 3
	// retryBackoff is the wait before the second try; it doubles.
	retryBackoff = 250 * time.Millisecond
)

var (
	errCircuitOpen = errors.New("circuit open after repeated failures")
	errTooLarge    = errors.New("answer larger than 1 MiB")
)

// response is an upstream's HTTP answer, read in full.
type response struct {
	status int
	header http.Header
	body   []byte
}

// client is what EST and SCEP forwarders share: an HTTP client, the
// circuit breaker, metrics and the clock.
type client struct {
	name    string
	timeout time.Duration
	http    *http.Client
	// own is the transport this package made, closed by Close; nil when
	// the caller supplied the HTTP client.
	own     *http.Transport
	breaker *breaker
	metrics *metrics
	now     func() time.Time
	// sleep waits d or until ctx ends; tests replace it.
	sleep func(ctx context.Context, d time.Duration) error
}

func newClient(name string, timeout time.Duration, hc *http.Client, own *http.Transport, threshold int, coolDown time.Duration, m *metrics, now func() time.Time) *client {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if now == nil {
		now = time.Now
	}
	c := &client{name: name, timeout: timeout, http: hc, own: own, metrics: m, now: now, sleep: sleepCtx}
	c.breaker = newBreaker(threshold, coolDown, now, m.circuitOpen)
	return c
}

// close releases idle keep-alive connections and their goroutines.
func (c *client) close() {
	if c.own != nil {
		c.own.CloseIdleConnections()
	}
}

// withTimeout bounds a public call by the upstream's timeout; ctx's own
// deadline wins if it is earlier.
func (c *client) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.timeout)
}

func (c *client) unavailable(op string, err error) *UnavailableError {
	return &UnavailableError{Upstream: c.name, Op: op, Err: err}
}

// do sends one request and hands the answer to handle, whose error (nil,
// *Rejected, *PendingError, *UnavailableError) becomes do's and tells the
// circuit breaker and the metrics how the call went. Transport failures
// and timeouts are *UnavailableError.
func (c *client) do(ctx context.Context, op string, req *http.Request, handle func(*response) error) error {
	if wait, ok := c.breaker.allow(); !ok {
		err := &UnavailableError{Upstream: c.name, Op: op, RetryAfter: wait, Err: errCircuitOpen}
		c.metrics.observe(op, time.Time{}, err)
		return err
	}
	start := time.Now()
	err := c.exchange(ctx, op, req, handle)
	c.breaker.done(classify(err))
	c.metrics.observe(op, start, err)
	return err
}

func (c *client) exchange(ctx context.Context, op string, req *http.Request, handle func(*response) error) error {
	resp, err := c.http.Do(req.WithContext(ctx))
	if err != nil {
		// The client wraps ctx errors in *url.Error; errors.Is still
		// finds context.DeadlineExceeded and context.Canceled.
		u := c.unavailable(op, err)
		u.transient = true
		return u
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		u := c.unavailable(op, fmt.Errorf("read answer: %w", err))
		u.transient = true
		return u
	}
	if len(body) > maxBody {
		return c.unavailable(op, errTooLarge)
	}
	return handle(&response{status: resp.StatusCode, header: resp.Header, body: body})
}

// doIdempotent is do for calls that are safe to repeat: an unavailable
// answer is retried with doubling backoff while ctx allows. newReq makes a
// fresh request per try, since a request body is consumed by sending.
func (c *client) doIdempotent(ctx context.Context, op string, newReq func() (*http.Request, error), handle func(*response) error) error {
	backoff := retryBackoff
	var err error
	for attempt := 1; ; attempt++ {
		var req *http.Request
		if req, err = newReq(); err != nil {
			return c.unavailable(op, err)
		}
		err = c.do(ctx, op, req, handle)
		var u *UnavailableError
		if err == nil || attempt == retryAttempts || !errors.As(err, &u) || !u.transient || ctx.Err() != nil {
			return err
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < backoff {
			return err // no time left for another try
		}
		if c.sleep(ctx, backoff) != nil {
			return err
		}
		backoff *= 2
	}
}

// statusUnavailable is the error for an HTTP status that says the
// upstream cannot answer now; 5xx, 408 and 429 are worth retrying.
func (c *client) statusUnavailable(op string, r *response) *UnavailableError {
	u := c.unavailable(op, statusError(r))
	u.RetryAfter = retryAfter(r.header, c.now())
	u.transient = r.status >= 500 || r.status == http.StatusRequestTimeout || r.status == http.StatusTooManyRequests
	return u
}

// statusError describes an unexpected HTTP status for an error's cause.
func statusError(r *response) error {
	msg := "HTTP " + strconv.Itoa(r.status)
	if len(r.body) > 0 {
		msg += ": " + sanitize(string(r.body))
	}
	return errors.New(msg)
}

// retryAfter parses a Retry-After header in its delay-seconds form (RFC
// 9110 §10.2.3); an HTTP-date is converted against now. Zero if absent or
// unparsable.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseUint(v, 10, 32); err == nil {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now).Round(time.Second)
	}
	return 0
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// boundDials keeps a connection attempt from outliving the call that
// started it by much: net/http finishes a dial after its request was
// cancelled (to pool the connection), so against an upstream that accepts
// and never answers the handshake would otherwise linger for the default
// 10s after every timed-out Forward.
func boundDials(tr *http.Transport, timeout time.Duration) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	tr.TLSHandshakeTimeout = min(timeout, 10*time.Second)
}
