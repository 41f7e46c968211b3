package postgres

import (
	"bytes"
	"context"
	"math/big"
	"reflect"
	"testing"
	"time"

	"github.com/certgate/certgate/store"
)

// TestEveryFieldStored guards the typed schema against a field added to
// store.CertRecord without a column: the bbolt backend stores its records
// as JSON and keeps any new field, this one would silently drop it. Every
// field is set to a non-zero value by reflection, so a new field is
// checked without editing this test; a field of a kind it cannot fill
// fails it, asking for a column and a case here.
func TestEveryFieldStored(t *testing.T) {
	s := openTest(t, Options{})
	defer s.Close()
	ctx := context.Background()
	sn := bigSerial(0xf1e1d5)
	revokedAt := t0.Add(time.Hour)

	r := filledRecord(t, sn)
	if err := s.Reserve(ctx, r); err != nil {
		t.Fatalf("Reserve: %v", err)
	}
	if err := s.Issue(ctx, r); err != nil {
		t.Fatalf("Issue: %v", err)
	}
	if _, err := s.Revoke(ctx, sn, store.ReasonKeyCompromise, revokedAt); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	got, err := s.Cert(ctx, sn)
	if err != nil {
		t.Fatalf("Cert: %v", err)
	}

	want := filledRecord(t, sn)
	want.Status, want.RevokedAt, want.RevocationReason = store.StatusRevoked, revokedAt, store.ReasonKeyCompromise
	wv, gv := reflect.ValueOf(want).Elem(), reflect.ValueOf(got).Elem()
	for i := range wv.NumField() {
		name := wv.Type().Field(i).Name
		w, g := wv.Field(i).Interface(), gv.Field(i).Interface()
		var same bool
		switch w := w.(type) {
		case time.Time:
			same = w.Equal(g.(time.Time))
		case []byte:
			same = bytes.Equal(w, g.([]byte))
		case *big.Int:
			same = w.Cmp(g.(*big.Int)) == 0
		default:
			same = reflect.DeepEqual(w, g)
		}
		if !same {
			t.Errorf("CertRecord.%s: stored %#v, read back %#v (does it have a column?)", name, w, g)
		}
	}
}

// filledRecord returns a record for Issue in which every field is non-zero
// and differs from the others.
func filledRecord(t *testing.T, sn *big.Int) *store.CertRecord {
	t.Helper()
	r := &store.CertRecord{Serial: sn, SerialHex: store.SerialHex(sn), Status: store.StatusValid}
	v := reflect.ValueOf(r).Elem()
	for i := range v.NumField() {
		f, name := v.Field(i), v.Type().Field(i).Name
		if !f.IsZero() {
			continue
		}
		switch f.Interface().(type) {
		case string:
			f.SetString("value of " + name)
		case []string:
			f.Set(reflect.ValueOf([]string{"first " + name, "second " + name}))
		case []byte:
			f.SetBytes([]byte{0x30, byte(i), 0x00, 0xff})
		case time.Time:
			f.Set(reflect.ValueOf(t0.Add(time.Duration(i) * time.Minute)))
		case bool:
			f.SetBool(true)
		case int:
			if name != "RevocationReason" {
				f.SetInt(int64(100 + i))
			}
			// RevocationReason: Issue clears it; the test revokes.
		default:
			t.Fatalf("CertRecord.%s is a %s, which this test cannot fill: give it a column in migrations/ and a case here", name, f.Type())
		}
	}
	return r
}
