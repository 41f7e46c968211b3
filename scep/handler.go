package scep

import (
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/rs/zerolog"
)

// NDESPath is where Windows and Intune clients look for SCEP (the path of
// Microsoft's NDES); it serves the default profile.
const NDESPath = "/certsrv/mscep/mscep.dll"

// Handler returns the HTTP handler for /scep, /scep/<profile> and the NDES
// path. Mount it at "/scep", "/scep/" and NDESPath (+"/").
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(s.serveHTTP)
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	profile, ok := s.profileFromPath(r.URL.Path)
	if !ok {
		httpError(w, http.StatusNotFound, "scep: unknown profile")
		return
	}
	op := r.URL.Query().Get("operation")
	switch op {
	case "GetCACaps":
		if !allowMethod(w, r, http.MethodGet) {
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, s.Capabilities())
	case "GetCACert":
		if !allowMethod(w, r, http.MethodGet) {
			return
		}
		body, ct, err := s.CACert()
		if err != nil {
			zerolog.Ctx(r.Context()).Error().Err(err).Msg("scep: GetCACert")
			httpError(w, http.StatusInternalServerError, "scep: internal error")
			return
		}
		w.Header().Set("Content-Type", ct)
		_, _ = w.Write(body)
	case "PKIOperation":
		s.servePKIOperation(w, r, profile)
	case "":
		httpError(w, http.StatusBadRequest, "scep: missing operation parameter")
	default:
		httpError(w, http.StatusBadRequest, "scep: unknown operation (want GetCACaps, GetCACert or PKIOperation)")
	}
}

func (s *Server) servePKIOperation(w http.ResponseWriter, r *http.Request, profile string) {
	var der []byte
	switch r.Method {
	case http.MethodPost:
		if !acceptedContentType(r.Header.Get("Content-Type")) {
			httpError(w, http.StatusUnsupportedMediaType, "scep: PKIOperation body must be application/x-pki-message")
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			httpError(w, http.StatusRequestEntityTooLarge, "scep: message too large")
			return
		}
		if err != nil {
			httpError(w, http.StatusBadRequest, "scep: could not read body")
			return
		}
		der = body
	case http.MethodGet:
		msg := r.URL.Query().Get("message")
		if int64(len(msg)) > s.maxBody*4/3+4 {
			httpError(w, http.StatusRequestEntityTooLarge, "scep: message too large")
			return
		}
		var err error
		if der, err = decodeGETMessage(msg); err != nil {
			httpError(w, http.StatusBadRequest, "scep: message parameter is not base64")
			return
		}
	default:
		w.Header().Set("Allow", "GET, POST")
		httpError(w, http.StatusMethodNotAllowed, "scep: PKIOperation takes GET or POST")
		return
	}
	if len(der) == 0 {
		httpError(w, http.StatusBadRequest, "scep: empty message")
		return
	}
	rep, err := s.PKIOperation(r.Context(), der, profile, r.RemoteAddr)
	if err != nil {
		var de *decodeError
		if errors.As(err, &de) {
			zerolog.Ctx(r.Context()).Warn().Err(err).Msg("scep: undecodable message")
			httpError(w, de.status, de.msg)
			return
		}
		zerolog.Ctx(r.Context()).Error().Err(err).Msg("scep: could not build CertRep")
		httpError(w, http.StatusInternalServerError, "scep: internal error")
		return
	}
	w.Header().Set("Content-Type", "application/x-pki-message")
	_, _ = w.Write(rep)
}

// profileFromPath maps /scep, /scep/<profile>, their /pkiclient.exe forms
// (Cisco and NDES-style clients append it) and the NDES path to a profile.
func (s *Server) profileFromPath(p string) (string, bool) {
	p = strings.TrimSuffix(p, "/")
	p = strings.TrimSuffix(p, "/pkiclient.exe")
	switch {
	case p == "/scep" || p == NDESPath:
		return s.defaultProfile, true
	case strings.HasPrefix(p, "/scep/"):
		name := strings.TrimPrefix(p, "/scep/")
		if name == "" || strings.Contains(name, "/") || !s.HasProfile(name) {
			return "", false
		}
		return name, true
	}
	return "", false
}

// acceptedContentType: RFC 8894 §4.3 says application/x-pki-message; many
// clients send application/octet-stream or nothing, which we accept too.
func acceptedContentType(ct string) bool {
	if ct == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	switch mt {
	case "application/x-pki-message", "application/octet-stream", "application/pkcs7-mime":
		return true
	}
	return false
}

// decodeGETMessage decodes a GET message parameter. RFC 8894 §4.1 wants
// base64 URL-encoded, but Cisco and others send '+' and '/' unescaped, so
// a '+' arrives as a space; some send URL-safe base64 or line breaks.
func decodeGETMessage(s string) ([]byte, error) {
	s = strings.NewReplacer(" ", "+", "\n", "", "\r", "").Replace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("scep: not base64")
}

func allowMethod(w http.ResponseWriter, r *http.Request, m string) bool {
	if r.Method == m || (m == http.MethodGet && r.Method == http.MethodHead) {
		return true
	}
	w.Header().Set("Allow", m)
	httpError(w, http.StatusMethodNotAllowed, "scep: method not allowed")
	return false
}

func httpError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg+"\n")
}
