package crl

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"time"

	"github.com/rs/zerolog"

	"github.com/certgate/certgate/store"
)

// Builder signs complete CRLs for one CA. It is safe for concurrent use,
// though each Build draws a CRL number, so callers normally build from
// one place (the Scheduler).
type Builder struct {
	ca       Issuer
	name     string
	source   RevokedSource
	numbers  store.Sequencer
	validity time.Duration
	now      func() time.Time
	log      zerolog.Logger
	metrics  *Metrics
	// exts is the Issuing Distribution Point, or nil without a PublicURL.
	exts []pkix.Extension
}

// NewBuilder checks opts (Cache and Debounce are not used) and returns a
// Builder.
func NewBuilder(opts Options) (*Builder, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	return newBuilder(o)
}

// newBuilder takes Options that withDefaults has checked.
func newBuilder(o Options) (*Builder, error) {
	name := o.CA.Name()
	dp, err := distributionPoint(o.PublicURL, name)
	if err != nil {
		return nil, err
	}
	b := &Builder{
		ca: o.CA, name: name, source: o.Source, numbers: o.Numbers,
		validity: o.Validity, now: o.Now, metrics: o.Metrics,
		log: o.Log.With().Str("ca", name).Logger(),
	}
	if dp != "" {
		ext, err := idpExtension(dp)
		if err != nil {
			return nil, err
		}
		b.exts = []pkix.Extension{ext}
	}
	return b, nil
}

// Name returns the CA name.
func (b *Builder) Name() string { return b.name }

// sequenceName is the store.Sequencer name of this CA's CRL numbers.
func (b *Builder) sequenceName() string { return "crl/" + b.name }

// Build signs a new CRL listing every revoked certificate of the CA that
// has not expired (see the package doc for the grace period) and returns
// it with RefreshAt halfway to NextUpdate. It does not cache it.
func (b *Builder) Build(ctx context.Context) (*store.Blob, error) {
	blob, _, err := b.buildNumbered(ctx)
	return blob, err
}

// buildNumbered is Build that also returns the CRL number.
func (b *Builder) buildNumbered(ctx context.Context) (*store.Blob, uint64, error) {
	blob, entries, number, err := b.build(ctx)
	if err != nil {
		b.metrics.failed(b.name)
		return nil, 0, fmt.Errorf("crl: build %s: %w", b.name, err)
	}
	b.metrics.built(b.name, entries, number)
	b.log.Info().Uint64("crl_number", number).Int("entries", entries).
		Time("next_update", blob.NextUpdate).Msg("crl built")
	return blob, number, nil
}

func (b *Builder) build(ctx context.Context) (blob *store.Blob, entries int, number uint64, err error) {
	// x509 encodes whole seconds; the blob must state the same instants.
	now := b.now().UTC().Truncate(time.Second)
	cutoff := now.Add(-b.validity)
	recs, err := b.source.Search(ctx, store.Query{Status: store.StatusRevoked, ExpiresAfter: cutoff, Limit: -1})
	if err != nil {
		return nil, 0, 0, fmt.Errorf("find revoked certificates: %w", err)
	}
	list := make([]x509.RevocationListEntry, 0, len(recs))
	for _, r := range recs {
		// Re-check what the query asked for: a source may filter loosely,
		// and another CA's serial on this CRL would revoke nothing real
		// but could collide with one of ours.
		if r == nil || r.Issuer != b.name || r.Status != store.StatusRevoked || r.NotAfter.Before(cutoff) {
			continue
		}
		if r.Serial == nil || r.Serial.Sign() <= 0 {
			b.log.Error().Str("serial", r.SerialHex).Msg("revoked record without a usable serial left off the CRL")
			continue
		}
		list = append(list, b.entry(r, now))
	}
	number, err = b.numbers.NextSequence(ctx, b.sequenceName())
	if err != nil {
		return nil, 0, 0, fmt.Errorf("draw CRL number: %w", err)
	}
	tpl := &x509.RevocationList{
		Number:                    new(big.Int).SetUint64(number),
		ThisUpdate:                now,
		NextUpdate:                now.Add(b.validity),
		RevokedCertificateEntries: list,
		ExtraExtensions:           b.exts,
	}
	if _, ok := b.ca.Signer().Public().(*rsa.PublicKey); ok {
		tpl.SignatureAlgorithm = x509.SHA256WithRSA
	}
	der, err := x509.CreateRevocationList(rand.Reader, tpl, b.ca.Certificate(), b.ca.Signer())
	if err != nil {
		return nil, 0, 0, fmt.Errorf("sign CRL number %d: %w", number, err)
	}
	return &store.Blob{
		Data:       der,
		ThisUpdate: tpl.ThisUpdate,
		NextUpdate: tpl.NextUpdate,
		RefreshAt:  now.Add(b.validity / 2),
	}, len(list), number, nil
}

// entry turns a revoked record into a CRL entry.
func (b *Builder) entry(r *store.CertRecord, now time.Time) x509.RevocationListEntry {
	e := x509.RevocationListEntry{SerialNumber: r.Serial, RevocationTime: r.RevokedAt.UTC()}
	if r.RevokedAt.IsZero() {
		// Store.Revoke always sets it; if a record lacks it anyway, the
		// certificate is still revoked, and "now" at least never claims
		// it was revoked before it was.
		b.log.Warn().Str("serial", r.SerialHex).Msg("revoked record has no revocation time, using the CRL's thisUpdate")
		e.RevocationTime = now
	}
	switch code := r.RevocationReason; {
	case code == store.ReasonUnspecified:
		// RFC 5280 §5.3.1: omit reasonCode rather than state unspecified;
		// crypto/x509 omits it for a zero ReasonCode.
	case store.CheckRevokeReason(code) != nil:
		b.log.Warn().Str("serial", r.SerialHex).Int("reason", code).
			Msg("revoked record has a reason a complete CRL cannot carry, listing it without one")
	default:
		e.ReasonCode = code
	}
	return e
}

// matches reports whether der is a CRL this builder could have signed: it
// parses, verifies under the CA's current certificate, and carries the
// Issuing Distribution Point this builder writes. A cached CRL that fails
// (the CA was re-initialised, PublicURL changed) is rebuilt, not served.
// It returns the parsed CRL, which has a CRL number.
func (b *Builder) matches(der []byte) (*x509.RevocationList, error) {
	rl, err := x509.ParseRevocationList(der)
	if err != nil {
		return nil, err
	}
	if err := rl.CheckSignatureFrom(b.ca.Certificate()); err != nil {
		return nil, err
	}
	if rl.Number == nil {
		return nil, fmt.Errorf("no CRL number")
	}
	var got []pkix.Extension
	for _, e := range rl.Extensions {
		if e.Id.Equal(oidIssuingDistributionPoint) {
			got = append(got, e)
		}
	}
	if len(got) != len(b.exts) || (len(got) == 1 && (got[0].Critical != b.exts[0].Critical || !bytes.Equal(got[0].Value, b.exts[0].Value))) {
		return nil, fmt.Errorf("issuing distribution point differs from the configured one")
	}
	return rl, nil
}
