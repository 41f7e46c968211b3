// Package store defines the durable record of everything certgate issues and
// the Store interface every backend implements (bbolt today, PostgreSQL later).
//
// Policy: a certificate is recorded in two steps. Reserve writes the serial
// and the request's metadata with status reserved before the CA signs
// anything, so a serial can never be handed out twice even across a crash;
// Issue turns the reservation into an issued record, fsync'd, before the
// protocol edge answers. A reservation that never becomes a certificate (the
// process died between the two steps) stays visible as such and is never
// reused.
package store

import (
	"context"
	"errors"
	"math/big"
	"time"
)

// Errors every backend returns, so callers can test them with errors.Is.
var (
	// ErrNotFound: no record with that serial.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: a record with that serial already exists (Reserve) or the
	// record is not in the state the call needs (Issue on a non-reservation).
	ErrConflict = errors.New("store: conflict")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("store: closed")
	// ErrInvalid: the argument can never be stored or matched (a nil or
	// non-positive serial, a serial longer than RFC 5280's 20 octets, an
	// issued record without DER, an unknown revocation reason, a malformed
	// cursor or status), so retrying cannot help.
	ErrInvalid = errors.New("store: invalid argument")
)

// Status is the lifecycle state of a certificate record.
type Status string

// Record states.
const (
	// StatusReserved: serial reserved, certificate not (yet) signed.
	StatusReserved Status = "reserved"
	// StatusValid: issued and not revoked (it may have expired; see NotAfter).
	StatusValid Status = "valid"
	// StatusRevoked: revoked; RevokedAt and RevocationReason are set.
	StatusRevoked Status = "revoked"
)

// ParseStatus accepts the names used on the CLI and in queries; "expired" is
// not a stored status but a query on NotAfter, so it is not accepted here.
func ParseStatus(s string) (Status, error) {
	switch Status(s) {
	case StatusReserved, StatusValid, StatusRevoked:
		return Status(s), nil
	}
	return "", errors.New("store: unknown status " + s + " (want reserved, valid or revoked)")
}

// CertRecord is one certificate (or reservation) as stored. Serial is unique
// across the whole store: certgate draws at least 128 random bits per serial,
// and Reserve rejects a collision, so the CLI can address a record by serial
// alone.
type CertRecord struct {
	Serial *big.Int `json:"-"`
	// SerialHex is Serial in lower-case hex without leading zeros; it is what
	// the CLI and logs show. Backends fill it from Serial.
	SerialHex string `json:"serial"`
	// Issuer is the name of the CA (local or upstream) that signed it.
	Issuer        string    `json:"issuer"`
	Subject       string    `json:"subject"`
	CommonName    string    `json:"common_name"`
	DNSNames      []string  `json:"dns_names,omitempty"`
	EmailAddrs    []string  `json:"email_addresses,omitempty"`
	URIs          []string  `json:"uris,omitempty"`
	UPNs          []string  `json:"upns,omitempty"`
	NotBefore     time.Time `json:"not_before"`
	NotAfter      time.Time `json:"not_after"`
	Profile       string    `json:"profile"`
	Protocol      string    `json:"protocol"`
	TransactionID string    `json:"transaction_id,omitempty"`
	RequesterAddr string    `json:"requester_addr,omitempty"`
	DeviceID      string    `json:"device_id,omitempty"`
	Status        Status    `json:"status"`
	// CreatedAt is when the serial was reserved; IssuedAt when the signed
	// certificate was recorded.
	CreatedAt        time.Time `json:"created_at"`
	IssuedAt         time.Time `json:"issued_at,omitempty"`
	RevokedAt        time.Time `json:"revoked_at,omitempty"`
	RevocationReason int       `json:"revocation_reason,omitempty"`
	// RenewalOf is the serial (hex) of the certificate this one renews, if any.
	RenewalOf string `json:"renewal_of,omitempty"`
	// DER is the signed certificate; empty while reserved.
	DER []byte `json:"der,omitempty"`
	// Test marks a certificate issued by the admin API's test-certificate
	// route, not for a device.
	Test bool `json:"test,omitempty"`
	// EscrowedKey is the certificate's server-generated private key,
	// sealed by ca/escrow, when its profile escrows keys. Never plaintext.
	EscrowedKey []byte `json:"escrowed_key,omitempty"`
}

// Query selects records for Search. Zero fields do not filter.
type Query struct {
	// Status filters on the stored status. Zero means every status except
	// reserved, which only an explicit StatusReserved returns.
	Status Status
	// Profile must match exactly.
	Profile string
	// Subject matches when it is a case-insensitive substring of the
	// record's subject DN.
	Subject string
	// CommonName, if set, must equal the record's CommonName exactly;
	// unlike Subject it is answered from an index, so it stays cheap on
	// a large store (the duplicate-subject check runs it per enrollment).
	CommonName string
	// DeviceID must match exactly.
	DeviceID string
	// ExpiresBefore and ExpiresAfter bound NotAfter (exclusive, inclusive).
	ExpiresBefore time.Time
	ExpiresAfter  time.Time
	// After is a cursor: only records whose serial (hex, as ordered by the
	// backend) sorts after it are returned. Results are ordered by serial.
	After string
	// Limit caps the result; zero means DefaultLimit, negative means no cap.
	Limit int
}

// DefaultLimit is the number of records Search returns when Query.Limit is 0.
const DefaultLimit = 1000

// Store is the durable record of issued certificates. Every method that
// returns nil has made its write durable (fsync'd) before returning.
type Store interface {
	// Reserve records a new serial with status reserved. It returns
	// ErrConflict if the serial exists in any state.
	Reserve(ctx context.Context, r *CertRecord) error
	// Issue completes a reservation: it stores r (DER, validity, status
	// valid) under r.Serial. It returns ErrNotFound if no reservation exists
	// and ErrConflict if the record is not reserved.
	Issue(ctx context.Context, r *CertRecord) error
	// Cert returns the record with that serial or ErrNotFound.
	Cert(ctx context.Context, serial *big.Int) (*CertRecord, error)
	// Revoke marks a valid certificate revoked. Revoking a revoked record is
	// not an error: the first time is kept, and the reason only changes as
	// ReasonReplaces says (to keyCompromise, or from certificateHold to a
	// permanent reason). ErrNotFound for an unknown serial; ErrConflict
	// for a reservation.
	Revoke(ctx context.Context, serial *big.Int, reason int, at time.Time) (*CertRecord, error)
	// Search returns the records matching q, ordered by serial.
	Search(ctx context.Context, q Query) ([]*CertRecord, error)
	// Close flushes and releases the store.
	Close() error
}

// SerialHex formats a serial the way records, logs and the CLI show it.
func SerialHex(serial *big.Int) string {
	if serial == nil {
		return ""
	}
	return serial.Text(16)
}

// ParseSerial parses a serial given as hex (optionally 0x-prefixed or with
// colons, as openssl prints it).
func ParseSerial(s string) (*big.Int, error) {
	clean := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ':' {
			continue
		}
		clean = append(clean, c)
	}
	str := string(clean)
	if len(str) > 2 && (str[:2] == "0x" || str[:2] == "0X") {
		str = str[2:]
	}
	n, ok := new(big.Int).SetString(str, 16)
	if !ok || n.Sign() <= 0 {
		return nil, errors.New("store: serial " + s + " is not a positive hex number")
	}
	return n, nil
}
