package est

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// PathPrefix is where EST lives (RFC 7030 §3.2.2).
const PathPrefix = "/.well-known/est/"

// Media types of RFC 7030 §3.2.4 and §4.
const (
	typePKCS10    = "application/pkcs10"
	typePKCS7     = "application/pkcs7-mime"
	typeCertsOnly = "application/pkcs7-mime; smime-type=certs-only"
	typeCSRAttrs  = "application/csrattrs"
	typePKCS8     = "application/pkcs8"
)

// realm is the Basic realm named in WWW-Authenticate.
const realm = `Basic realm="certgate EST", charset="UTF-8"`

// exporterLabel is the RFC 9266 tls-exporter label.
const exporterLabel = "EXPORTER-Channel-Binding"

// Handler returns the HTTP handler for PathPrefix; mount it there.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	profile, op, ok := s.route(r.URL.Path)
	if !ok {
		writeError(w, r, errorf(http.StatusNotFound, "unknown EST path (want "+PathPrefix+"[<label>/]<operation>)"))
		return
	}
	switch op {
	case "cacerts":
		if !allowMethod(w, r, http.MethodGet) {
			return
		}
		der, err := s.CACerts(r.Context(), profile)
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeBase64(w, typePKCS7, der)
	case "csrattrs":
		if !allowMethod(w, r, http.MethodGet) {
			return
		}
		der, err := s.CSRAttrs(profile)
		if err != nil {
			writeError(w, r, err)
			return
		}
		if len(der) == 0 {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		writeBase64(w, typeCSRAttrs, der)
	case "simpleenroll", "simplereenroll", "serverkeygen":
		if !allowMethod(w, r, http.MethodPost) {
			return
		}
		req, err := s.readRequest(w, r, profile)
		if err != nil {
			writeError(w, r, err)
			return
		}
		s.serveEnroll(w, r, op, req)
	default:
		writeError(w, r, errorf(http.StatusNotFound, "unknown EST operation "+strconv.Quote(op)))
	}
}

func (s *Server) serveEnroll(w http.ResponseWriter, r *http.Request, op string, req *Request) {
	ctx := r.Context()
	switch op {
	case "serverkeygen":
		res, key, err := s.ServerKeyGen(ctx, req)
		if err != nil {
			writeError(w, r, err)
			return
		}
		body, ctype, err := keygenResponse(res.Cert, key)
		if err != nil {
			writeError(w, r, err)
			return
		}
		w.Header().Set("Content-Type", ctype)
		writeBody(w, body)
		return
	case "simplereenroll":
		res, err := s.SimpleReenroll(ctx, req)
		if err != nil {
			writeError(w, r, err)
			return
		}
		s.writeCert(w, r, res.Cert)
	default:
		res, err := s.SimpleEnroll(ctx, req)
		if err != nil {
			writeError(w, r, err)
			return
		}
		s.writeCert(w, r, res.Cert)
	}
}

// route splits /.well-known/est/[label/]op. An unknown label is not found.
func (s *Server) route(path string) (profile, op string, ok bool) {
	rest, found := strings.CutPrefix(path, PathPrefix)
	if !found {
		return "", "", false
	}
	parts := strings.Split(rest, "/")
	switch len(parts) {
	case 1:
		return s.defaultProfile, parts[0], parts[0] != ""
	case 2:
		if parts[0] == "" || !s.enroller.HasProfile(parts[0]) {
			return "", "", false
		}
		return parts[0], parts[1], parts[1] != ""
	}
	return "", "", false
}

// readRequest checks the content type, reads the bounded body, decodes it
// and gathers what TLS says about the client.
func (s *Server) readRequest(w http.ResponseWriter, r *http.Request, profile string) (*Request, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || !strings.EqualFold(mt, typePKCS10) {
		return nil, errorf(http.StatusUnsupportedMediaType, "the body must be "+typePKCS10+" (base64)")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, errorf(http.StatusRequestEntityTooLarge, "the body exceeds "+strconv.FormatInt(s.maxBody, 10)+" bytes")
	}
	if err != nil {
		return nil, &Error{Status: http.StatusBadRequest, Msg: "could not read the body", Err: err}
	}
	der, err := decodeBody(body, r.Header.Get("Content-Transfer-Encoding"))
	if err != nil {
		return nil, err
	}
	req := &Request{Profile: profile, CSR: der, RemoteAddr: r.RemoteAddr}
	if user, pass, ok := r.BasicAuth(); ok {
		req.Basic = &BasicAuth{Username: user, Password: pass}
	}
	if r.TLS != nil {
		req.ClientCerts = r.TLS.PeerCertificates
		req.ChannelBindings = channelBindings(r.TLS)
	}
	return req, nil
}

// channelBindings returns the session's tls-unique (TLS 1.2) or
// tls-exporter (TLS 1.3, RFC 9266) value.
func channelBindings(cs *tls.ConnectionState) [][]byte {
	var out [][]byte
	if len(cs.TLSUnique) > 0 {
		out = append(out, cs.TLSUnique)
	}
	if cs.Version >= tls.VersionTLS13 {
		if ekm, err := cs.ExportKeyingMaterial(exporterLabel, nil, tlsExporterLen); err == nil {
			out = append(out, ekm)
		}
	}
	return out
}

func (s *Server) writeCert(w http.ResponseWriter, r *http.Request, cert *x509.Certificate) {
	p7, err := certsOnly(cert)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeBase64(w, typeCertsOnly, p7)
}

func allowMethod(w http.ResponseWriter, r *http.Request, method string) bool {
	if r.Method == method {
		return true
	}
	w.Header().Set("Allow", method)
	writeError(w, r, errorf(http.StatusMethodNotAllowed, "use "+method))
	return false
}

// writeError answers with the status statusOf gives and a one-line text
// body; the cause goes to the log only.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, msg, retry := statusOf(err)
	log := zerolog.Ctx(r.Context())
	ev := log.Warn()
	switch {
	case status >= 500:
		ev = log.Error()
	case status == http.StatusAccepted:
		ev = log.Info()
	}
	ev.Err(err).Int("status", status).Str("path", r.URL.Path).Msg("est: request not answered with a certificate")
	h := w.Header()
	if status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", realm)
	}
	if retry > 0 {
		h.Set("Retry-After", strconv.Itoa(int(retry/time.Second)))
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, "est: "+msg+"\n")
}
