package ocsp

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/certgate/certgate/store"
	"github.com/rs/zerolog"
)

// Defaults for the zero values of Options.
const (
	DefaultValidity        = 24 * time.Hour
	DefaultMemEntries      = 100_000
	DefaultMaxBody         = 10_000
	DefaultRefreshInterval = time.Minute
	DefaultRefreshBatch    = 1000
)

// minValidity keeps RefreshAt (half the validity) from falling within a
// second of thisUpdate, which is truncated to the second.
const minValidity = time.Minute

// Options configures New. Zero values take the documented defaults.
type Options struct {
	// CAs are the CAs answered for, one Signer each. A request naming
	// any other issuer gets "unauthorized" (RFC 6960 §2.3). Required.
	CAs []*Signer
	// Source gives certificate status; store.Store satisfies it. Required.
	Source CertSource
	// Cache keeps signed responses across restarts (store.BlobOCSP).
	// Nil means memory only: a restart re-signs on demand, and Refresh
	// does nothing.
	Cache store.Cache
	// Shared, if set, is a cache the replicas of a deployment share, next
	// to each one's own Cache. Every response signed is also put there;
	// a request that misses memory and Cache takes a fresh response from
	// there, once the store confirms the status it states, instead of
	// signing; and Refresh walks Shared instead of Cache, so the one
	// replica that runs Run (the leader) re-signs what every replica
	// answers. Cache hits never touch it.
	Shared store.Cache
	// Validity is nextUpdate - thisUpdate of every response; it is also
	// how long a revocation can stay unseen by a relying party that
	// cached a "good". Zero means DefaultValidity; at least one minute.
	Validity time.Duration
	// ValidityFor, if set, may shorten the validity of the responses for
	// one certificate: given its record (valid or revoked), a positive
	// result below Validity is used instead, at least one minute. Device-
	// state profiles use it so that a relying party caching a "good" sees
	// a device's revocation within that bound (INTEGRATIONS.md §11).
	// It runs on every signature, so it must be cheap.
	ValidityFor func(rec *store.CertRecord) time.Duration
	// MemEntries bounds the in-memory cache. An entry costs about 1.4 KB
	// with a delegated responder (its certificate rides along) and 0.8 KB
	// in mode ca, so a full default cache holds up to ~140 MB; only
	// certificates someone asks about take a place. Zero means
	// DefaultMemEntries.
	MemEntries int
	// MaxBody caps a POST body and a decoded GET request, in bytes.
	// Zero means DefaultMaxBody (Boulder's figure; a real request is
	// under 200 bytes).
	MaxBody int64
	// RefreshInterval is the refresher's period (Run). Zero means
	// DefaultRefreshInterval.
	RefreshInterval time.Duration
	// RefreshBatch caps the responses one refresher pass re-signs, so a
	// pass after downtime does not monopolise the signing key. Zero means
	// DefaultRefreshBatch.
	RefreshBatch int
	// MaxSigning bounds the signatures made at once for clients that
	// wait (first answers, unknown serials, nonces); a request that finds
	// every slot taken for SigningWait is answered tryLater. Cached
	// answers take no slot. Zero means DefaultMaxSigning().
	MaxSigning int
	// SigningWait is how long a request waits for a signing slot. Zero
	// means DefaultSigningWait.
	SigningWait time.Duration
	// Metrics may be nil.
	Metrics *Metrics
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Log receives rotation and refresh events and sampled request
	// errors; the zero Logger discards them.
	Log zerolog.Logger
}

// Responder is the OCSP HTTP handler and its pre-signed cache. Mount it
// with Wrap, or at "/ocsp" and "/ocsp/" on a mux that leaves paths alone.
type Responder struct {
	byCertID map[string]*Signer
	byName   map[string]*Signer
	src      CertSource
	// validityFor is Options.ValidityFor with its floor applied; nil
	// when unset.
	validityFor func(*store.CertRecord) time.Duration
	cache       store.Cache
	shared      store.Cache
	mem         *memCache
	flight      flight
	slots       *signSlots

	validity        time.Duration
	maxBody         int64
	refreshInterval time.Duration
	refreshBatch    int
	metrics         *Metrics
	now             func() time.Time

	log zerolog.Logger
	// badLog samples bad requests, which any client can produce at line
	// rate: one line a second at most. errLog samples internal errors,
	// which come in bursts when the store or key fails.
	badLog, errLog zerolog.Logger
}

