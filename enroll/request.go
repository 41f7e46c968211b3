package enroll

import (
	"context"
	"crypto"
	"crypto/x509"
	"time"

	"github.com/certgate/certgate/ca"
	"github.com/certgate/certgate/store"
	"github.com/certgate/certgate/validate"
)

// Request is one enrollment as a protocol edge hands it over.
type Request struct {
	// Protocol is "scep" or "est"; it labels records, metrics and logs.
	Protocol string
	// Profile names the certificate profile.
	Profile string
	// CSR is the parsed PKCS#10 request; RawCSR its DER.
	CSR    *x509.CertificateRequest
	RawCSR []byte
	// Challenge is the shared secret the requester presented. Never logged.
	Challenge string
	// TransactionID is the SCEP transaction ID (empty for EST).
	TransactionID string
	// RemoteAddr is the requester's address, recorded with the certificate.
	RemoteAddr string
	// RenewalOf, when set, is the certificate that authenticated the request
	// (SCEP RenewalReq signer, EST re-enroll client certificate). Enroll
	// checks that certgate issued it and that it is valid and unrevoked, and
	// then skips the profile's validator.
	RenewalOf *x509.Certificate
	// AuthorizedBy, when set, says the edge already authenticated the
	// requester by something other than a challenge (EST: a TLS client
	// certificate from a configured trusted issuer) and names it for the
	// log. Enroll then skips the profile's validator. Only an edge that
	// verified that credential may set it.
	AuthorizedBy string
	// GeneratedKey is the private key (PKCS#8 DER) the edge generated for
	// the requester (EST serverkeygen). When the profile escrows keys it is
	// sealed into the record before the certificate is returned; otherwise
	// it is ignored. Never logged.
	GeneratedKey []byte
	// Poll marks a requester asking after an earlier request held for
	// approval (SCEP GetCertInitial): CSR is nil, TransactionID finds the
	// request, and PollKey, when set, must be the key of its CSR.
	Poll    bool
	PollKey crypto.PublicKey
	// Test marks an admin's test certificate: recorded as such, and not
	// held for approval (the admin asked for it). Set it only together
	// with AuthorizedBy.
	Test bool
	// MaxValidity, when positive, shortens the certificate's validity
	// below the profile's.
	MaxValidity time.Duration
}

// Result is a successful enrollment. The record is durable when Enroll
// returns it.
type Result struct {
	Cert   *x509.Certificate
	Chain  []*x509.Certificate
	Record *store.CertRecord
}

// Profile pairs a certificate policy with the CA that signs under it and the
// validator that authorises requests for it.
type Profile struct {
	Policy    *ca.Profile
	Issuer    ca.Issuer
	Validator validate.Validator
	// UniqueSubject refuses a new enrollment while a valid certificate of
	// this profile has the same subject; renewals are exempt.
	UniqueSubject bool
	// Escrow, when set, seals server-generated keys into their records.
	// Escrow needs UniqueSubject, so that a subject maps to one key.
	Escrow Sealer
	// Approval holds every new enrollment (not renewals) until an
	// operator approves it; Options.Requests must be set.
	Approval bool
	// Upstream, when set, issues instead of Issuer: the CSR goes to an
	// upstream CA (Issuer still checks the profile's policy).
	Upstream Forwarder
	// Notifier, when set, is told the outcome of every issuance its
	// validator allowed (Intune's success and failure notifications). A
	// failed success notification revokes the certificate (reason
	// cessationOfOperation) and fails the enrollment: the MDM must know
	// every certificate it authorised. Options.Revoker must be set.
	Notifier Notifier
}

// Notifier reports the outcome of an issuance back to the validator's
// source. cert is nil when issuance failed (issueErr says why).
type Notifier interface {
	Notify(ctx context.Context, r *validate.Request, cert *x509.Certificate, issueErr error) error
}

// Sealer encrypts a private key for storage, bound to its serial.
type Sealer interface {
	Seal(serialHex string, key []byte) ([]byte, error)
}
