package ocsp

import (
	"math/big"
	"strings"

	"github.com/certgate/certgate/store"
	xocsp "golang.org/x/crypto/ocsp"
)

// sha256KeySuffix marks the cache key of a response with a SHA-256
// CertID. A response repeats the CertID of its request (RFC 6960
// §4.2.1), and OpenSSL matches it including the hash algorithm, so each
// algorithm has its own pre-signed response; SHA-1, which RFC 5019
// §2.1.1 has clients use, keeps the plain key.
const sha256KeySuffix = "/sha256"

// cacheKey is "<CA name>/<serial hex>" (store.SerialHex), plus
// sha256KeySuffix for a SHA-256 CertID. CA names cannot contain '/'.
func cacheKey(ca string, serial *big.Int, h hashAlg) string {
	var buf [maxKeyLen]byte
	return string(appendCacheKey(buf[:0], ca, serial, h))
}

// maxKeyLen fits the key of a 64-character CA name and a 20-octet serial,
// so the hot path builds keys on the stack.
const maxKeyLen = 64 + 1 + 2*maxSerialLen + len(sha256KeySuffix)

// appendCacheKey appends cacheKey's result to dst. For the serials we
// issue (positive, at most 20 octets) it formats the hex itself, because
// big.Int.Text allocates on every cache hit.
func appendCacheKey(dst []byte, ca string, serial *big.Int, h hashAlg) []byte {
	dst = append(append(dst, ca...), '/')
	if serial.Sign() <= 0 || serial.BitLen() > 8*maxSerialLen {
		dst = append(dst, store.SerialHex(serial)...)
	} else {
		var raw [maxSerialLen]byte
		serial.FillBytes(raw[:])
		const digits = "0123456789abcdef"
		leading := true
		for _, b := range raw {
			for _, nibble := range [2]byte{b >> 4, b & 0xf} {
				if leading && nibble == 0 {
					continue
				}
				leading = false
				dst = append(dst, digits[nibble])
			}
		}
	}
	if h == hashSHA256 {
		dst = append(dst, sha256KeySuffix...)
	}
	return dst
}

// parseCacheKey inverts cacheKey.
func parseCacheKey(key string) (ca string, serial *big.Int, h hashAlg, ok bool) {
	h = hashSHA1
	if k, found := strings.CutSuffix(key, sha256KeySuffix); found {
		key, h = k, hashSHA256
	}
	ca, hex, found := strings.Cut(key, "/")
	if !found || ca == "" {
		return "", nil, 0, false
	}
	serial, err := store.ParseSerial(hex)
	if err != nil || store.SerialHex(serial) != hex {
		return "", nil, 0, false
	}
	return ca, serial, h, true
}

func toBlob(e *entry) *store.Blob {
	return &store.Blob{
		Data:       e.der,
		ThisUpdate: e.thisUpdate,
		NextUpdate: e.nextUpdate,
		RefreshAt:  e.refreshAt,
		Status:     statusName(e.status),
	}
}

// entryFromBlob returns nil for a blob this package did not write, which
// is then ignored and replaced.
func entryFromBlob(b *store.Blob) *entry {
	if b == nil || len(b.Data) == 0 || b.NextUpdate.IsZero() {
		return nil
	}
	var status int
	switch b.Status {
	case "good":
		status = xocsp.Good
	case "revoked":
		status = xocsp.Revoked
	default:
		return nil
	}
	return newEntry(b.Data, status, b.ThisUpdate, b.NextUpdate, b.RefreshAt)
}
