package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/certgate/certgate/ca/ocsp"
	"github.com/certgate/certgate/configs"
	"github.com/certgate/certgate/store"
	"github.com/certgate/certgate/store/bolt"
)

// certAdmin is what the certs and revoke commands need, whether they reach
// a running server over its admin socket or open the database directly.
type certAdmin interface {
	Search(ctx context.Context, v url.Values) ([]*store.CertRecord, error)
	Cert(ctx context.Context, serial *big.Int) (*store.CertRecord, error)
	Revoke(ctx context.Context, serial *big.Int, reason int) (*store.CertRecord, error)
	Close() error
}

// openAdmin prefers the running server's socket and falls back to the
// database file when no server listens.
func openAdmin(cfg *configs.Config) (certAdmin, error) {
	sock := cfg.ResolvePath(cfg.AdminSocket)
	c := &socketAdmin{client: &http.Client{
		Timeout: 5 * time.Minute,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}},
	}}
	conn, err := net.DialTimeout("unix", sock, 2*time.Second)
	if err == nil {
		conn.Close()
		return c, nil
	}
	if !errors.Is(err, os.ErrNotExist) && !errors.Is(err, syscall.ECONNREFUSED) {
		return nil, fmt.Errorf("admin socket %s: %w", sock, err)
	}
	st, err := bolt.Open(storePath(cfg), bolt.Options{})
	if err != nil {
		return nil, err
	}
	return &directAdmin{st: st}, nil
}

type socketAdmin struct{ client *http.Client }

func (s *socketAdmin) do(ctx context.Context, method, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, "http://certgate"+path, nil)
	if err != nil {
		return err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("admin socket: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var je jsonError
		_ = json.NewDecoder(resp.Body).Decode(&je)
		switch resp.StatusCode {
		case http.StatusNotFound:
			return fmt.Errorf("%s: %w", je.Error, store.ErrNotFound)
		case http.StatusConflict:
			return fmt.Errorf("%s: %w", je.Error, store.ErrConflict)
		}
		return fmt.Errorf("server: %s (HTTP %d)", je.Error, resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

func (s *socketAdmin) Search(ctx context.Context, v url.Values) ([]*store.CertRecord, error) {
	var recs []*store.CertRecord
	if err := s.do(ctx, http.MethodGet, "/v0/certs?"+v.Encode(), &recs); err != nil {
		return nil, err
	}
	for _, r := range recs {
		fillSerial(r)
	}
	return recs, nil
}

func (s *socketAdmin) Cert(ctx context.Context, serial *big.Int) (*store.CertRecord, error) {
	var rec store.CertRecord
	if err := s.do(ctx, http.MethodGet, "/v0/certs/"+store.SerialHex(serial), &rec); err != nil {
		return nil, err
	}
	fillSerial(&rec)
	return &rec, nil
}

func (s *socketAdmin) Revoke(ctx context.Context, serial *big.Int, reason int) (*store.CertRecord, error) {
	var rec store.CertRecord
	path := "/v0/certs/" + store.SerialHex(serial) + "/revoke?reason=" + strconv.Itoa(reason)
	if err := s.do(ctx, http.MethodPost, path, &rec); err != nil {
		return nil, err
	}
	fillSerial(&rec)
	return &rec, nil
}

func (s *socketAdmin) Close() error { return nil }

func fillSerial(r *store.CertRecord) {
	if n, err := store.ParseSerial(r.SerialHex); err == nil {
		r.Serial = n
	}
}

// directAdmin works on the database when no server runs.
type directAdmin struct{ st *bolt.Store }

func (d *directAdmin) Search(ctx context.Context, v url.Values) ([]*store.CertRecord, error) {
	q, err := queryFromValues(v, time.Now())
	if err != nil {
		return nil, err
	}
	return d.st.Search(ctx, q)
}

func (d *directAdmin) Cert(ctx context.Context, serial *big.Int) (*store.CertRecord, error) {
	return d.st.Cert(ctx, serial)
}

// Revoke records the revocation and drops what a server would otherwise
// serve stale at its next start: the pre-signed OCSP responses and the
// cached CRL (the CRL scheduler rebuilds a missing CRL at start).
func (d *directAdmin) Revoke(ctx context.Context, serial *big.Int, reason int) (*store.CertRecord, error) {
	rec, err := d.st.Revoke(ctx, serial, reason, time.Now())
	if err != nil {
		return nil, err
	}
	if err := ocsp.DropStored(ctx, d.st, rec.Issuer, serial); err != nil {
		return nil, fmt.Errorf("revoked, but: %w", err)
	}
	if err := d.st.DeleteBlob(ctx, store.BlobCRL, rec.Issuer); err != nil {
		return nil, fmt.Errorf("revoked, but the cached CRL could not be dropped: %w", err)
	}
	return rec, nil
}

func (d *directAdmin) Close() error { return d.st.Close() }

// queryFromValues turns list filters (as the CLI flags and the admin socket
// carry them) into a store.Query.
func queryFromValues(v url.Values, now time.Time) (store.Query, error) {
	var q store.Query
	if s := v.Get("status"); s != "" {
		st, err := store.ParseStatus(s)
		if err != nil {
			return q, err
		}
		q.Status = st
	}
	q.Profile = v.Get("profile")
	q.Subject = v.Get("subject")
	q.DeviceID = v.Get("device")
	if s := v.Get("expiring_within"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return q, fmt.Errorf("expiring-within: %q is not a positive duration (e.g. 720h)", s)
		}
		q.ExpiresAfter = now
		q.ExpiresBefore = now.Add(d)
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return q, fmt.Errorf("limit: %q is not a number", s)
		}
		q.Limit = n
	}
	q.After = v.Get("after")
	return q, nil
}
