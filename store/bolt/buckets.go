package bolt

import (
	"encoding/binary"
	"math"
	"math/big"
	"strings"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/certgate/certgate/store"
)

// On-disk layout, schema version 2. Every bucket is top-level.
//
//	meta                "schema_version" -> decimal ASCII, "2"
//	certs               serial key -> JSON of store.CertRecord (DER
//	                    included; Serial is not in the JSON, the key is
//	                    authoritative)
//	idx_expiry          expiry seconds (8 bytes) || serial key -> empty
//	idx_subject         lower-cased CommonName || 0x00 || serial key -> empty
//	idx_device          DeviceID || 0x00 || serial key -> empty
//	idx_revoked         serial key -> empty, for every record whose status
//	                    is revoked (schema 2)
//	blobs_ocsp          cache key -> JSON of store.Blob (see cache.go)
//	blobs_crl           CA name -> JSON of store.Blob
//	sequences           sequence name -> 8-byte big-endian uint64, the last
//	                    number handed out (see sequence.go)
//	requests            request ID -> JSON of store.PendingRequest
//	idx_request_key     pair(Profile, Key) -> request ID
//	idx_request_status  Status || 0x00 || request ID -> empty
//	challenges          pair(Profile, Hash) -> JSON of store.Challenge
//	tokens              token ID -> JSON of store.APIToken
//	idx_token_hash      Hash -> token ID
//	device_states       pair(Source, Key) -> JSON of store.DeviceState
//
// The blob, sequence, request, challenge, token and device-state buckets were added
// without a schema bump: Open creates any missing bucket, so a file written
// before they existed is upgraded in place by the first Open, and an older
// build that opens a newer file never looks at them. Blobs are derived data
// (a pre-signed OCSP response, a CRL) that can be rebuilt from certs; the
// sequences are not, since a CRL number must never be handed out twice, and
// neither are requests, challenges and tokens.
//
// Schema 2 added idx_revoked, so that building a CRL reads the revoked
// records instead of every record (about 1 s per 100,000 records). Unlike
// the buckets above it needed a schema bump: an older build writing to the
// file would revoke without filing the record there, and the CRL would
// silently miss it. Open upgrades a version 1 file in place, filling the
// index in the same transaction; a build that reads only version 1 then
// refuses the file instead of writing to it.
//
// The serial key is the serial's big-endian magnitude left-padded with zeros
// to 20 bytes (RFC 5280 §4.1.2.2's maximum), so bytes.Compare on keys is
// numeric order and a cursor can Seek to any serial.
//
// The expiry seconds are NotAfter's Unix seconds as a big-endian uint64 with
// the sign bit flipped, so that times before 1970 (including the zero
// time.Time of a reservation that has no validity yet) still sort before
// later ones. Seconds are floored, so a range scan over them returns a
// superset that Search then filters on the exact NotAfter.
//
// The subject and device indexes skip records whose CommonName or DeviceID
// is empty, and keep at most indexValueMax bytes of it, because bbolt keys
// are limited to 32 KiB; a lookup must therefore confirm the match on the
// record itself. The serial key has a fixed width, so it is always the last
// serialKeyLen bytes of an index key, whatever bytes (even 0x00) precede it.
//
// pair(a, b) is len(a) as a 2-byte big-endian number, then a, then b: the
// length prefix keeps ("ab", "c") and ("a", "bc") apart whatever bytes a
// profile holds. The request status index needs no such prefix, because a
// status is one of four fixed words without 0x00; it lets "list pending"
// skip the issued and rejected requests that pile up over the years.
// Request and token IDs are capped at idMax bytes (certgate makes 32 hex
// characters), so every key built from one stays far below bbolt's 32 KiB.
// An expired challenge leaves the challenges bucket only when someone
// presents it: nothing sweeps the bucket (store.Challenges has no method
// for it).
//
// Indexes are written in the same transaction as their record, and removed
// and re-added whenever the record changes.
var (
	bucketMeta       = []byte("meta")
	bucketCerts      = []byte("certs")
	bucketIdxExpiry  = []byte("idx_expiry")
	bucketIdxSubject = []byte("idx_subject")
	bucketIdxDevice  = []byte("idx_device")
	bucketIdxRevoked = []byte("idx_revoked")
	bucketSequences  = []byte("sequences")

	bucketRequests         = []byte("requests")
	bucketIdxRequestKey    = []byte("idx_request_key")
	bucketIdxRequestStatus = []byte("idx_request_status")
	bucketChallenges       = []byte("challenges")
	bucketTokens           = []byte("tokens")
	bucketIdxTokenHash     = []byte("idx_token_hash")
	// bucketStaticSecrets: profile → JSON list of store.StaticSecret.
	bucketStaticSecrets = []byte("static_secrets")
	// bucketDeviceStates: pair(Source, Key) → JSON of store.DeviceState.
	bucketDeviceStates = []byte("device_states")

	// blobKinds are the store.BlobKind values with a bucket; any other kind
	// is store.ErrInvalid, so a typo cannot create buckets.
	blobKinds = []store.BlobKind{store.BlobOCSP, store.BlobCRL}

	allBuckets = append([][]byte{bucketMeta, bucketCerts, bucketIdxExpiry, bucketIdxSubject, bucketIdxDevice, bucketIdxRevoked, bucketSequences,
		bucketRequests, bucketIdxRequestKey, bucketIdxRequestStatus, bucketChallenges, bucketTokens, bucketIdxTokenHash, bucketStaticSecrets, bucketDeviceStates},
		blobBucketNames()...)

	keySchemaVersion = []byte("schema_version")
)

