package storetest

import (
	"bytes"
	"io"
	"reflect"
	"testing"
	"time"
)

// openFresh opens the db named after t, which is empty, and closes it when
// t ends. It serves the suites whose factory takes a db name.
func openFresh[S io.Closer](t *testing.T, open func(t *testing.T, db string) S) S {
	t.Helper()
	st := open(t, dbName(t))
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return st
}

// reopen closes st and opens its db again, so the caller sees only what
// reached the disk.
func reopen[S io.Closer](t *testing.T, open func(t *testing.T, db string) S, st S, db string) S {
	t.Helper()
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	st = open(t, db)
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("Close after reopen: %v", err)
		}
	})
	return st
}

// diffFields compares two pointers to structs of the same type field by
// field, so a field added to the type is checked without editing the
// suite. Times compare as instants; a nil and an empty byte slice are
// equal (JSON omitempty, SQL NULL).
func diffFields[T any](want, got *T) []string {
	var diffs []string
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
		default:
			same = reflect.DeepEqual(w, g)
		}
		if !same {
			diffs = append(diffs, name+": got "+show(g)+", want "+show(w))
		}
	}
	return diffs
}

// checkFields fails t if got is nil or differs from want in any field.
func checkFields[T any](t *testing.T, what string, got, want *T) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: got nil", what)
	}
	for _, d := range diffFields(want, got) {
		t.Errorf("%s: %s", what, d)
	}
}
