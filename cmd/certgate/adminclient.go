package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/certgate/certgate/ca/escrow"
	"github.com/certgate/certgate/ca/local"
	"github.com/certgate/certgate/ca/ocsp"
	"github.com/certgate/certgate/cmd/certgate/adminapi"
	"github.com/certgate/certgate/configs"
	"github.com/certgate/certgate/store"
)

// apiClient is how the CLI speaks the admin API: to the running server
// over its admin socket, or, when none runs, to the same handler run
// in-process over the database. Either way the CLI takes the API's path.
type apiClient struct {
	hc      *http.Client
	close   func() error
	offline bool
}

// openAPI prefers the running server's socket and falls back to the
// database file when no server listens.
func openAPI(cfg *configs.Config) (*apiClient, error) {
	sock := cfg.ResolvePath(cfg.AdminSocket)
	conn, err := net.DialTimeout("unix", sock, 2*time.Second)
	if err == nil {
		conn.Close()
		return &apiClient{
			hc: &http.Client{Timeout: 10 * time.Minute, Transport: &http.Transport{
				DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
					var d net.Dialer
					return d.DialContext(ctx, "unix", sock)
				},
			}},
			close: func() error { return nil },
		}, nil
	}
	if !errors.Is(err, os.ErrNotExist) && !errors.Is(err, syscall.ECONNREFUSED) {
		return nil, fmt.Errorf("admin socket %s: %w", sock, err)
	}
	st, err := offlineStore(cfg)
	if err != nil {
		return nil, err
	}
	var c *local.CA
	if local.Exists(caDir(cfg)) {
		if c, err = local.Load(caDir(cfg), local.Options{Name: cfg.CA.Name, PublicURL: cfg.PublicURL}); err != nil {
			st.Close()
			return nil, err
		}
	}
	var sealer *escrow.Sealer
	if _, err := os.Stat(escrowKeyPath(cfg)); err == nil {
		if sealer, err = escrow.Load(escrowKeyPath(cfg)); err != nil {
			st.Close()
			return nil, err
		}
	}
	srv, err := adminapi.New(apiOptions(cfg, st.records, offlineRevoker{st}, adminapi.SocketAuth{}, nil, c, sealer))
	if err != nil {
		st.Close()
		return nil, err
	}
	h := withRequestContext(zerolog.Nop(), 10*time.Minute, srv.Handler())
	return &apiClient{hc: &http.Client{Transport: handlerTransport{h}}, close: st.Close, offline: true}, nil
}

// Close releases the database when the client opened it.
func (c *apiClient) Close() error { return c.close() }

// handlerTransport answers requests by calling a handler in-process.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// apiStatusError is an API error answer.
type apiStatusError struct {
	status int
	msg    string
}

func (e *apiStatusError) Error() string { return e.msg }

// Is lets callers test API errors against the store's sentinels.
func (e *apiStatusError) Is(target error) bool {
	switch target {
	case store.ErrNotFound:
		return e.status == http.StatusNotFound
	case store.ErrConflict:
		return e.status == http.StatusConflict
	}
	return false
}

// do sends a JSON request (body may be nil) and decodes a JSON answer into
// out (may be nil). accept, when set, asks for another representation,
// whose raw body is returned.
func (c *apiClient) do(ctx context.Context, method, path string, body, out any, accept string) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://certgate"+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("admin API: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("admin API: %w", err)
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(raw, &e) != nil || e.Error == "" {
			e.Error = fmt.Sprintf("HTTP %d", resp.StatusCode)
		}
		if resp.StatusCode == http.StatusNotImplemented && c.offline {
			e.Error += " (" + errNoServer.Error() + ")"
		}
		return nil, &apiStatusError{status: resp.StatusCode, msg: e.Error}
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return nil, fmt.Errorf("admin API: decode answer: %w", err)
		}
	}
	return raw, nil
}

// offlineRevoker revokes in the database and drops what a server would
// otherwise serve stale at its next start: the pre-signed OCSP responses
// and the cached CRL (the CRL scheduler rebuilds a missing CRL at start).
type offlineRevoker struct{ st *stores }

func (o offlineRevoker) Revoke(ctx context.Context, serial *big.Int, reason int, at time.Time) (*store.CertRecord, error) {
	rec, err := o.st.records.Revoke(ctx, serial, reason, at)
	if err != nil {
		return nil, err
	}
	return rec, o.dropServed(ctx, rec, serial, "revoked")
}

// ReleaseHold lifts a hold in the database and drops the same as Revoke.
func (o offlineRevoker) ReleaseHold(ctx context.Context, serial *big.Int) (*store.CertRecord, error) {
	holds, ok := o.st.records.(store.Holds)
	if !ok {
		return nil, errors.New("this store cannot release holds")
	}
	rec, err := holds.ReleaseHold(ctx, serial)
	if err != nil {
		return nil, err
	}
	return rec, o.dropServed(ctx, rec, serial, "hold lifted")
}

// dropServed removes the stored OCSP responses and cached CRL of rec's
// issuer, which a server would otherwise serve stale at its next start.
func (o offlineRevoker) dropServed(ctx context.Context, rec *store.CertRecord, serial *big.Int, done string) error {
	if err := ocsp.DropStored(ctx, o.st.cache, rec.Issuer, serial); err != nil {
		return fmt.Errorf("%s, but: %w", done, err)
	}
	if err := o.st.cache.DeleteBlob(ctx, store.BlobCRL, rec.Issuer); err != nil {
		return fmt.Errorf("%s, but the cached CRL could not be dropped: %w", done, err)
	}
	return nil
}
