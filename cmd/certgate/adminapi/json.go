package adminapi

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/rs/zerolog"

	"github.com/certgate/certgate/store"
)

// maxJSONBody caps request bodies; every body here is a few fields.
const maxJSONBody = 64 << 10

// apiError is an error with the status and the text the client sees.
type apiError struct {
	status int
	msg    string
	err    error
}

func (e *apiError) Error() string {
	if e.err != nil {
		return e.msg + ": " + e.err.Error()
	}
	return e.msg
}

func errorf(status int, msg string) *apiError { return &apiError{status: status, msg: msg} }

// storeError maps a store error to the API's statuses.
func storeError(what string, err error) *apiError {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return &apiError{status: http.StatusNotFound, msg: what + " not found"}
	case errors.Is(err, store.ErrConflict):
		return &apiError{status: http.StatusConflict, msg: what + ": conflicts with its current state", err: err}
	case errors.Is(err, store.ErrInvalid):
		return &apiError{status: http.StatusBadRequest, msg: what + ": " + err.Error()}
	}
	return &apiError{status: http.StatusInternalServerError, msg: "internal error", err: err}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// writeError answers err as JSON; the cause goes to the log only.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = &apiError{status: http.StatusInternalServerError, msg: "internal error", err: err}
	}
	ev := zerolog.Ctx(r.Context()).Warn()
	if ae.status >= 500 {
		ev = zerolog.Ctx(r.Context()).Error()
	}
	ev.Err(err).Int("status", ae.status).Str("path", r.URL.Path).Msg("api: request refused")
	if ae.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="certgate"`)
	}
	writeJSON(w, ae.status, map[string]string{"error": ae.msg})
}

// readJSON decodes a bounded JSON body into v; an empty body leaves v as
// it is, unknown fields are errors.
func readJSON(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if errors.Is(err, io.EOF) {
		return nil
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return errorf(http.StatusRequestEntityTooLarge, "body too large")
	}
	if err != nil {
		return &apiError{status: http.StatusBadRequest, msg: "malformed JSON body: " + err.Error()}
	}
	return nil
}
