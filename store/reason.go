package store

import (
	"fmt"
	"strconv"
	"strings"
)

// RFC 5280 §5.3.1 CRLReason codes, as stored in CertRecord.RevocationReason
// and passed to Store.Revoke.
const (
	ReasonUnspecified          = 0
	ReasonKeyCompromise        = 1
	ReasonCACompromise         = 2
	ReasonAffiliationChanged   = 3
	ReasonSuperseded           = 4
	ReasonCessationOfOperation = 5
	ReasonCertificateHold      = 6
	// 7 is not used by RFC 5280.
	ReasonRemoveFromCRL      = 8
	ReasonPrivilegeWithdrawn = 9
	ReasonAACompromise       = 10
)

// reasonNames is indexed by code; the empty entry is the unused 7.
var reasonNames = [...]string{
	ReasonUnspecified:          "unspecified",
	ReasonKeyCompromise:        "keyCompromise",
	ReasonCACompromise:         "cACompromise",
	ReasonAffiliationChanged:   "affiliationChanged",
	ReasonSuperseded:           "superseded",
	ReasonCessationOfOperation: "cessationOfOperation",
	ReasonCertificateHold:      "certificateHold",
	ReasonRemoveFromCRL:        "removeFromCRL",
	ReasonPrivilegeWithdrawn:   "privilegeWithdrawn",
	ReasonAACompromise:         "aACompromise",
}

// ValidReason reports whether RFC 5280 defines code as a CRLReason.
func ValidReason(code int) bool {
	return code >= 0 && code < len(reasonNames) && reasonNames[code] != ""
}

// ReasonName returns the RFC 5280 name of code (e.g. "keyCompromise"). For a
// code RFC 5280 does not define it returns "unknown(N)", so a log line never
// shows an empty reason.
func ReasonName(code int) string {
	if !ValidReason(code) {
		return "unknown(" + strconv.Itoa(code) + ")"
	}
	return reasonNames[code]
}

// ParseReason accepts an RFC 5280 reason name, case-insensitively (so
// openssl's "CACompromise" works), or its decimal code. The error wraps
// ErrInvalid.
func ParseReason(s string) (int, error) {
	if s != "" && len(s) <= 3 && strings.Trim(s, "0123456789") == "" {
		// Digits only: no sign, no spaces, short enough not to overflow.
		if code, err := strconv.Atoi(s); err == nil && ValidReason(code) {
			return code, nil
		}
	}
	for code, name := range reasonNames {
		if name != "" && strings.EqualFold(name, s) {
			return code, nil
		}
	}
	return 0, fmt.Errorf("store: unknown revocation reason %q (want an RFC 5280 name such as keyCompromise, or a code 0-10 other than 7): %w", s, ErrInvalid)
}

// CheckRevokeReason returns nil if code may be given to Store.Revoke. Beyond
// ValidReason it refuses removeFromCRL: RFC 5280 §5.3.1 reserves it for
// delta CRLs, where it un-revokes a held certificate, so as the reason of a
// revocation it would be self-contradictory. The error wraps ErrInvalid.
func CheckRevokeReason(code int) error {
	if !ValidReason(code) {
		return fmt.Errorf("store: revocation reason %d is not defined by RFC 5280: %w", code, ErrInvalid)
	}
	if code == ReasonRemoveFromCRL {
		return fmt.Errorf("store: revocation reason removeFromCRL (8) only appears in delta CRLs: %w", ErrInvalid)
	}
	return nil
}

// ReasonReplaces reports whether revoking a certificate already revoked
// with reason old, for reason next, changes the recorded reason (never
// the time). RFC 5280 §5.3.1 allows two such changes: a CA may learn of
// a key compromise after revoking for another reason, and a certificate
// on hold may be revoked for good with any other reason. Nothing else
// rewrites history, and nothing replaces keyCompromise.
func ReasonReplaces(old, next int) bool {
	if old == next || old == ReasonKeyCompromise {
		return false
	}
	return next == ReasonKeyCompromise || old == ReasonCertificateHold
}
