package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/big"
	"math/rand/v2"
	"strings"

	"github.com/certgate/certgate/store"
)

// maxSerialLine bounds one line of a serials file; a serial is at most 20
// octets (40 hex digits, 59 with colons), so anything longer is not one.
const maxSerialLine = 256

// parseSerials reads one hex serial per line (as seed writes them, or as
// openssl prints them, with colons). Blank lines and lines starting with
// '#' are skipped; anything else that is not a positive hex number is an
// error naming its line.
func parseSerials(r io.Reader) ([]*big.Int, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, maxSerialLine), maxSerialLine)
	var out []*big.Int
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		n, err := store.ParseSerial(s)
		if err != nil {
			return nil, fmt.Errorf("ocspload: serials line %d: %w", line, err)
		}
		out = append(out, n)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("ocspload: serials: a line is longer than %d bytes", maxSerialLine)
		}
		return nil, fmt.Errorf("ocspload: serials: %w", err)
	}
	if len(out) == 0 {
		return nil, errors.New("ocspload: serials: no serial in the file")
	}
	return out, nil
}

// sampleSerials picks k distinct entries of all in a random order fixed
// by seed, so that runs against different responders ask about the same
// certificates. k <= 0 or k >= len(all) takes all of them, shuffled.
func sampleSerials(all []*big.Int, k int, seed uint64) []*big.Int {
	if k <= 0 || k > len(all) {
		k = len(all)
	}
	pool := append([]*big.Int(nil), all...)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	// A partial Fisher-Yates shuffle: the first k places end up a uniform
	// sample without touching the rest.
	for i := 0; i < k; i++ {
		j := i + rng.IntN(len(pool)-i)
		pool[i], pool[j] = pool[j], pool[i]
	}
	return pool[:k]
}
