// Package storetest is the conformance suite every store.Store backend runs,
// so that enroll, the CLI and the API can rely on one behaviour whether the
// records live in bbolt or PostgreSQL.
//
// Contract checked here, beyond the store.Store doc comments:
//   - Reserve stores status reserved whatever r.Status says, and Issue
//     stores status valid; neither keeps a reference to r.
//   - Issue keeps the reservation's CreatedAt when r.CreatedAt is zero and
//     sets IssuedAt when it is zero; it needs DER.
//   - Serials are positive and at most 20 octets (RFC 5280 §4.1.2.2);
//     anything else is ErrInvalid on write, and a longer serial is
//     ErrNotFound on read. Unknown revocation reasons, removeFromCRL, a bad
//     cursor or status are ErrInvalid.
//   - Results are ordered, and the Query.After cursor compared, by the
//     serial's numeric value.
//   - A cancelled context fails the call with the context's error and
//     writes nothing; after Close every call fails with ErrClosed.
//   - Times survive to the second; instants are compared, not zones.
package storetest

import (
	"bytes"
	"fmt"
	"math/big"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/certgate/certgate/store"
)

// Run runs the suite. open must return a new, empty store each time it is
// called; Run closes every store it opens when the subtest using it ends.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	s := suite{open: open}
	t.Run("lifecycle", s.testLifecycle)
	t.Run("errors", s.testErrors)
	t.Run("invalid", s.testInvalid)
	t.Run("revoke", s.testRevoke)
	t.Run("search", s.testSearch)
	t.Run("search exact", s.testSearchExact)
	t.Run("paginate", s.testPaginate)
	t.Run("concurrent", s.testConcurrent)
	t.Run("closed", s.testClosed)
}

type suite struct {
	open func(t *testing.T) store.Store
}

// fresh opens an empty store that is closed when t ends.
func (s suite) fresh(t *testing.T) store.Store {
	t.Helper()
	st := s.open(t)
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return st
}

// base is a whole second, so every backend can keep it exactly.
var base = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

// reservation is what enroll records before signing.
func reservation(serial *big.Int) *store.CertRecord {
	return &store.CertRecord{
		Serial:        serial,
		Issuer:        "local-ca",
		Subject:       "CN=Laptop-0042,OU=Devices,O=Example Corp",
		CommonName:    "Laptop-0042",
		NotBefore:     base.Add(-5 * time.Minute),
		NotAfter:      base.Add(365 * 24 * time.Hour),
		Profile:       "device",
		Protocol:      "scep",
		TransactionID: "3f1c0a9e-tx",
		RequesterAddr: "192.0.2.10:51514",
		Status:        store.StatusReserved,
		CreatedAt:     base,
	}
}

// issued is the record enroll stores once the certificate is signed; every
// field that Issue keeps is set.
func issued(serial *big.Int) *store.CertRecord {
	r := reservation(serial)
	r.DNSNames = []string{"laptop-0042.example.com", "laptop-0042"}
	r.EmailAddrs = []string{"it@example.com"}
	r.URIs = []string{"urn:uuid:8d3b2f6e-4c1a-4e5b-9a77-1f0e2d3c4b5a"}
	r.UPNs = []string{"laptop-0042$@example.com"}
	// A zone other than UTC: backends must keep the instant.
	r.NotBefore = r.NotBefore.In(time.FixedZone("CET", 3600))
	r.DeviceID = "device-7f3e"
	r.RenewalOf = "1a2b3c"
	r.Status = store.StatusValid
	r.IssuedAt = base.Add(2 * time.Second)
	r.DER = []byte{0x30, 0x82, 0x01, 0x0a, 0x00, 0xff, 0x00, 0x01, 0x80, 0x7f}
	return r
}

// serial parses a test serial written in hex.
func serial(t *testing.T, hex string) *big.Int {
	t.Helper()
	n, ok := new(big.Int).SetString(hex, 16)
	if !ok {
		t.Fatalf("storetest: bad test serial %q", hex)
	}
	return n
}

// checkRecord fails t if got differs from want in any field.
func checkRecord(t *testing.T, got, want *store.CertRecord) {
	t.Helper()
	if got == nil {
		t.Fatalf("record %s: got nil", want.SerialHex)
	}
	for _, d := range diffRecord(want, got) {
		t.Errorf("record %s: %s", want.SerialHex, d)
	}
}

// diffRecord compares field by field through reflection, so a field added
// to CertRecord is checked without editing the suite. Times compare as
// instants; a nil and an empty slice are equal (JSON omitempty, SQL NULL).
func diffRecord(want, got *store.CertRecord) []string {
	var diffs []string
	wv, gv := reflect.ValueOf(want).Elem(), reflect.ValueOf(got).Elem()
	for i := range wv.NumField() {
		name := wv.Type().Field(i).Name
		w, g := wv.Field(i).Interface(), gv.Field(i).Interface()
		var same bool
		switch w := w.(type) {
		case time.Time:
			same = w.Equal(g.(time.Time))
		case *big.Int:
			g := g.(*big.Int)
			same = (w == nil && g == nil) || (w != nil && g != nil && w.Cmp(g) == 0)
		case []string:
			same = slices.Equal(w, g.([]string))
		case []byte:
			same = bytes.Equal(w, g.([]byte))
		default:
			same = reflect.DeepEqual(w, g)
		}
		if !same {
			diffs = append(diffs, name+": got "+show(g)+", want "+show(w))
		}
	}
	return diffs
}

func show(v any) string {
	switch v := v.(type) {
	case time.Time:
		return v.Format(time.RFC3339Nano)
	case *big.Int:
		return store.SerialHex(v)
	}
	return fmt.Sprintf("%#v", v)
}
