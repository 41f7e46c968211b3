package postgres

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/certgate/certgate/store"
)

// serialKeyLen is the fixed width of the serial column: RFC 5280
// §4.1.2.2's 20 octets, left-padded so that bytea order is numeric order.
const serialKeyLen = 20

// serialKey encodes a positive serial of at most 20 bytes; ok is false for
// anything else.
func serialKey(serial *big.Int) (key []byte, ok bool) {
	if serial == nil || serial.Sign() <= 0 || serial.BitLen() > 8*serialKeyLen {
		return nil, false
	}
	key = make([]byte, serialKeyLen)
	serial.FillBytes(key)
	return key, true
}

// writableSerialKey is the key a new record is filed under; any serial that
// cannot be stored is ErrInvalid.
func writableSerialKey(serial *big.Int) ([]byte, error) {
	if serial == nil || serial.Sign() <= 0 {
		return nil, fmt.Errorf("serial must be a positive integer: %w", store.ErrInvalid)
	}
	sk, ok := serialKey(serial)
	if !ok {
		return nil, fmt.Errorf("serial is %d bytes, RFC 5280 allows at most %d: %w", (serial.BitLen()+7)/8, serialKeyLen, store.ErrInvalid)
	}
	return sk, nil
}

// readableSerialKey is like writableSerialKey, except that a serial too long
// to store is ErrNotFound: it is well-formed, there is just no such record.
func readableSerialKey(serial *big.Int) ([]byte, error) {
	if serial == nil || serial.Sign() <= 0 {
		return nil, fmt.Errorf("serial must be a positive integer: %w", store.ErrInvalid)
	}
	sk, ok := serialKey(serial)
	if !ok {
		return nil, store.ErrNotFound
	}
	return sk, nil
}

// serialLabel is how error messages name a serial, including a missing one.
func serialLabel(serial *big.Int) string {
	if serial == nil {
		return "<nil serial>"
	}
	return serial.Text(16)
}

// cleanText makes s storable in a text column: invalid UTF-8 and NUL (which
// PostgreSQL text cannot hold) become U+FFFD, as encoding/json does to
// invalid UTF-8 in the bbolt backend.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	}
	return s
}

// cleanList is cleanText for every element; nil and empty both become an
// empty array, since the columns are NOT NULL.
func cleanList(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = cleanText(s)
	}
	return out
}

