package crl

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Handler serves GET and HEAD /crl/<name>.crl for each Scheduler's CA.
// Mount it at "/crl/" without stripping the prefix.
type Handler struct {
	scheds map[string]*Scheduler
}

// pathPrefix and pathSuffix frame the CA name in the URL, as ca/local
// writes it into CRL distribution points.
const (
	pathPrefix = "/crl/"
	pathSuffix = ".crl"
)

// contentType is the media type of a DER CRL (RFC 2585 §4.2).
const contentType = "application/pkix-crl"

// NewHandler serves the CRLs of scheds, which must have distinct names.
func NewHandler(scheds ...*Scheduler) (*Handler, error) {
	h := &Handler{scheds: make(map[string]*Scheduler, len(scheds))}
	for i, s := range scheds {
		if s == nil {
			return nil, fmt.Errorf("crl: handler: scheduler %d is nil", i)
		}
		if _, dup := h.scheds[s.Name()]; dup {
			return nil, fmt.Errorf("crl: handler: two schedulers for CA %q", s.Name())
		}
		h.scheds[s.Name()] = s
	}
	return h, nil
}

// ServeHTTP answers with the current DER CRL. Caches may keep it until its
// nextUpdate; ETag and Last-Modified let them revalidate for a 304. If no
// CRL exists yet it is built within the request; if that fails the answer
// is 503 with Retry-After.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutPrefix(r.URL.Path, pathPrefix)
	if ok {
		name, ok = strings.CutSuffix(name, pathSuffix)
	}
	s := h.scheds[name]
	if !ok || s == nil {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "crl: method not allowed", http.StatusMethodNotAllowed)
		return
	}
	c, err := s.current(r.Context())
	if err != nil {
		if r.Context().Err() == nil { // not just a client that went away
			s.log.Error().Err(err).Msg("no CRL to serve")
		}
		w.Header().Set("Retry-After", strconv.Itoa(int(retryMin/time.Second)))
		http.Error(w, "crl: CRL not available yet", http.StatusServiceUnavailable)
		return
	}
	hdr := w.Header()
	hdr.Set("ETag", c.etag)
	hdr.Set("Last-Modified", c.blob.ThisUpdate.UTC().Format(http.TimeFormat))
	hdr.Set("Expires", c.blob.NextUpdate.UTC().Format(http.TimeFormat))
	maxAge := max(c.blob.NextUpdate.Sub(s.b.now())/time.Second, 0)
	hdr.Set("Cache-Control", "public, max-age="+strconv.FormatInt(int64(maxAge), 10))
	if notModified(r, c) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hdr.Set("Content-Type", contentType)
	hdr.Set("Content-Length", strconv.Itoa(len(c.blob.Data)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(c.blob.Data)
}

// notModified applies RFC 9110 §13.1: If-None-Match, compared weakly,
// decides when present; If-Modified-Since only without it.
func notModified(r *http.Request, c *served) bool {
	if inm := r.Header.Values("If-None-Match"); len(inm) > 0 {
		for _, field := range inm {
			for _, tag := range strings.Split(field, ",") {
				tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
				if tag == "*" || tag == c.etag {
					return true
				}
			}
		}
		return false
	}
	ims, err := http.ParseTime(r.Header.Get("If-Modified-Since"))
	return err == nil && !c.blob.ThisUpdate.Truncate(time.Second).After(ims)
}
