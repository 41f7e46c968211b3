package ocsp

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/certgate/certgate/store"
	xocsp "golang.org/x/crypto/ocsp"
)

// CertSource is the one store lookup the responder needs; store.Store
// satisfies it.
type CertSource interface {
	// Cert returns the record with that serial or store.ErrNotFound.
	Cert(ctx context.Context, serial *big.Int) (*store.CertRecord, error)
}

// maxSerialLen is RFC 5280 §4.1.2.2's 20 octets: no CA of ours issues a
// longer serial, so the store is not asked about one.
const maxSerialLen = 20

// certState is what a response asserts about one certificate.
type certState struct {
	status    int // xocsp.Good, Revoked or Unknown
	revokedAt time.Time
	reason    int
	notAfter  time.Time // the certificate's; zero when unknown
	// maxValidity bounds the response's validity when positive
	// (Options.ValidityFor).
	maxValidity time.Duration
}

// lookup reads serial's status for the CA named ca. RFC 6960 §2.2:
// "unknown" is for a serial this CA never issued or has not finished
// issuing (reserved), and for one another CA issued. bound, if not nil,
// gives a good or revoked certificate's maxValidity.
func lookup(ctx context.Context, src CertSource, ca string, serial *big.Int, bound func(*store.CertRecord) time.Duration) (certState, error) {
	if serial.Sign() <= 0 || len(serial.Bytes()) > maxSerialLen {
		return certState{status: xocsp.Unknown}, nil
	}
	rec, err := src.Cert(ctx, serial)
	if errors.Is(err, store.ErrNotFound) {
		return certState{status: xocsp.Unknown}, nil
	}
	if err != nil {
		return certState{}, fmt.Errorf("ocsp: status of %s/%s: %w", ca, store.SerialHex(serial), err)
	}
	if rec.Issuer != ca {
		return certState{status: xocsp.Unknown}, nil
	}
	var state certState
	switch rec.Status {
	case store.StatusValid:
		state = certState{status: xocsp.Good, notAfter: rec.NotAfter}
	case store.StatusRevoked:
		state = certState{status: xocsp.Revoked, revokedAt: rec.RevokedAt, reason: rec.RevocationReason, notAfter: rec.NotAfter}
	default:
		return certState{status: xocsp.Unknown}, nil
	}
	if bound != nil {
		state.maxValidity = bound(rec)
	}
	return state, nil
}

// statusName is the metric label and store.Blob.Status of an OCSP status.
func statusName(status int) string {
	switch status {
	case xocsp.Good:
		return "good"
	case xocsp.Revoked:
		return "revoked"
	}
	return "unknown"
}
