package ocsp

import (
	"strconv"
)

// Ready is a pre-signed response found by AnswerReady: the body and
// header lines of a 200 answer, ready to be copied onto the wire.
type Ready struct {
	e            *entry
	cacheControl string
	cacheable    bool
}

// Body is the DER response. It is shared: the caller must not change it.
func (rd Ready) Body() []byte { return rd.e.der }

// AppendHeader appends the answer's header lines, each "Name: value\r\n",
// to dst: Content-Type and Content-Length, and for a GET the RFC 5019
// §6.2 caching headers ServeHTTP would send. The caller adds its own
// (Date, Connection) and the blank line.
func (rd Ready) AppendHeader(dst []byte) []byte {
	dst = append(dst, "Content-Type: "+contentTypeResponse+"\r\nContent-Length: "...)
	dst = strconv.AppendInt(dst, int64(len(rd.e.der)), 10)
	dst = append(dst, "\r\n"...)
	if rd.cacheControl != "" {
		dst = appendHeaderLine(dst, "Cache-Control", rd.cacheControl)
	}
	if rd.cacheable {
		dst = appendHeaderLine(dst, "Etag", rd.e.etag)
		dst = appendHeaderLine(dst, "Last-Modified", rd.e.hdr.lastModified[0])
		dst = appendHeaderLine(dst, "Expires", rd.e.hdr.expires[0])
	}
	return dst
}

func appendHeaderLine(dst []byte, name, value string) []byte {
	dst = append(dst, name...)
	dst = append(dst, ": "...)
	dst = append(dst, value...)
	return append(dst, "\r\n"...)
}

// AnswerReady answers, without net/http, a request whose response is
// pre-signed in memory and needs nothing else: no nonce, no signature, no
// lookup. It is for HTTP servers that parse requests themselves to keep a
// RADIUS server's stream of repeated questions cheap. der is a POST body;
// for a GET (get true) it is ignored and path, as ServeHTTP would see
// URL.Path (percent-escapes undone), carries the request. A GET with
// If-None-Match or If-Modified-Since is not for AnswerReady: those need
// ServeHTTP's 304 logic.
//
// When ok is false nothing was answered or counted, and the request is
// ServeHTTP's, which handles every case including this one: the fast path
// only ever shortens what ServeHTTP would do, so errors, nonces, misses
// and signing stay in one place.
func (r *Responder) AnswerReady(get bool, path string, der []byte) (rd Ready, ok bool) {
	if get {
		var err error
		if der, err = r.decodeGET(path); err != nil {
			return Ready{}, false
		}
	}
	if int64(len(der)) > r.maxBody {
		return Ready{}, false
	}
	req, err := parseRequest(der)
	if err != nil {
		return Ready{}, false
	}
	e := r.ready(req)
	if e == nil {
		return Ready{}, false
	}
	r.metrics.response(statusName(e.status), cacheHit)
	cc, cacheable := r.cacheControl(e, get, false)
	return Ready{e: e, cacheControl: cc, cacheable: cacheable}, true
}
