package ocsp

import (
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	xocsp "golang.org/x/crypto/ocsp"
)

const (
	contentTypeRequest  = "application/ocsp-request"
	contentTypeResponse = "application/ocsp-response"
)

// contentTypeResponseHdr is shared by every response, like entry.hdr
// (see there).
var contentTypeResponseHdr = []string{contentTypeResponse}

// httpError is a request refused before OCSP parsing, with the HTTP
// status to send alongside malformedRequest.
type httpError struct {
	code int
	msg  string
}

func (e *httpError) Error() string { return "ocsp: " + e.msg }

// ServeHTTP answers RFC 6960 Appendix A / RFC 5019 §5 requests: POST with
// a DER body, and GET (and HEAD) with the base64 DER as the last path
// part. It looks at no Host header, so HTTP/1.0 clients that send none
// are answered too.
func (r *Responder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	var (
		der []byte
		err error
		get bool
	)
	switch req.Method {
	case http.MethodGet, http.MethodHead:
		get = true
		der, err = r.readGET(req)
	case http.MethodPost:
		der, err = r.readPOST(w, req)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	if err != nil {
		code := http.StatusBadRequest
		var he *httpError
		if errors.As(err, &he) {
			code = he.code
		}
		r.refuse(w, req, code, xocsp.MalformedRequestErrorResponse, labelMalformed, err)
		return
	}
	parsed, err := parseRequest(der)
	if err != nil {
		// RFC 6960 §2.3 answers a bad request with malformedRequest; DER
		// we cannot even read also gets HTTP 400, for proxies and logs.
		code := http.StatusOK
		if errors.Is(err, errUndecodable) {
			code = http.StatusBadRequest
		}
		r.refuse(w, req, code, xocsp.MalformedRequestErrorResponse, labelMalformed, err)
		return
	}
	e, label, err := r.answer(req.Context(), parsed)
	switch {
	case errors.Is(err, errUnauthorized):
		r.refuse(w, req, http.StatusOK, xocsp.UnauthorizedErrorResponse, labelUnauthorized, err)
		return
	case errors.Is(err, errBusy):
		// Shed load: tryLater for OCSP clients, 503 and Retry-After for
		// proxies and load balancers in between.
		w.Header().Set("Retry-After", "1")
		r.refuse(w, req, http.StatusServiceUnavailable, xocsp.TryLaterErrorResponse, labelTryLater, err)
		return
	case err != nil:
		r.metrics.response(labelInternal, label)
		r.errLog.Error().Err(err).Msg("ocsp: cannot answer")
		writeDER(w, http.StatusInternalServerError, xocsp.InternalErrorErrorResponse)
		return
	}
	r.metrics.response(statusName(e.status), label)
	cc, cacheable := r.cacheControl(e, get, label == cacheNonce)
	if cc != "" {
		w.Header().Set("Cache-Control", cc)
	}
	if !cacheable {
		writeDER(w, http.StatusOK, e.der)
		return
	}
	r.writeCacheable(w, req, e)
}

// cacheControl is RFC 5019 §6.2 for a 200 answer carrying e: the
// Cache-Control value ("" for none: POST answers are not cached by HTTP
// caches anyway) and whether HTTP caches may keep it, which then gets the
// validators of writeCacheable too. Only a response that is the same for
// every asker may be cached: not one bound to a nonce, and not "unknown",
// which turns "good" as soon as the serial is issued.
func (r *Responder) cacheControl(e *entry, get, nonce bool) (value string, cacheable bool) {
	switch {
	case !get:
		return "", false
	case nonce || e.status == xocsp.Unknown:
		return "no-store", false
	}
	maxAge := max(0, int64(e.nextUpdate.Sub(r.now())/time.Second))
	return "max-age=" + strconv.FormatInt(maxAge, 10) + ", public, no-transform, must-revalidate", true
}

// refuse answers with an unsigned error status and logs it, sampled.
func (r *Responder) refuse(w http.ResponseWriter, req *http.Request, code int, body []byte, label string, err error) {
	r.metrics.response(label, cacheNone)
	r.badLog.Info().Err(err).Str("method", req.Method).Str("remote", req.RemoteAddr).Msg("ocsp: request refused")
	writeDER(w, code, body)
}

// writeCacheable sends e with RFC 5019 §6.2 validators (Cache-Control is
// set by then), or 304 when the client's copy is current (RFC 9110 §13.1:
// If-None-Match first).
func (r *Responder) writeCacheable(w http.ResponseWriter, req *http.Request, e *entry) {
	h := w.Header()
	h["Etag"] = e.hdr.etag
	h["Last-Modified"] = e.hdr.lastModified
	h["Expires"] = e.hdr.expires
	if notModified(req, e) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h["Content-Type"] = contentTypeResponseHdr
	h["Content-Length"] = e.hdr.contentLength
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(e.der)
}

func notModified(req *http.Request, e *entry) bool {
	if inm := req.Header.Get("If-None-Match"); inm != "" {
		return etagMatches(inm, e.etag)
	}
	if ims := req.Header.Get("If-Modified-Since"); ims != "" {
		t, err := http.ParseTime(ims)
		// HTTP dates have whole seconds, as does thisUpdate.
		return err == nil && !e.thisUpdate.After(t)
	}
	return false
}

// etagMatches is RFC 9110 §13.1.2's weak comparison against a list.
func etagMatches(header, etag string) bool {
	for _, tag := range strings.Split(header, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" || strings.TrimPrefix(tag, "W/") == etag {
			return true
		}
	}
	return false
}

