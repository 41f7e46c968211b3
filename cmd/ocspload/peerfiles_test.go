package main

import (
	"math/big"
	"testing"
	"time"
)

func TestIndexLine(t *testing.T) {
	at := time.Date(2027, 1, 2, 3, 4, 5, 0, time.FixedZone("CET", 3600))
	tests := []struct {
		name     string
		serial   *big.Int
		notAfter time.Time
		cn       string
		want     string
	}{
		{"ok/upper-case hex, UTC expiry", big.NewInt(0xabcdef), at, "dev-1", "V\t270102020405Z\t\tABCDEF\tunknown\t/CN=dev-1\n"},
		{"ok/whole octets keep a leading zero nibble", big.NewInt(0x0a1b), at, "d", "V\t270102020405Z\t\t0A1B\tunknown\t/CN=d\n"},
		{"ok/GeneralizedTime from 2050", big.NewInt(1), time.Date(2050, 6, 1, 0, 0, 0, 0, time.UTC), "d", "V\t20500601000000Z\t\t01\tunknown\t/CN=d\n"},
		{"ok/slash in a name is escaped", big.NewInt(1), at, "a/b", "V\t270102020405Z\t\t01\tunknown\t/CN=a\\/b\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := indexLine(tt.serial, tt.notAfter, tt.cn); got != tt.want {
				t.Errorf("indexLine = %q, want %q", got, tt.want)
			}
		})
	}
}
