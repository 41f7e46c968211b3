package postgres

import (
	"context"
	"math/big"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/certgate/certgate/store"
)

// NOTIFY channels: Revoke announces "<issuer> <serial hex>" on
// revocationChannel, PutBlob of a CRL announces the CA name on crlChannel.
const (
	revocationChannel = "certgate_revocations"
	crlChannel        = "certgate_crls"
)

// Feed is what Listen calls back; a nil field is not listened for.
type Feed struct {
	// Revoked is called for every revocation any replica commits.
	Revoked func(issuer string, serial *big.Int)
	// CRL is called for every CRL any replica puts in the cache, with the
	// CA name (the blob's key).
	CRL func(ca string)
}

// Listen calls f's functions for what any replica commits until ctx ends
// or the connection fails, and returns why it stopped. It holds one pool
// connection for its whole life. Notifications are a push, not a log: one
// sent while no listener was connected is lost, so callers also catch up
// (RevokedSince, GetBlob).
func (s *Store) Listen(ctx context.Context, f Feed) error {
	return s.wrap("listen", s.do(ctx, func(pool *pgxpool.Pool) error {
		conn, err := pool.Acquire(ctx)
		if err != nil {
			return err
		}
		// A connection left LISTENing must not go back to the pool.
		defer func() {
			_ = conn.Conn().Close(context.Background())
			conn.Release()
		}()
		if f.Revoked != nil {
			if _, err := conn.Exec(ctx, "LISTEN "+revocationChannel); err != nil {
				return err
			}
		}
		if f.CRL != nil {
			if _, err := conn.Exec(ctx, "LISTEN "+crlChannel); err != nil {
				return err
			}
		}
		for {
			n, err := conn.Conn().WaitForNotification(ctx)
			if err != nil {
				return err
			}
			switch n.Channel {
			case revocationChannel:
				issuer, serialHex, ok := strings.Cut(n.Payload, " ")
				if !ok {
					continue
				}
				if serial, err := store.ParseSerial(serialHex); err == nil {
					f.Revoked(issuer, serial)
				}
			case crlChannel:
				f.CRL(n.Payload)
			}
		}
	}))
}

// ListenRevocations is Listen for revocations only.
func (s *Store) ListenRevocations(ctx context.Context, fn func(issuer string, serial *big.Int)) error {
	return s.Listen(ctx, Feed{Revoked: fn})
}

// RevokedSince returns the records revoked at or after since (by their
// revocation time), and those whose hold was lifted since (now valid),
// for a replica catching up on notifications it missed.
func (s *Store) RevokedSince(ctx context.Context, since time.Time) ([]*store.CertRecord, error) {
	return queryAll(ctx, s, "revoked since "+since.UTC().Format(time.RFC3339), scanRecord,
		`SELECT `+recordColumns+` FROM certs WHERE status = 'revoked' AND revoked_at >= $1
			UNION ALL SELECT `+recordColumns+` FROM certs WHERE hold_released_at >= $1 AND status = 'valid'`, since)
}
