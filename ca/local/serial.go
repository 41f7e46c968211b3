package local

import (
	"errors"
	"fmt"
	"io"
	"math/big"
)

// serialBytes is the RFC 5280 §4.1.2.2 maximum of 20 octets. With the top
// bit cleared the DER INTEGER needs no leading zero and stays within it,
// and the serial carries 159 random bits, well over the 64 the CA/Browser
// baseline asks for and the 128 the store assumes.
const serialBytes = 20

// maxSerialDraws bounds the retry on a zero serial; only a broken random
// source draws zero twice.
const maxSerialDraws = 4

// randomSerial draws a positive 159-bit serial from r.
func randomSerial(r io.Reader) (*big.Int, error) {
	b := make([]byte, serialBytes)
	for range maxSerialDraws {
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, fmt.Errorf("ca: local: serial: %w", err)
		}
		b[0] &= 0x7f
		if n := new(big.Int).SetBytes(b); n.Sign() > 0 {
			return n, nil
		}
	}
	return nil, errors.New("ca: local: serial: random source keeps returning zero")
}
