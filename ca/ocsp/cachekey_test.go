package ocsp

import (
	"crypto/rand"
	"math/big"
	"testing"

	"github.com/certgate/certgate/store"
)

// TestCacheKey pins the key format, which is stored: the hand-written hex
// must equal store.SerialHex, and parseCacheKey must invert it.
func TestCacheKey(t *testing.T) {
	max20 := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 160), big.NewInt(1))
	tests := []struct {
		name   string
		serial *big.Int
		h      hashAlg
		want   string
	}{
		{"ok/one", big.NewInt(1), hashSHA1, "corp/1"},
		{"ok/leading zero nibble", big.NewInt(0x0abc), hashSHA1, "corp/abc"},
		{"ok/zero inside", big.NewInt(0x1000f), hashSHA256, "corp/1000f/sha256"},
		{"ok/20 octets", max20, hashSHA1, "corp/" + max20.Text(16)},
		{"ok/21 octets", new(big.Int).Lsh(big.NewInt(1), 160), hashSHA1, "corp/10000000000000000000000000000000000000000"},
		{"ok/zero", big.NewInt(0), hashSHA1, "corp/0"},
		{"ok/negative", big.NewInt(-5), hashSHA1, "corp/-5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cacheKey("corp", tt.serial, tt.h); got != tt.want {
				t.Errorf("cacheKey = %q, want %q", got, tt.want)
			}
		})
	}
	for i := range 1000 {
		serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), uint(1+i%160)))
		if err != nil {
			t.Fatal(err)
		}
		serial.Add(serial, big.NewInt(1))
		key := cacheKey("ca-1", serial, hashAlg(i%2))
		want := "ca-1/" + store.SerialHex(serial)
		if i%2 == 1 {
			want += sha256KeySuffix
		}
		if key != want {
			t.Fatalf("cacheKey(%x) = %q, want %q", serial, key, want)
		}
		ca, s, h, ok := parseCacheKey(key)
		if !ok || ca != "ca-1" || s.Cmp(serial) != 0 || h != hashAlg(i%2) {
			t.Fatalf("parseCacheKey(%q) = %s %x %d %v", key, ca, s, h, ok)
		}
	}
}
