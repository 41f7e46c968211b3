package crl

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/certgate/certgate/store"
)

// Issuer is the CA whose CRL is built; ca/local's *CA implements it.
type Issuer interface {
	// Name is the CA name records carry in CertRecord.Issuer, and the
	// <name> of /crl/<name>.crl.
	Name() string
	// Certificate is the CRL issuer: the certificate that signed the
	// leaves. It must allow cRLSign and carry a subject key identifier.
	Certificate() *x509.Certificate
	// Signer is Certificate's private key.
	Signer() crypto.Signer
}

// RevokedSource is the part of store.Store the builder reads.
type RevokedSource interface {
	Search(ctx context.Context, q store.Query) ([]*store.CertRecord, error)
}

// Options configures NewBuilder and NewScheduler. Zero values take the
// documented defaults; CA, Source and Numbers are required, and Cache too
// for NewScheduler.
type Options struct {
	// CA is the issuer whose CRL is built.
	CA Issuer
	// PublicURL is the base URL clients reach certgate at, the same value
	// ca/local.Options.PublicURL was given; the Issuing Distribution Point
	// is PublicURL + "/crl/" + CA.Name() + ".crl" after trailing slashes
	// are removed, which is the leaves' CRL distribution point. Zero means
	// the CRL carries no IDP, matching leaves issued without a CDP.
	PublicURL string
	// Source finds the revoked records.
	Source RevokedSource
	// Cache keeps the signed CRL across restarts (NewScheduler only).
	Cache store.Cache
	// Shared, if set, is a cache the replicas of one CA share
	// (NewScheduler only). Then only the replica whose Scheduler is in
	// Run, the leader, builds: it publishes each CRL there, and the
	// others serve what it published (Sync) instead of signing their own,
	// so every replica serves the same CRL and numbers never go back.
	Shared store.Cache
	// Numbers hands out CRL numbers under the name "crl/<CA name>".
	Numbers store.Sequencer
	// Validity is nextUpdate - thisUpdate. Zero means 24h: relying parties
	// may cache a CRL that long, so a shorter one spreads revocations
	// faster at the cost of more downloads and more signing.
	Validity time.Duration
	// Debounce is how long the Scheduler waits after a Trigger before it
	// rebuilds, so a burst of revocations (an MDM retiring a fleet) costs
	// one signature. Zero means 5s.
	Debounce time.Duration
	// Now is the clock. Nil means time.Now; tests inject a fixed clock.
	Now func() time.Time
	// Log receives build and serve errors and one line per build. The zero
	// Logger discards everything.
	Log zerolog.Logger
	// Metrics, if not nil, records builds; see NewMetrics.
	Metrics *Metrics
}

// Defaults for zero Options fields.
const (
	DefaultValidity = 24 * time.Hour
	DefaultDebounce = 5 * time.Second
)

// minValidity keeps a typo ("24" read as nanoseconds) from making the
// scheduler sign without pause.
const minValidity = time.Minute

// withDefaults validates o and fills in the defaults; the error names the
// field.
func (o Options) withDefaults() (Options, error) {
	if o.CA == nil {
		return o, errors.New("crl: Options.CA is required")
	}
	if o.Source == nil {
		return o, errors.New("crl: Options.Source is required")
	}
	if o.Numbers == nil {
		return o, errors.New("crl: Options.Numbers is required")
	}
	name := o.CA.Name()
	if name == "" || strings.ContainsAny(name, "/?#%") {
		return o, fmt.Errorf("crl: CA name %q cannot be a URL path segment", name)
	}
	if err := checkIssuer(o.CA); err != nil {
		return o, fmt.Errorf("crl: CA %s: %w", name, err)
	}
	switch {
	case o.Validity == 0:
		o.Validity = DefaultValidity
	case o.Validity < minValidity:
		return o, fmt.Errorf("crl: Options.Validity %s is below %s", o.Validity, minValidity)
	}
	switch {
	case o.Debounce == 0:
		o.Debounce = DefaultDebounce
	case o.Debounce < 0:
		return o, fmt.Errorf("crl: Options.Debounce %s is negative", o.Debounce)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o, nil
}

// checkIssuer refuses a CA that x509.CreateRevocationList would refuse at
// every build, so the mistake shows at startup instead of in a retry loop.
func checkIssuer(ca Issuer) error {
	cert, signer := ca.Certificate(), ca.Signer()
	switch {
	case cert == nil:
		return errors.New("no certificate")
	case signer == nil:
		return errors.New("no signer")
	case cert.KeyUsage != 0 && cert.KeyUsage&x509.KeyUsageCRLSign == 0:
		return errors.New("certificate does not allow cRLSign")
	case len(cert.SubjectKeyId) == 0:
		return errors.New("certificate has no subject key identifier, which the CRL's authority key identifier needs")
	}
	pub, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return errors.New("signer does not match the certificate's public key")
	}
	return nil
}

// distributionPoint returns the URL ca/local writes into leaf CDPs for the
// CA name under publicURL, or "" without a publicURL. It must stay the
// same computation as ca/local's, which trims trailing slashes.
func distributionPoint(publicURL, name string) (string, error) {
	if publicURL == "" {
		return "", nil
	}
	base := strings.TrimRight(publicURL, "/")
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("crl: public URL %q is not an http(s) base URL like http://host:8080", publicURL)
	}
	dp := base + "/crl/" + name + ".crl"
	for i := 0; i < len(dp); i++ {
		// GeneralName uniformResourceIdentifier is an IA5String.
		if dp[i] >= 0x80 {
			return "", fmt.Errorf("crl: distribution point %q is not ASCII", dp)
		}
	}
	return dp, nil
}