// writeDER sends an OCSP response with a Content-Length, so HTTP/1.0 and
// keep-alive clients never see chunked encoding.
func writeDER(w http.ResponseWriter, code int, der []byte) {
	h := w.Header()
	h["Content-Type"] = contentTypeResponseHdr
	h.Set("Content-Length", strconv.Itoa(len(der)))
	w.WriteHeader(code)
	_, _ = w.Write(der)
}

// getRepair maps what clients and proxies make of base64 in a path back
// to the standard alphabet; none of these characters occurs in it.
var getRepair = strings.NewReplacer(" ", "+", "-", "+", "_", "/")

// readGET decodes the request from the path (RFC 6960 Appendix A.1:
// url-encoding of base64 encoding of the DER), accepting what real
// clients send: '+' that reached us as ' ' (form-decoded by a proxy or
// never escaped), the URL-safe alphabet, missing padding, and the
// extra slashes trimOCSPPrefix allows. Percent-escapes were already
// undone by net/http in URL.Path.
func (r *Responder) readGET(req *http.Request) ([]byte, error) {
	return r.decodeGET(req.URL.Path)
}

// decodeGET is readGET on a path whose percent-escapes are undone.
func (r *Responder) decodeGET(path string) ([]byte, error) {
	enc, ok := trimOCSPPrefix(path)
	if !ok {
		enc = strings.TrimLeft(enc, "/") // mounted under another prefix
	}
	if enc == "" {
		return nil, &httpError{http.StatusBadRequest, "GET without a request in the path"}
	}
	if int64(len(enc)) > int64(base64.StdEncoding.EncodedLen(int(r.maxBody))) {
		return nil, &httpError{http.StatusRequestURITooLong, "GET request longer than MaxBody"}
	}
	enc = strings.TrimRight(getRepair.Replace(enc), "=")
	der, err := base64.RawStdEncoding.DecodeString(enc)
	if err != nil {
		return nil, &httpError{http.StatusBadRequest, "GET path is not base64: " + err.Error()}
	}
	return der, nil
}

// readPOST reads a DER body of at most MaxBody bytes. A missing
// Content-Type is accepted (some embedded clients send none); another
// one is refused, as it means the client is not speaking OCSP.
func (r *Responder) readPOST(w http.ResponseWriter, req *http.Request) ([]byte, error) {
	if ct := req.Header.Get("Content-Type"); ct != "" && ct != contentTypeRequest {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != contentTypeRequest {
			return nil, &httpError{http.StatusBadRequest, "POST Content-Type is not " + contentTypeRequest}
		}
	}
	var der []byte
	var err error
	switch n := req.ContentLength; {
	case n > r.maxBody:
		return nil, &httpError{http.StatusRequestEntityTooLarge, "POST body longer than MaxBody"}
	case n > 0:
		// net/http never reads past Content-Length, so a known length
		// needs no MaxBytesReader.
		der = make([]byte, n)
		_, err = io.ReadFull(req.Body, der)
	default:
		der, err = io.ReadAll(http.MaxBytesReader(w, req.Body, r.maxBody))
	}
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, &httpError{http.StatusRequestEntityTooLarge, "POST body longer than MaxBody"}
	case err != nil:
		return nil, &httpError{http.StatusBadRequest, "read POST body: " + err.Error()}
	case len(der) == 0:
		return nil, &httpError{http.StatusBadRequest, "empty POST body"}
	}
	return der, nil
}