const (
	// schemaVersion is the layout this code reads and writes.
	schemaVersion = "2"
	// serialKeyLen is the fixed width of a serial key.
	serialKeyLen = 20
	// indexValueMax caps the CommonName/DeviceID part of an index key.
	indexValueMax = 1024
	// idMax caps request and token IDs.
	idMax = 256
)

// serialKey encodes a positive serial of at most 20 bytes; ok is false for
// anything else.
func serialKey(serial *big.Int) (key []byte, ok bool) {
	if serial == nil || serial.Sign() <= 0 || serial.BitLen() > 8*serialKeyLen {
		return nil, false
	}
	key = make([]byte, serialKeyLen)
	serial.FillBytes(key)
	return key, true
}

// serialFromKey is the inverse of serialKey.
func serialFromKey(key []byte) *big.Int {
	return new(big.Int).SetBytes(key)
}

// expirySeconds encodes t's floored Unix seconds so that byte order is time
// order across the whole int64 range.
func expirySeconds(t time.Time) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, uint64(t.Unix())^(1<<63))
	return b
}

func expiryKey(notAfter time.Time, sk []byte) []byte {
	return append(expirySeconds(notAfter), sk...)
}

// textIndexKey builds value || 0x00 || serial key for the subject and device
// indexes.
func textIndexKey(value string, sk []byte) []byte {
	if len(value) > indexValueMax {
		value = value[:indexValueMax]
	}
	k := make([]byte, 0, len(value)+1+len(sk))
	k = append(k, value...)
	k = append(k, 0)
	return append(k, sk...)
}

func subjectKey(commonName string, sk []byte) []byte {
	return textIndexKey(strings.ToLower(commonName), sk)
}

func deviceKey(deviceID string, sk []byte) []byte {
	return textIndexKey(deviceID, sk)
}

// blobBucket names the bucket holding blobs of kind.
func blobBucket(kind store.BlobKind) []byte {
	return []byte("blobs_" + string(kind))
}

func blobBucketNames() [][]byte {
	names := make([][]byte, len(blobKinds))
	for i, k := range blobKinds {
		names[i] = blobBucket(k)
	}
	return names
}

// pairKey builds pair(a, b); ok is false when a is too long for the length
// prefix or the key too long for bbolt.
func pairKey(a, b string) (key []byte, ok bool) {
	if len(a) > math.MaxUint16 || 2+len(a)+len(b) > bbolt.MaxKeySize {
		return nil, false
	}
	key = make([]byte, 2, 2+len(a)+len(b))
	binary.BigEndian.PutUint16(key, uint16(len(a)))
	key = append(key, a...)
	return append(key, b...), true
}

// requestStatusPrefix is where the status index entries of status start.
func requestStatusPrefix(status store.RequestStatus) []byte {
	return append([]byte(status), 0)
}

// requestStatusKey files request id under status.
func requestStatusKey(status store.RequestStatus, id string) []byte {
	return append(requestStatusPrefix(status), id...)
}