// nullTime stores a zero time as NULL.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// fromNull is the inverse of nullTime; times come back in UTC.
func fromNull(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// recordColumns are the certs columns in the order scanRecord reads them.
const recordColumns = `serial, status, issuer, subject, common_name,
	dns_names, email_addrs, uris, upns, not_before, not_after, profile,
	protocol, transaction_id, requester_addr, device_id, created_at,
	issued_at, revoked_at, revocation_reason, renewal_of, der, test,
	escrowed_key`

// recordField is a certs column that Reserve and Issue write from a
// record (every column but serial and status).
type recordField struct {
	column string
	value  func(r *store.CertRecord) any
}

// recordFields lists them. subject_lower is Go's lower-casing of the
// stored subject, so Query.Subject matches exactly as in the bbolt backend
// whatever the database's collation.
var recordFields = []recordField{
	{"issuer", func(r *store.CertRecord) any { return cleanText(r.Issuer) }},
	{"subject", func(r *store.CertRecord) any { return cleanText(r.Subject) }},
	{"subject_lower", func(r *store.CertRecord) any { return strings.ToLower(cleanText(r.Subject)) }},
	{"common_name", func(r *store.CertRecord) any { return cleanText(r.CommonName) }},
	{"dns_names", func(r *store.CertRecord) any { return cleanList(r.DNSNames) }},
	{"email_addrs", func(r *store.CertRecord) any { return cleanList(r.EmailAddrs) }},
	{"uris", func(r *store.CertRecord) any { return cleanList(r.URIs) }},
	{"upns", func(r *store.CertRecord) any { return cleanList(r.UPNs) }},
	{"not_before", func(r *store.CertRecord) any { return r.NotBefore }},
	{"not_after", func(r *store.CertRecord) any { return r.NotAfter }},
	{"profile", func(r *store.CertRecord) any { return cleanText(r.Profile) }},
	{"protocol", func(r *store.CertRecord) any { return cleanText(r.Protocol) }},
	{"transaction_id", func(r *store.CertRecord) any { return cleanText(r.TransactionID) }},
	{"requester_addr", func(r *store.CertRecord) any { return cleanText(r.RequesterAddr) }},
	{"device_id", func(r *store.CertRecord) any { return cleanText(r.DeviceID) }},
	{"created_at", func(r *store.CertRecord) any { return r.CreatedAt }},
	{"issued_at", func(r *store.CertRecord) any { return nullTime(r.IssuedAt) }},
	{"revoked_at", func(r *store.CertRecord) any { return nullTime(r.RevokedAt) }},
	{"revocation_reason", func(r *store.CertRecord) any { return r.RevocationReason }},
	{"renewal_of", func(r *store.CertRecord) any { return cleanText(r.RenewalOf) }},
	{"der", func(r *store.CertRecord) any { return r.DER }},
	{"test", func(r *store.CertRecord) any { return r.Test }},
	{"escrowed_key", func(r *store.CertRecord) any { return r.EscrowedKey }},
}

// writeSQL builds the statement writing fields of a record under $1, and
// returns it with the record's values for $2 onwards. Reserve inserts
// every field with status reserved; Issue updates a reservation to valid,
// keeping its created_at.
func writeSQL(r *store.CertRecord, sk []byte, insert bool) (string, []any) {
	var cols, placeholders, sets []string
	args := []any{sk}
	for _, f := range recordFields {
		if !insert && f.column == "created_at" {
			continue
		}
		args = append(args, f.value(r))
		p := "$" + strconv.Itoa(len(args))
		cols, placeholders = append(cols, f.column), append(placeholders, p)
		sets = append(sets, f.column+" = "+p)
	}
	if insert {
		return "INSERT INTO certs (serial, status, " + strings.Join(cols, ", ") + ") VALUES ($1, 'reserved', " +
			strings.Join(placeholders, ", ") + ")", args
	}
	return "UPDATE certs SET status = 'valid', " + strings.Join(sets, ", ") +
		" WHERE serial = $1 AND status = 'reserved'", args
}

// scanRecord reads one row of recordColumns.
func scanRecord(row pgx.Row) (*store.CertRecord, error) {
	var (
		r                            store.CertRecord
		sk                           []byte
		status                       string
		notBefore, notAfter, created time.Time
		issuedAt, revokedAt          *time.Time
		reason                       int16
	)
	err := row.Scan(&sk, &status, &r.Issuer, &r.Subject, &r.CommonName,
		&r.DNSNames, &r.EmailAddrs, &r.URIs, &r.UPNs, &notBefore, &notAfter, &r.Profile,
		&r.Protocol, &r.TransactionID, &r.RequesterAddr, &r.DeviceID, &created,
		&issuedAt, &revokedAt, &reason, &r.RenewalOf, &r.DER, &r.Test,
		&r.EscrowedKey)
	if err != nil {
		return nil, err
	}
	if len(sk) != serialKeyLen {
		return nil, fmt.Errorf("stored serial %x is %d bytes, want %d", sk, len(sk), serialKeyLen)
	}
	r.Serial = new(big.Int).SetBytes(sk)
	r.SerialHex = store.SerialHex(r.Serial)
	r.Status = store.Status(status)
	r.NotBefore, r.NotAfter, r.CreatedAt = notBefore.UTC(), notAfter.UTC(), created.UTC()
	r.IssuedAt, r.RevokedAt = fromNull(issuedAt), fromNull(revokedAt)
	r.RevocationReason = int(reason)
	if len(r.DER) == 0 {
		r.DER = nil
	}
	if len(r.EscrowedKey) == 0 {
		r.EscrowedKey = nil
	}
	for _, list := range []*[]string{&r.DNSNames, &r.EmailAddrs, &r.URIs, &r.UPNs} {
		if len(*list) == 0 {
			// As the bbolt backend returns them (JSON omitempty).
			*list = nil
		}
	}
	return &r, nil
}
