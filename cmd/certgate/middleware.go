package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strconv"
	"time"

	"github.com/rs/zerolog"
)

// statusWriter remembers the status code for logs and metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func statusFrom(w http.ResponseWriter) *statusWriter {
	if sw, ok := w.(*statusWriter); ok {
		return sw
	}
	return &statusWriter{ResponseWriter: w, status: http.StatusOK}
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func codeLabel(code int) string { return strconv.Itoa(code) }

// newRequestID returns 16 random hex characters.
func newRequestID() string { return string(appendNewRequestID(nil)) }

// appendNewRequestID appends a fresh request ID to dst without
// allocating, for the lean loop's fast path.
func appendNewRequestID(dst []byte) []byte {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.AppendEncode(dst, b[:])
}

// withRequestContext gives every request an ID (echoed in X-Request-Id), a
// logger carrying it, and a deadline; logs one line per request; and turns
// a panic into a 500 so no input can take the process down.
func withRequestContext(base zerolog.Logger, timeout time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := newRequestID()
		log := base.With().Str("request_id", id).Logger()
		ctx, cancel := context.WithTimeout(log.WithContext(r.Context()), timeout)
		defer cancel()
		w.Header().Set("X-Request-Id", id)
		sw := statusFrom(w)
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.Error().Interface("panic", p).Str("path", r.URL.Path).Msg("http: handler panicked")
				if sw.bytes == 0 {
					http.Error(sw, "internal error", http.StatusInternalServerError)
				}
			}
			ev := log.Debug()
			if sw.status >= 500 {
				ev = log.Error()
			} else if sw.status >= 400 {
				ev = log.Info()
			}
			// The query is not logged: a GET PKIOperation carries the whole
			// (encrypted) message, and nothing in it is worth a log line.
			ev.Str("method", r.Method).Str("path", r.URL.Path).Int("status", sw.status).
				Str("remote", r.RemoteAddr).Dur("duration", time.Since(start)).Msg("http request")
		}()
		next.ServeHTTP(sw, r.WithContext(ctx))
	})
}
