package bolt

import (
	"context"
	"math/big"
	"path/filepath"
	"slices"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/certgate/certgate/store"
)

// A schema-1 file (no idx_revoked) is upgraded by Open: every revoked
// record is filed in the new index, so a CRL built right after the upgrade
// lists them all, and the file says schema 2, which builds that read only
// schema 1 refuse.
func TestOpenUpgradesSchema1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "certgate.db")
	st, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var recs []*store.CertRecord
	var wantRevoked []string
	for i := 1; i <= 30; i++ {
		sn := big.NewInt(int64(i) << 40)
		r := &store.CertRecord{
			Serial: sn, SerialHex: store.SerialHex(sn), Issuer: "ca", Subject: "CN=d", CommonName: "d",
			NotBefore: now, NotAfter: now.AddDate(1, 0, 0), Profile: "p", Protocol: "scep",
			Status: store.StatusValid, DER: []byte{0x30, 0x00}, CreatedAt: now, IssuedAt: now,
		}
		if i%4 == 0 {
			r.Status, r.RevokedAt, r.RevocationReason = store.StatusRevoked, now.Add(time.Hour), store.ReasonKeyCompromise
			wantRevoked = append(wantRevoked, r.SerialHex)
		}
		recs = append(recs, r)
	}
	if err := st.ImportRecords(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	// Make it the file schema 1 wrote.
	rawUpdate(t, path, func(tx *bbolt.Tx) error {
		if err := tx.DeleteBucket(bucketIdxRevoked); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keySchemaVersion, []byte("1"))
	})

	st, err = Open(path, Options{})
	if err != nil {
		t.Fatalf("Open of a schema-1 file: %v", err)
	}
	defer st.Close()
	found, err := st.Search(context.Background(), store.Query{Status: store.StatusRevoked, ExpiresAfter: now, Limit: -1})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range found {
		got = append(got, r.SerialHex)
	}
	if !slices.Equal(got, wantRevoked) {
		t.Fatalf("revoked after the upgrade %v, want %v", got, wantRevoked)
	}
	err = st.db.View(func(tx *bbolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(keySchemaVersion); string(v) != "2" {
			t.Errorf("schema_version %q after the upgrade, want 2", v)
		}
		if n := tx.Bucket(bucketIdxRevoked).Stats().KeyN; n != len(wantRevoked) {
			t.Errorf("idx_revoked holds %d keys, want %d", n, len(wantRevoked))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// rawUpdate runs fn in an update of the bbolt file at path, bypassing
// Open, to make files older layouts wrote.
func rawUpdate(t *testing.T, path string, fn func(*bbolt.Tx) error) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}
