package ocsp

import (
	"bytes"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// maxSingleRequests caps the singleRequests one OCSPRequest may carry.
// RFC 6960 §4.1.1 allows a list, but RFC 5019 §2.1.1 has clients send
// exactly one, and every client we know of does. Answering one at a time
// is what makes a response pre-signable and cacheable per certificate;
// a list would also let one small request buy many signatures.
const maxSingleRequests = 1

// maxNonceLen is RFC 9654 §2.1's upper bound on a nonce (it obsoletes RFC
// 8954's 32); a longer or empty one is a malformedRequest.
const maxNonceLen = 128

var (
	oidNonce  = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 2}
	oidSHA1   = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
)

// hashAlg is a CertID hash algorithm certgate answers for.
type hashAlg uint8

const (
	hashSHA1 hashAlg = iota
	hashSHA256
	numHashAlgs
)

// size is the length of h's digests.
func (h hashAlg) size() int {
	if h == hashSHA256 {
		return 32
	}
	return 20
}

// oid is the AlgorithmIdentifier OID of h.
func (h hashAlg) oid() asn1.ObjectIdentifier {
	if h == hashSHA256 {
		return oidSHA256
	}
	return oidSHA1
}

// request is a parsed OCSPRequest with its one singleRequest. Its slices
// share memory with the DER it was parsed from.
type request struct {
	hash           hashAlg
	issuerNameHash []byte
	issuerKeyHash  []byte
	serial         *big.Int
	// nonce is the extnValue of the request's nonce extension, to echo
	// verbatim; nil when the request carries none.
	nonce []byte
}

// Parse failures. errUndecodable is DER we could not read at all (HTTP
// 400); errMalformed is a readable request we refuse (HTTP 200). Both are
// answered with malformedRequest (RFC 6960 §2.3).
var (
	errUndecodable = errors.New("ocsp: undecodable request")
	errMalformed   = errors.New("ocsp: malformed request")
)

// Context-specific tags of RFC 6960 §4.1.1.
var (
	tag0 = cbasn1.Tag(0).Constructed().ContextSpecific()
	tag1 = cbasn1.Tag(1).Constructed().ContextSpecific()
	tag2 = cbasn1.Tag(2).Constructed().ContextSpecific()
)

// DER contents of the CertID hash OIDs, compared without decoding them.
var (
	derSHA1   = mustOIDContents(oidSHA1)
	derSHA256 = mustOIDContents(oidSHA256)
)

func mustOIDContents(oid asn1.ObjectIdentifier) []byte {
	der, err := asn1.Marshal(oid)
	if err != nil {
		panic(err)
	}
	return der[2:] // short tag and length: every OID here is short
}

func undecodable(what string) error { return fmt.Errorf("%w: %s", errUndecodable, what) }

// parseRequest decodes an OCSPRequest (RFC 6960 §4.1.1) with cryptobyte,
// which reads the hot path's requests without reflection or copies.
// x/crypto/ocsp's ParseRequest reads only the first Request of the list
// and no extensions, so it can neither enforce maxSingleRequests nor see
// a nonce. Its errors wrap errUndecodable or errMalformed and name the
// offending field, never its contents.
func parseRequest(der []byte) (*request, error) {
	input := cryptobyte.String(der)
	var ocspReq, tbs, list, reqExts cryptobyte.String
	var hasExts bool
	if !input.ReadASN1(&ocspReq, cbasn1.SEQUENCE) {
		return nil, undecodable("not a DER SEQUENCE")
	}
	if !input.Empty() {
		return nil, undecodable(fmt.Sprintf("%d bytes after the request", len(input)))
	}
	// optionalSignature is ignored: certgate answers anyone.
	if !ocspReq.ReadASN1(&tbs, cbasn1.SEQUENCE) || !ocspReq.SkipOptionalASN1(tag0) || !ocspReq.Empty() {
		return nil, undecodable("OCSPRequest")
	}
	var version int64
	// requestorName (a GeneralName) is ignored too.
	if !tbs.ReadOptionalASN1Integer(&version, tag0, int64(0)) || !tbs.SkipOptionalASN1(tag1) ||
		!tbs.ReadASN1(&list, cbasn1.SEQUENCE) || !tbs.ReadOptionalASN1(&reqExts, &hasExts, tag2) || !tbs.Empty() {
		return nil, undecodable("tbsRequest")
	}
	var first cryptobyte.String
	n := 0
	for ; !list.Empty(); n++ {
		var one cryptobyte.String
		if !list.ReadASN1(&one, cbasn1.SEQUENCE) {
			return nil, undecodable("requestList")
		}
		if n == 0 {
			first = one
		}
	}
	r, err := parseSingle(first)
	if err != nil {
		return nil, err
	}
	if hasExts {
		if err := parseExtensions(reqExts, "request", func(value []byte) error {
			if r.nonce != nil {
				return fmt.Errorf("%w: two nonces", errMalformed)
			}
			if n := nonceLen(value); n == 0 || n > maxNonceLen {
				return fmt.Errorf("%w: nonce of %d octets (RFC 9654: 1 to %d)", errMalformed, n, maxNonceLen)
			}
			r.nonce = value
			return nil
		}); err != nil {
			return nil, err
		}
	}
	switch {
	case version != 0:
		return nil, fmt.Errorf("%w: version %d (only v1 exists)", errMalformed, version)
	case n == 0:
		return nil, fmt.Errorf("%w: no singleRequest", errMalformed)
	case n > maxSingleRequests:
		return nil, fmt.Errorf("%w: %d singleRequests, at most %d answered (RFC 5019 §2.1.1)", errMalformed, n, maxSingleRequests)
	}
	return r, nil
}

