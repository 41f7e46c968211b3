package cms

import (
	"bytes"
	"errors"
	"testing"
)

func TestCipherAccessors(t *testing.T) {
	tests := []struct {
		name    string
		c       Cipher
		want    string
		oid     string
		keySize int
	}{
		{name: "ok/aes128", c: AES128CBC, want: "aes128-cbc", oid: "2.16.840.1.101.3.4.1.2", keySize: 16},
		{name: "ok/aes192", c: AES192CBC, want: "aes192-cbc", oid: "2.16.840.1.101.3.4.1.22", keySize: 24},
		{name: "ok/aes256", c: AES256CBC, want: "aes256-cbc", oid: "2.16.840.1.101.3.4.1.42", keySize: 32},
		{name: "ok/des-ede3", c: DESEDE3CBC, want: "des-ede3-cbc", oid: "1.2.840.113549.3.7", keySize: 24},
		{name: "ok/des", c: DESCBC, want: "des-cbc", oid: "1.3.14.3.2.7", keySize: 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.c.Name() != tt.want || tt.c.OID().String() != tt.oid || tt.c.KeySize() != tt.keySize {
				t.Fatalf("got %s %s %d, want %s %s %d", tt.c.Name(), tt.c.OID(), tt.c.KeySize(), tt.want, tt.oid, tt.keySize)
			}
			oid := tt.c.OID()
			oid[0] = 9
			if tt.c.OID().String() != tt.oid {
				t.Fatal("changing OID's result changed the Cipher")
			}
		})
	}
}

func TestUnpad(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		bs   int
		want string
		err  error
	}{
		{name: "ok/one byte", in: []byte("abcdefg\x01"), bs: 8, want: "abcdefg"},
		{name: "ok/full block", in: []byte("abcdefgh\x08\x08\x08\x08\x08\x08\x08\x08"), bs: 8, want: "abcdefgh"},
		{name: "ok/aes block", in: append([]byte("0123456789"), bytes.Repeat([]byte{6}, 6)...), bs: 16, want: "0123456789"},
		{name: "fail/zero", in: []byte("abcdefg\x00"), bs: 8, err: ErrPadding},
		{name: "fail/longer than a block", in: []byte("abcdefg\x09"), bs: 8, err: ErrPadding},
		{name: "fail/inconsistent", in: []byte("abcdef\x01\x02"), bs: 8, err: ErrPadding},
		{name: "fail/empty", in: nil, bs: 8, err: ErrPadding},
		{name: "fail/partial block", in: []byte("abc\x01"), bs: 8, err: ErrPadding},
		{name: "fail/zero block size", in: []byte("abcdefg\x01"), bs: 0, err: ErrPadding},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Unpad(tt.in, tt.bs)
			if !errors.Is(err, tt.err) || string(got) != tt.want {
				t.Fatalf("Unpad = %q, %v; want %q, %v", got, err, tt.want, tt.err)
			}
		})
	}
}

func TestPadRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		n    int
	}{
		{name: "ok/empty", n: 0},
		{name: "ok/one byte", n: 1},
		{name: "ok/one short of a block", n: 15},
		{name: "ok/one block", n: 16},
		{name: "ok/one over a block", n: 17},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := bytes.Repeat([]byte{'x'}, tt.n)
			padded := pad(in, 16)
			if len(padded)%16 != 0 || len(padded) <= tt.n || len(padded) > tt.n+16 {
				t.Fatalf("pad(%d bytes) is %d bytes", tt.n, len(padded))
			}
			got, err := Unpad(padded, 16)
			if err != nil || !bytes.Equal(got, in) {
				t.Fatalf("Unpad(pad(%d bytes)) = %q, %v", tt.n, got, err)
			}
		})
	}
}