// New checks opts and returns a Responder. It issues each delegated
// Signer's first responder certificate, so a CA that cannot fails here.
func New(opts Options) (*Responder, error) {
	if len(opts.CAs) == 0 {
		return nil, errors.New("ocsp: no CA to answer for")
	}
	if opts.Source == nil {
		return nil, errors.New("ocsp: no certificate source")
	}
	if opts.Validity == 0 {
		opts.Validity = DefaultValidity
	}
	if opts.Validity < minValidity {
		return nil, fmt.Errorf("ocsp: Validity %s is shorter than %s", opts.Validity, minValidity)
	}
	if opts.MemEntries == 0 {
		opts.MemEntries = DefaultMemEntries
	}
	if opts.MaxBody == 0 {
		opts.MaxBody = DefaultMaxBody
	}
	if opts.RefreshInterval == 0 {
		opts.RefreshInterval = DefaultRefreshInterval
	}
	if opts.RefreshBatch == 0 {
		opts.RefreshBatch = DefaultRefreshBatch
	}
	if opts.MaxSigning == 0 {
		opts.MaxSigning = DefaultMaxSigning()
	}
	if opts.SigningWait == 0 {
		opts.SigningWait = DefaultSigningWait
	}
	if opts.MemEntries < 0 || opts.MaxBody < 0 || opts.RefreshInterval < 0 || opts.RefreshBatch < 0 ||
		opts.MaxSigning < 0 || opts.SigningWait < 0 {
		return nil, errors.New("ocsp: MemEntries, MaxBody, RefreshInterval, RefreshBatch, MaxSigning and SigningWait must not be negative")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	r := &Responder{
		byCertID:        make(map[string]*Signer),
		byName:          make(map[string]*Signer),
		src:             opts.Source,
		validityFor:     floorValidity(opts.ValidityFor),
		cache:           opts.Cache,
		shared:          opts.Shared,
		mem:             newMemCache(opts.MemEntries),
		slots:           newSignSlots(opts.MaxSigning, opts.SigningWait),
		validity:        opts.Validity,
		maxBody:         opts.MaxBody,
		refreshInterval: opts.RefreshInterval,
		refreshBatch:    opts.RefreshBatch,
		metrics:         opts.Metrics,
		now:             opts.Now,
		log:             opts.Log,
		badLog:          opts.Log.Sample(&zerolog.BurstSampler{Burst: 1, Period: time.Second}),
		errLog:          opts.Log.Sample(&zerolog.BurstSampler{Burst: 5, Period: time.Second}),
	}
	for _, s := range opts.CAs {
		if err := r.add(s); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// floorValidity keeps fn's positive answers at minValidity or more, so
// that RefreshAt stays a second or more after thisUpdate.
func floorValidity(fn func(*store.CertRecord) time.Duration) func(*store.CertRecord) time.Duration {
	if fn == nil {
		return nil
	}
	return func(rec *store.CertRecord) time.Duration {
		if d := fn(rec); d > 0 {
			return max(d, minValidity)
		}
		return 0
	}
}

// add registers s under its name and CertID hashes, and gets its first
// responder certificate.
func (r *Responder) add(s *Signer) error {
	if s == nil {
		return errors.New("ocsp: nil Signer")
	}
	if _, dup := r.byName[s.name]; dup {
		return fmt.Errorf("ocsp: two Signers named %s", s.name)
	}
	r.byName[s.name] = s
	for h := range numHashAlgs {
		k := certIDKey(h, s.hashes[h].name, s.hashes[h].key)
		if other, dup := r.byCertID[k]; dup {
			return fmt.Errorf("ocsp: Signers %s and %s answer for the same issuer", other.name, s.name)
		}
		r.byCertID[k] = s
	}
	if s.rotator != nil {
		if s.rotator.validity < 2*r.validity {
			return fmt.Errorf("ocsp: signer %s: ResponderValidity %s is less than twice Validity %s", s.name, s.rotator.validity, r.validity)
		}
		if _, _, err := s.identity(r.now()); err != nil {
			return fmt.Errorf("ocsp: signer %s: %w", s.name, err)
		}
	}
	return nil
}

// Wrap returns a handler that sends every /ocsp request to r and the rest
// to next (nil: 404). Mount r this way (or route with IsPath) in front of
// an http.ServeMux: ServeMux redirects a path with "//" to a cleaned one,
// and the base64 in a GET path contains "//" in a few percent of
// requests, which cleaning would corrupt.
func (r *Responder) Wrap(next http.Handler) http.Handler {
	if next == nil {
		next = http.NotFoundHandler()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if IsPath(req.URL.Path) {
			r.ServeHTTP(w, req)
			return
		}
		next.ServeHTTP(w, req)
	})
}

// IsPath reports whether path is one the Responder answers: "/ocsp" or
// anything under "/ocsp/", with any number of slashes around "ocsp".
// Routers that put middleware around the Responder use it instead of
// Wrap.
func IsPath(path string) bool {
	_, ok := trimOCSPPrefix(path)
	return ok
}

// trimOCSPPrefix strips "/ocsp" and the slashes around it. Deliberately
// lenient: clients that join a base URL ending in "/" with "/<request>"
// send "/ocsp//MEIw...", and some send "//ocsp/...".
func trimOCSPPrefix(path string) (string, bool) {
	rest, ok := strings.CutPrefix(strings.TrimLeft(path, "/"), "ocsp")
	if !ok || (rest != "" && rest[0] != '/') {
		return path, false
	}
	return strings.TrimLeft(rest, "/"), true
}
