package jamf

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/certgate/certgate/validate"
)

// DeviceChecker looks devices up in Jamf Pro's inventory. It is safe for
// concurrent use; create one per Jamf server and share it, so that the
// concurrency cap and the token cache are shared too.
type DeviceChecker struct {
	cfg     CheckerConfig
	api     *apiClient
	metrics *Metrics
	// transport is kept for tests of the connection cap.
	transport *http.Transport
}

var _ DeviceLookup = (*DeviceChecker)(nil)

// NewDeviceChecker checks cfg and returns a DeviceChecker. It makes no
// network call: a Jamf server that is unreachable at start-up is
// reported by the first lookup, not by a process that will not start.
func NewDeviceChecker(cfg CheckerConfig) (*DeviceChecker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: cfg.RootCAs}
	// The semaphore already caps requests; capping connections as well
	// keeps to Jamf's guidance even if a request were to leak a slot.
	tr.MaxConnsPerHost = cfg.MaxConcurrency
	tr.MaxIdleConnsPerHost = cfg.MaxConcurrency
	api := &apiClient{
		base: strings.TrimRight(cfg.URL, "/"),
		// No http.Client.Timeout: every call carries a context deadline.
		client: &http.Client{Transport: tr, CheckRedirect: noRedirect},
		sem:    make(chan struct{}, cfg.MaxConcurrency),
	}
	api.tokens = &tokenSource{cfg: cfg, api: api, metrics: cfg.Metrics}
	return &DeviceChecker{cfg: cfg, api: api, metrics: cfg.Metrics, transport: tr}, nil
}

// ErrNotFound is what Find returns when Jamf lists no matching record.
var ErrNotFound = errors.New("jamf: no such device in Jamf Pro")

// CheckDevice implements DeviceLookup: it finds d's computer or mobile
// device by JSS ID. An object Jamf does not list (deleted, or never
// there) is a *validate.Rejection; a failure to get an answer is a plain
// error.
func (c *DeviceChecker) CheckDevice(ctx context.Context, d DeviceRef) error {
	if !isJSSID(d.JSSID) {
		return &validate.Rejection{Reason: "jamf: not a valid JSS ID"}
	}
	q := Query{Inventory: d.Kind.Inventory(), Field: "id", Value: d.JSSID}
	if q.Inventory == MobileDevices {
		q.Field = "mobileDeviceId"
	}
	_, err := c.Find(ctx, q)
	if errors.Is(err, ErrNotFound) {
		return &validate.Rejection{Reason: "jamf: " + string(d.Kind) + " object not found in Jamf Pro"}
	}
	return err
}

// Find returns the first record of q.Inventory whose q.Field equals
// q.Value (ignoring case, as Jamf's filters do), ErrNotFound when there
// is none, and another error when Jamf could not be asked. The call is
// bounded by the configured timeout.
func (c *DeviceChecker) Find(ctx context.Context, q Query) (dev *Device, err error) {
	start := time.Now()
	defer func() {
		result := resultFound
		switch {
		case errors.Is(err, ErrNotFound):
			result = resultNotFound
		case err != nil:
			result = resultError
		}
		c.metrics.observe(opLookup, result, start)
	}()
	filter, err := q.filter()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	return c.search(ctx, q, filter)
}
