package bolt

import (
	"encoding/json"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/certgate/certgate/store"
)

// encodeRecord returns the certs bucket value for r.
func encodeRecord(r *store.CertRecord) ([]byte, error) {
	v, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode record: %w", err)
	}
	return v, nil
}

// decodeRecord parses a certs bucket value; the serial comes from the key,
// which is what the record is filed under, not from the JSON.
func decodeRecord(sk, v []byte) (*store.CertRecord, error) {
	r := new(store.CertRecord)
	if err := json.Unmarshal(v, r); err != nil {
		return nil, fmt.Errorf("decode record %x: %w", sk, err)
	}
	r.Serial = serialFromKey(sk)
	r.SerialHex = store.SerialHex(r.Serial)
	return r, nil
}

// getRecord loads the record under sk; nil, nil if there is none.
func getRecord(tx *bbolt.Tx, sk []byte) (*store.CertRecord, error) {
	v := tx.Bucket(bucketCerts).Get(sk)
	if v == nil {
		return nil, nil
	}
	return decodeRecord(sk, v)
}

// putRecord writes r under sk and moves its index entries from old (nil for
// a new record) to r, all inside tx.
func putRecord(tx *bbolt.Tx, sk []byte, old, r *store.CertRecord) error {
	v, err := encodeRecord(r)
	if err != nil {
		return err
	}
	if old != nil {
		if err := deleteIndexes(tx, sk, old); err != nil {
			return err
		}
	}
	if err := tx.Bucket(bucketCerts).Put(sk, v); err != nil {
		return fmt.Errorf("put record: %w", err)
	}
	return putIndexes(tx, sk, r)
}
