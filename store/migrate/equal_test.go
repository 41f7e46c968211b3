package migrate

import (
	"errors"
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/certgate/certgate/store"
)

func TestRecordDiff(t *testing.T) {
	base := func() *store.CertRecord {
		return &store.CertRecord{
			Serial: big.NewInt(0x10), SerialHex: "10", Subject: "CN=a", CommonName: "a",
			DNSNames: []string{"a.example"}, NotAfter: t0, CreatedAt: t0, Status: store.StatusValid,
			DER: []byte{1, 2, 3}, RequesterAddr: "x\x00y",
		}
	}
	tests := []struct {
		name   string
		change func(r *store.CertRecord)
		want   []string
	}{
		{"ok/identical", func(*store.CertRecord) {}, nil},
		{"ok/microseconds only", func(r *store.CertRecord) { r.CreatedAt = r.CreatedAt.Truncate(time.Microsecond) }, nil},
		{"ok/another time zone", func(r *store.CertRecord) { r.NotAfter = r.NotAfter.In(time.FixedZone("x", -7200)) }, nil},
		{"ok/NUL as PostgreSQL stores it", func(r *store.CertRecord) { r.RequesterAddr = "x\uFFFDy" }, nil},
		{"ok/empty for none", func(r *store.CertRecord) { r.EscrowedKey, r.UPNs = []byte{}, []string{} }, nil},
		{"fail/a microsecond apart", func(r *store.CertRecord) { r.CreatedAt = r.CreatedAt.Add(time.Microsecond) }, []string{"created_at"}},
		{"fail/another certificate", func(r *store.CertRecord) { r.DER = []byte{1, 2, 4} }, []string{"der"}},
		{"fail/revoked", func(r *store.CertRecord) {
			r.Status, r.RevokedAt, r.RevocationReason = store.StatusRevoked, t0, store.ReasonKeyCompromise
		}, []string{"status", "revoked_at", "revocation_reason"}},
		{"fail/one more DNS name", func(r *store.CertRecord) { r.DNSNames = append(r.DNSNames, "b.example") }, []string{"dns_names"}},
		{"fail/another serial", func(r *store.CertRecord) { r.Serial = big.NewInt(0x11) }, []string{"serial"}},
		{"fail/test flag", func(r *store.CertRecord) { r.Test = true }, []string{"test"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := base()
			tt.change(b)
			if got := recordDiff(base(), b); !slices.Equal(got, tt.want) {
				t.Errorf("recordDiff = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestConflictError(t *testing.T) {
	tests := []struct {
		name string
		err  *ConflictError
		want string
	}{
		{"ok/fields", &ConflictError{Kind: "record", ID: "10", Fields: []string{"der", "status"}},
			"migrate: record 10 is in the target but differs from the source (der, status); nothing was written over it"},
		{"ok/detail", &ConflictError{Kind: "token", ID: `"t"`, Detail: "the target has another token with its hash"},
			`migrate: token "t" is in the target but differs from the source: the target has another token with its hash; nothing was written over it`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
			if !errors.Is(tt.err, store.ErrConflict) {
				t.Error("does not match store.ErrConflict")
			}
		})
	}
}
