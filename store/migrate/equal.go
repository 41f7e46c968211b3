package migrate

import (
	"bytes"
	"slices"
	"strings"
	"time"

	"github.com/certgate/certgate/store"
)

// ConflictError is an item present in the target but different from the
// source's. It matches store.ErrConflict with errors.Is.
type ConflictError struct {
	// Kind is "record", "request", "token", "challenge" or "static secret".
	Kind string
	// ID names the item: a serial in hex, a request or token ID, or a
	// profile (challenges and static secrets are never named by hash).
	ID string
	// Fields lists the fields that differ, by their JSON names; empty when
	// the target holds a different item under the same unique key (a
	// token with the same hash, a request with the same profile and key).
	Fields []string
	// Detail says more when Fields is empty.
	Detail string
}

// Error names the item and the differing fields, never their values,
// which may be secret hashes or sealed keys.
func (e *ConflictError) Error() string {
	msg := "migrate: " + e.Kind + " " + e.ID + " is in the target but differs from the source"
	if len(e.Fields) > 0 {
		msg += " (" + strings.Join(e.Fields, ", ") + ")"
	}
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg + "; nothing was written over it"
}

// Unwrap makes errors.Is(err, store.ErrConflict) hold.
func (e *ConflictError) Unwrap() error { return store.ErrConflict }

// differ collects the names of differing fields.
type differ []string

func (d *differ) text(name, a, b string) {
	if normText(a) != normText(b) {
		*d = append(*d, name)
	}
}

// ident compares a string that no backend alters (an ID, a profile, a
// hash): PostgreSQL refuses one it cannot store rather than cleaning it.
func (d *differ) ident(name, a, b string) {
	if a != b {
		*d = append(*d, name)
	}
}

func (d *differ) list(name string, a, b []string) {
	if !slices.EqualFunc(a, b, func(x, y string) bool { return normText(x) == normText(y) }) {
		*d = append(*d, name)
	}
}

func (d *differ) time(name string, a, b time.Time) {
	if !normTime(a).Equal(normTime(b)) {
		*d = append(*d, name)
	}
}

func (d *differ) bytes(name string, a, b []byte) {
	// bytes.Equal treats nil and empty alike.
	if !bytes.Equal(a, b) {
		*d = append(*d, name)
	}
}

func (d *differ) other(name string, equal bool) {
	if !equal {
		*d = append(*d, name)
	}
}

// normText is s as PostgreSQL text holds it (see store/postgres's
// cleanText): invalid UTF-8 and NUL become U+FFFD.
func normText(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// normTime is t at PostgreSQL's microsecond precision. pgx truncates (it
// sends whole microseconds since 2000), and so does Truncate here.
func normTime(t time.Time) time.Time {
	return t.Truncate(time.Microsecond)
}

// recordDiff lists the fields in which a and b differ.
func recordDiff(a, b *store.CertRecord) []string {
	var d differ
	d.other("serial", a.Serial.Cmp(b.Serial) == 0)
	d.text("issuer", a.Issuer, b.Issuer)
	d.text("subject", a.Subject, b.Subject)
	d.text("common_name", a.CommonName, b.CommonName)
	d.list("dns_names", a.DNSNames, b.DNSNames)
	d.list("email_addresses", a.EmailAddrs, b.EmailAddrs)
	d.list("uris", a.URIs, b.URIs)
	d.list("upns", a.UPNs, b.UPNs)
	d.time("not_before", a.NotBefore, b.NotBefore)
	d.time("not_after", a.NotAfter, b.NotAfter)
	d.text("profile", a.Profile, b.Profile)
	d.text("protocol", a.Protocol, b.Protocol)
	d.text("transaction_id", a.TransactionID, b.TransactionID)
	d.text("requester_addr", a.RequesterAddr, b.RequesterAddr)
	d.text("device_id", a.DeviceID, b.DeviceID)
	d.other("status", a.Status == b.Status)
	d.time("created_at", a.CreatedAt, b.CreatedAt)
	d.time("issued_at", a.IssuedAt, b.IssuedAt)
	d.time("revoked_at", a.RevokedAt, b.RevokedAt)
	d.other("revocation_reason", a.RevocationReason == b.RevocationReason)
	d.text("renewal_of", a.RenewalOf, b.RenewalOf)
	d.bytes("der", a.DER, b.DER)
	d.other("test", a.Test == b.Test)
	d.bytes("escrowed_key", a.EscrowedKey, b.EscrowedKey)
	return d
}

// requestDiff lists the fields in which a and b differ.
func requestDiff(a, b *store.PendingRequest) []string {
	var d differ
	d.ident("id", a.ID, b.ID)
	d.ident("profile", a.Profile, b.Profile)
	d.ident("key", a.Key, b.Key)
	d.text("protocol", a.Protocol, b.Protocol)
	d.text("transaction_id", a.TransactionID, b.TransactionID)
	d.text("subject", a.Subject, b.Subject)
	d.bytes("csr", a.CSR, b.CSR)
	d.text("device_id", a.DeviceID, b.DeviceID)
	d.text("requester_addr", a.RequesterAddr, b.RequesterAddr)
	d.other("status", a.Status == b.Status)
	d.time("created_at", a.CreatedAt, b.CreatedAt)
	d.time("decided_at", a.DecidedAt, b.DecidedAt)
	d.text("decided_by", a.DecidedBy, b.DecidedBy)
	d.text("reason", a.Reason, b.Reason)
	d.text("serial", a.Serial, b.Serial)
	return d
}

// tokenDiff lists the fields in which a and b differ.
func tokenDiff(a, b *store.APIToken) []string {
	var d differ
	d.ident("id", a.ID, b.ID)
	d.text("name", a.Name, b.Name)
	d.text("role", a.Role, b.Role)
	d.ident("hash", a.Hash, b.Hash)
	d.time("created_at", a.CreatedAt, b.CreatedAt)
	return d
}

// challengeDiff lists the fields in which a and b differ.
func challengeDiff(a, b *store.Challenge) []string {
	var d differ
	d.ident("profile", a.Profile, b.Profile)
	d.ident("hash", a.Hash, b.Hash)
	d.text("subject", a.Subject, b.Subject)
	d.text("device_id", a.DeviceID, b.DeviceID)
	d.time("created_at", a.CreatedAt, b.CreatedAt)
	d.time("expires_at", a.ExpiresAt, b.ExpiresAt)
	return d
}

// secretDiff lists the fields in which a and b differ.
func secretDiff(a, b store.StaticSecret) []string {
	var d differ
	d.ident("hash", a.Hash, b.Hash)
	d.time("created_at", a.CreatedAt, b.CreatedAt)
	d.time("expires_at", a.ExpiresAt, b.ExpiresAt)
	return d
}

// deviceStateDiff lists the fields in which a and b differ.
func deviceStateDiff(a, b *store.DeviceState) []string {
	var d differ
	d.ident("source", a.Source, b.Source)
	d.ident("key", a.Key, b.Key)
	d.text("state", a.State, b.State)
	d.text("detail", a.Detail, b.Detail)
	d.time("confirmed_at", a.ConfirmedAt, b.ConfirmedAt)
	d.time("checked_at", a.CheckedAt, b.CheckedAt)
	d.time("enrolled_at", a.EnrolledAt, b.EnrolledAt)
	d.list("held", a.Held, b.Held)
	return d
}
