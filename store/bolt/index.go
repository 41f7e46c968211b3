package bolt

import (
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/certgate/certgate/store"
)

// indexEntry is one key in one index bucket.
type indexEntry struct {
	bucket []byte
	key    []byte
}

// indexEntries lists the index keys r is filed under (see buckets.go).
func indexEntries(sk []byte, r *store.CertRecord) []indexEntry {
	e := []indexEntry{{bucketIdxExpiry, expiryKey(r.NotAfter, sk)}}
	if r.CommonName != "" {
		e = append(e, indexEntry{bucketIdxSubject, subjectKey(r.CommonName, sk)})
	}
	if r.DeviceID != "" {
		e = append(e, indexEntry{bucketIdxDevice, deviceKey(r.DeviceID, sk)})
	}
	if r.Status == store.StatusRevoked {
		e = append(e, indexEntry{bucketIdxRevoked, sk})
	}
	return e
}

func putIndexes(tx *bbolt.Tx, sk []byte, r *store.CertRecord) error {
	for _, e := range indexEntries(sk, r) {
		if err := tx.Bucket(e.bucket).Put(e.key, []byte{}); err != nil {
			return fmt.Errorf("put %s entry: %w", e.bucket, err)
		}
	}
	return nil
}

func deleteIndexes(tx *bbolt.Tx, sk []byte, r *store.CertRecord) error {
	for _, e := range indexEntries(sk, r) {
		if err := tx.Bucket(e.bucket).Delete(e.key); err != nil {
			return fmt.Errorf("delete %s entry: %w", e.bucket, err)
		}
	}
	return nil
}
