package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/rs/zerolog"

	"github.com/certgate/certgate/store"
)

// The admin socket lets the CLI work while the server runs: bbolt allows a
// single process to hold the database, so `certgate certs` and `certgate
// revoke` talk to the running server over a Unix socket in the data dir
// (mode 0600: whoever can open it could read the database file too). When
// no server answers, the CLI opens the database itself. The admin REST API
// (its own TLS listener, tokens, roles) is a separate, later surface.

// adminServer serves the admin socket.
type adminServer struct {
	srv  *http.Server
	path string
}

// revoker records a revocation and updates whatever serves revocation
// status; the admin socket never revokes in the store behind its back.
type revoker interface {
	Revoke(ctx context.Context, serial *big.Int, reason int, at time.Time) (*store.CertRecord, error)
}

func startAdmin(path string, st store.Store, rv revoker, log zerolog.Logger) (*adminServer, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	// A socket left by a killed server blocks Listen; it is safe to remove
	// because the bbolt lock, taken before this, proves no server runs.
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSocket != 0 {
		_ = os.Remove(path)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("admin socket %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("admin socket %s: %w", path, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v0/certs", func(w http.ResponseWriter, r *http.Request) {
		q, err := queryFromValues(r.URL.Query(), time.Now())
		if err != nil {
			writeJSONError(w, http.StatusBadRequest, err)
			return
		}
		recs, err := st.Search(r.Context(), q)
		if err != nil {
			writeJSONError(w, http.StatusInternalServerError, err)
			return
		}
		writeJSON(w, http.StatusOK, recs)
	})
	mux.HandleFunc("GET /v0/certs/{serial}", func(w http.ResponseWriter, r *http.Request) {
		serial, err := store.ParseSerial(r.PathValue("serial"))
		if err != nil {
			writeJSONError(w, http.StatusBadRequest, err)
			return
		}
		rec, err := st.Cert(r.Context(), serial)
		if err != nil {
			writeJSONError(w, statusForStoreErr(err), err)
			return
		}
		writeJSON(w, http.StatusOK, rec)
	})
	mux.HandleFunc("POST /v0/certs/{serial}/revoke", func(w http.ResponseWriter, r *http.Request) {
		serial, err := store.ParseSerial(r.PathValue("serial"))
		if err != nil {
			writeJSONError(w, http.StatusBadRequest, err)
			return
		}
		reason, err := strconv.Atoi(r.URL.Query().Get("reason"))
		if err != nil {
			writeJSONError(w, http.StatusBadRequest, errors.New("reason must be a CRLReason code"))
			return
		}
		rec, err := rv.Revoke(r.Context(), serial, reason, time.Now())
		if err != nil {
			writeJSONError(w, statusForStoreErr(err), err)
			return
		}
		log.Info().Str("serial", rec.SerialHex).Str("reason", store.ReasonName(rec.RevocationReason)).Msg("certificate revoked via admin socket")
		writeJSON(w, http.StatusOK, rec)
	})
	a := &adminServer{
		srv: &http.Server{
			Handler:           mux,
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      5 * time.Minute, // a full listing can be long
			IdleTimeout:       time.Minute,
			MaxHeaderBytes:    16 << 10,
		},
		path: path,
	}
	go func() {
		if err := a.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error().Err(err).Msg("admin socket stopped")
		}
	}()
	return a, nil
}

func (a *adminServer) close(ctx context.Context) {
	_ = a.srv.Shutdown(ctx)
	_ = os.Remove(a.path)
}

func statusForStoreErr(err error) int {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, store.ErrConflict):
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}

type jsonError struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeJSONError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, jsonError{Error: err.Error()})
}
