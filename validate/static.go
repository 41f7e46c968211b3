package validate

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
)

// Static accepts a request whose challenge equals one of a fixed set of
// secrets. Several secrets may be valid at once so that one can be rotated
// without a window in which devices holding the old one fail.
type Static struct {
	// digests holds SHA-256 of each secret: comparing fixed-length digests
	// in constant time hides both the secret and its length.
	digests [][sha256.Size]byte
}

// NewStatic returns a validator for the given secrets. Empty secrets are
// refused: a blank challenge must never authorise anything.
func NewStatic(secrets []string) (*Static, error) {
	if len(secrets) == 0 {
		return nil, errors.New("validate: static: no secret configured")
	}
	s := &Static{}
	for _, sec := range secrets {
		if sec == "" {
			return nil, errors.New("validate: static: empty secret")
		}
		s.digests = append(s.digests, sha256.Sum256([]byte(sec)))
	}
	return s, nil
}

// Validate implements Validator.
func (s *Static) Validate(_ context.Context, r *Request) (Decision, error) {
	if r.Challenge == "" {
		return Decision{}, &Rejection{Reason: "missing challenge"}
	}
	got := sha256.Sum256([]byte(r.Challenge))
	match := 0
	// Compare against every secret, without an early exit, so the time taken
	// does not tell which one matched.
	for i := range s.digests {
		match |= subtle.ConstantTimeCompare(got[:], s.digests[i][:])
	}
	if match != 1 {
		return Decision{}, &Rejection{Reason: "wrong challenge"}
	}
	return Decision{}, nil
}
