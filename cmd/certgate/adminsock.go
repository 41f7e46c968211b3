package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/rs/zerolog"
)

// The admin socket lets the CLI work while the server runs: bbolt allows a
// single process to hold the database, so the CLI speaks the admin API
// (/api/v1/) to the running server over a Unix socket in the data dir.
// The socket's mode (0600: whoever can open it could read the database
// file too) is its access control, so every caller is an admin. When no
// server answers, the CLI runs the same API handler in-process over the
// database (adminclient.go).

// adminServer serves the admin socket.
type adminServer struct {
	srv  *http.Server
	path string
}

func startAdmin(path string, api http.Handler, log zerolog.Logger) (*adminServer, error) {
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
	a := &adminServer{
		srv: &http.Server{
			Handler:           withRequestContext(log, 10*time.Minute, api),
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      10 * time.Minute, // a full export can be long
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
