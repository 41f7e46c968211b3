package bolt

import (
	"bytes"
	"context"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/certgate/certgate/store"
)

func bigInt(n int64) *big.Int { return big.NewInt(n) }

// indexKeys lists every key of one bucket.
func indexKeys(t *testing.T, s *Store, bucket []byte) [][]byte {
	t.Helper()
	var keys [][]byte
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucket).ForEach(func(k, _ []byte) error {
			keys = append(keys, bytes.Clone(k))
			return nil
		})
	})
	if err != nil {
		t.Fatalf("View: %v", err)
	}
	return keys
}

// TestIndexesFollowTheRecord checks the index buckets hold exactly the
// current record's entries after each write.
func TestIndexesFollowTheRecord(t *testing.T) {
	s := openTemp(t, Options{})
	defer s.Close()
	ctx := context.Background()
	sn := bigInt(0x0102)
	sk, _ := serialKey(sn)

	res := testRecord(0x0102)
	res.CommonName, res.NotAfter = "Requested", t0.Add(time.Hour)
	iss := *res
	iss.CommonName, iss.DeviceID, iss.NotAfter, iss.DER = "Laptop-07", "dev\x00odd", t0.Add(48*time.Hour), []byte{1}

	steps := []struct {
		name                    string
		write                   func() error
		expiry, subject, device [][]byte
	}{
		{"ok/reserve files CN and expiry, no empty device", func() error { return s.Reserve(ctx, res) },
			[][]byte{expiryKey(res.NotAfter, sk)}, [][]byte{subjectKey("requested", sk)}, nil},
		{"ok/issue moves every entry", func() error { return s.Issue(ctx, &iss) },
			[][]byte{expiryKey(iss.NotAfter, sk)}, [][]byte{subjectKey("laptop-07", sk)}, [][]byte{deviceKey("dev\x00odd", sk)}},
		{"ok/revoke leaves them", func() error {
			_, err := s.Revoke(ctx, sn, store.ReasonKeyCompromise, t0)
			return err
		}, [][]byte{expiryKey(iss.NotAfter, sk)}, [][]byte{subjectKey("laptop-07", sk)}, [][]byte{deviceKey("dev\x00odd", sk)}},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			if err := step.write(); err != nil {
				t.Fatalf("write: %v", err)
			}
			for _, b := range []struct {
				bucket []byte
				want   [][]byte
			}{{bucketIdxExpiry, step.expiry}, {bucketIdxSubject, step.subject}, {bucketIdxDevice, step.device}} {
				got := indexKeys(t, s, b.bucket)
				if !slices.EqualFunc(got, b.want, bytes.Equal) {
					t.Errorf("%s = %x, want %x", b.bucket, got, b.want)
				}
			}
		})
	}
}

func TestIndexValueCapped(t *testing.T) {
	sk, _ := serialKey(bigInt(1))
	long := strings.Repeat("x", 40000) // above bbolt's 32 KiB key limit
	if got := len(deviceKey(long, sk)); got != indexValueMax+1+serialKeyLen {
		t.Fatalf("key length = %d, want %d", got, indexValueMax+1+serialKeyLen)
	}
	s := openTemp(t, Options{})
	defer s.Close()
	r := testRecord(1)
	r.CommonName, r.DeviceID = long, long
	issue(t, s, r)
	got, err := s.Search(context.Background(), store.Query{DeviceID: long})
	if err != nil || len(got) != 1 {
		t.Fatalf("Search by the long device ID = %d records, %v; want 1", len(got), err)
	}
}

func TestSerialKeyIsNumericOrder(t *testing.T) {
	hexes := []string{"1", "9", "a", "ff", "100", "1234", "ffffffff", "100000000", strings.Repeat("ff", 20)}
	for i, a := range hexes {
		for _, b := range hexes[i:] {
			x, _ := new(big.Int).SetString(a, 16)
			y, _ := new(big.Int).SetString(b, 16)
			kx, okx := serialKey(x)
			ky, oky := serialKey(y)
			if !okx || !oky {
				t.Fatalf("serialKey(%s or %s) not ok", a, b)
			}
			if got, want := bytes.Compare(kx, ky), x.Cmp(y); got != want {
				t.Errorf("compare(%s, %s): keys %d, numbers %d", a, b, got, want)
			}
			if serialFromKey(kx).Cmp(x) != 0 {
				t.Errorf("serialFromKey(serialKey(%s)) = %x", a, serialFromKey(kx))
			}
		}
	}
	for _, bad := range []*big.Int{nil, bigInt(0), bigInt(-1), new(big.Int).Lsh(bigInt(1), 160)} {
		if _, ok := serialKey(bad); ok {
			t.Errorf("serialKey(%v) ok, want rejected", bad)
		}
	}
}

// TestExpiryIndexEdges checks the index walk against whole-second flooring,
// times before 1970 and the zero time.
func TestExpiryIndexEdges(t *testing.T) {
	s := openTemp(t, Options{})
	defer s.Close()
	epoch := time.Unix(0, 0).UTC()
	ms := time.Millisecond
	notAfter := map[int64]time.Time{
		1: {},
		2: epoch.Add(-500 * ms),
		3: epoch,
		4: t0.Add(300 * ms),
		5: t0.Add(700 * ms),
		6: t0.Add(time.Second),
	}
	// Serial order is the reverse of expiry order, so results sorted by
	// expiry would fail.
	for serial, na := range notAfter {
		r := testRecord(10 - serial)
		r.NotAfter = na
		issue(t, s, r)
	}
	far := t0.Add(time.Hour)
	tests := []struct {
		name          string
		after, before time.Time
		want          []string // serials are 10 - key of notAfter
	}{
		{"ok/before the epoch", time.Time{}, epoch, []string{"8", "9"}},
		{"ok/before a fraction before the epoch", time.Time{}, epoch.Add(-400 * ms), []string{"8", "9"}},
		{"ok/before an earlier fraction", time.Time{}, epoch.Add(-600 * ms), []string{"9"}},
		{"ok/after a fraction before the epoch", epoch.Add(-400 * ms), far, []string{"4", "5", "6", "7"}},
		{"ok/before within a second", time.Time{}, t0.Add(500 * ms), []string{"6", "7", "8", "9"}},
		{"ok/before is exclusive within a second", time.Time{}, t0.Add(700 * ms), []string{"6", "7", "8", "9"}},
		{"ok/after within a second", t0.Add(500 * ms), t0.Add(2 * time.Second), []string{"4", "5"}},
		{"ok/after is inclusive within a second", t0.Add(300 * ms), t0.Add(700 * ms), []string{"6"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Search(context.Background(), store.Query{ExpiresAfter: tt.after, ExpiresBefore: tt.before})
			if err != nil {
				t.Fatalf("Search: %v", err)
			}
			var hexes []string
			for _, r := range got {
				hexes = append(hexes, r.SerialHex)
			}
			if !slices.Equal(hexes, tt.want) {
				t.Fatalf("Search = %v, want %v", hexes, tt.want)
			}
		})
	}
}
