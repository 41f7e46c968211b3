package enroll

import (
	"context"
	"math/big"
	"time"

	"github.com/rs/zerolog"

	"github.com/certgate/certgate/store"
	"github.com/certgate/certgate/validate"
)

// Revoker revokes a certificate and keeps OCSP and CRLs in step.
type Revoker interface {
	Revoke(ctx context.Context, serial *big.Int, reason int, at time.Time) (*store.CertRecord, error)
}

// notifyTimeout bounds the notification when the request's own deadline
// has already run out: the MDM must still hear about the outcome.
const notifyTimeout = 30 * time.Second

// notify tells the profile's Notifier how an issuance it allowed ended.
// A failed issuance is reported best effort. A success the MDM does not
// acknowledge is undone: the certificate is revoked (cessationOfOperation)
// and the requester gets a failure, because a certificate the MDM does not
// know of is one it can never revoke.
func (s *Service) notify(ctx context.Context, p *Profile, vr *validate.Request, res *Result, issueErr error) (*Result, error) {
	log := zerolog.Ctx(ctx)
	nctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), notifyTimeout)
	defer cancel()
	if issueErr != nil {
		if err := p.Notifier.Notify(nctx, vr, nil, issueErr); err != nil {
			log.Warn().Err(err).Msg("enroll: failure notification not delivered")
		}
		return nil, issueErr
	}
	if err := p.Notifier.Notify(nctx, vr, res.Cert, nil); err != nil {
		log.Error().Err(err).Str("serial", res.Record.SerialHex).Msg("enroll: success notification failed; revoking the certificate")
		if _, rerr := s.revoker.Revoke(nctx, res.Cert.SerialNumber, store.ReasonCessationOfOperation, s.now()); rerr != nil {
			log.Error().Err(rerr).Str("serial", res.Record.SerialHex).Msg("enroll: could not revoke the unacknowledged certificate")
		}
		return nil, fail(Unavailable, "the MDM did not acknowledge the certificate; it was revoked", err)
	}
	return res, nil
}