// parseSingle decodes a Request; an empty one is left for the caller to
// refuse. Undecodable fields are reported before policy refusals.
func parseSingle(single cryptobyte.String) (*request, error) {
	r := &request{serial: new(big.Int)}
	if single.Empty() {
		return r, nil
	}
	var id, alg, oid, exts cryptobyte.String
	var hasExts bool
	if !single.ReadASN1(&id, cbasn1.SEQUENCE) || !single.ReadOptionalASN1(&exts, &hasExts, tag0) || !single.Empty() {
		return nil, undecodable("Request")
	}
	if !id.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1(&oid, cbasn1.OBJECT_IDENTIFIER) {
		return nil, undecodable("hashAlgorithm")
	}
	// RFC 5754 §2: the parameters are NULL or absent; accept either.
	if !alg.Empty() && (!alg.SkipASN1(cbasn1.NULL) || !alg.Empty()) {
		return nil, undecodable("hashAlgorithm parameters")
	}
	if !id.ReadASN1Bytes(&r.issuerNameHash, cbasn1.OCTET_STRING) || !id.ReadASN1Bytes(&r.issuerKeyHash, cbasn1.OCTET_STRING) {
		return nil, undecodable("CertID hashes")
	}
	if !id.ReadASN1Integer(r.serial) || !id.Empty() {
		return nil, undecodable("serialNumber")
	}
	switch {
	case bytes.Equal(oid, derSHA1):
		r.hash = hashSHA1
	case bytes.Equal(oid, derSHA256):
		r.hash = hashSHA256
	default:
		return nil, fmt.Errorf("%w: CertID hash algorithm %s not supported (SHA-1, SHA-256)", errMalformed, oidString(oid))
	}
	if len(r.issuerNameHash) != r.hash.size() || len(r.issuerKeyHash) != r.hash.size() {
		return nil, fmt.Errorf("%w: CertID hashes of %d and %d octets, want %d", errMalformed, len(r.issuerNameHash), len(r.issuerKeyHash), r.hash.size())
	}
	if hasExts {
		// No singleRequest extension is understood (RFC 6960 §4.4.6's
		// service locator is for forwarding responders).
		if err := parseExtensions(exts, "singleRequest", nil); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// parseExtensions walks Extensions, calling nonce for a nonce extension
// (if nonce is not nil). RFC 6960 §4.4: unknown extensions are ignored
// unless critical, which is malformedRequest.
func parseExtensions(exts cryptobyte.String, where string, nonce func(value []byte) error) error {
	var list cryptobyte.String
	if !exts.ReadASN1(&list, cbasn1.SEQUENCE) || !exts.Empty() {
		return undecodable(where + " extensions")
	}
	for !list.Empty() {
		var ext, oid cryptobyte.String
		var critical bool
		var value []byte
		// critical is DEFAULT FALSE, so DER omits it; an explicit FALSE
		// (BER) is accepted.
		if !list.ReadASN1(&ext, cbasn1.SEQUENCE) || !ext.ReadASN1(&oid, cbasn1.OBJECT_IDENTIFIER) ||
			(ext.PeekASN1Tag(cbasn1.BOOLEAN) && !ext.ReadASN1Boolean(&critical)) ||
			!ext.ReadASN1Bytes(&value, cbasn1.OCTET_STRING) || !ext.Empty() {
			return undecodable(where + " extension")
		}
		switch {
		case nonce != nil && bytes.Equal(oid, derNonce):
			if err := nonce(value); err != nil {
				return err
			}
		case critical:
			return fmt.Errorf("%w: critical %s extension %s not understood", errMalformed, where, oidString(oid))
		}
	}
	return nil
}

var derNonce = mustOIDContents(oidNonce)

// oidString renders DER OID contents for an error message.
func oidString(contents []byte) string {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.OBJECT_IDENTIFIER, func(b *cryptobyte.Builder) { b.AddBytes(contents) })
	der, err := b.Bytes()
	var oid asn1.ObjectIdentifier
	if s := cryptobyte.String(der); err != nil || !s.ReadASN1ObjectIdentifier(&oid) {
		return "(invalid OID)"
	}
	return oid.String()
}

// nonceLen is the nonce's length. RFC 9654 §2.1 has the extnValue hold a
// DER OCTET STRING, but older clients put the raw nonce there; both are
// echoed as received, and the length is that of the inner value when
// there is one.
func nonceLen(extnValue []byte) int {
	s := cryptobyte.String(extnValue)
	var inner cryptobyte.String
	if s.ReadASN1(&inner, cbasn1.OCTET_STRING) && s.Empty() {
		return len(inner)
	}
	return len(extnValue)
}
