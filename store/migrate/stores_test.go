package migrate

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/certgate/certgate/store"
	"github.com/certgate/certgate/store/bolt"
	"github.com/certgate/certgate/store/postgres"
)

// testStore is a Target that seed can also draw sequence numbers from.
type testStore interface {
	Target
	store.Sequencer
}

// backend opens an empty store of one kind for a test.
type backend struct {
	name string
	open func(t *testing.T) testStore
}

// backends is bbolt, and PostgreSQL when the test server is there (see
// pgAdminDSN).
func backends(t *testing.T) []backend {
	out := []backend{{"bolt", openBolt}}
	if os.Getenv(dsnEnv) != "" || os.Getenv("CI") == "true" {
		out = append(out, backend{"postgres", openPostgres})
	}
	return out
}

// pairs is every (source, target) combination of backends that involves
// bbolt: bolt→bolt always, bolt→postgres and postgres→bolt with a server.
func pairs(t *testing.T) [][2]backend {
	var out [][2]backend
	for _, a := range backends(t) {
		for _, b := range backends(t) {
			if a.name == "bolt" || b.name == "bolt" {
				out = append(out, [2]backend{a, b})
			}
		}
	}
	return out
}

func openBolt(t *testing.T) testStore {
	t.Helper()
	return openBoltAt(t, filepath.Join(t.TempDir(), "certgate.db"))
}

func openBoltAt(t *testing.T, path string) *bolt.Store {
	t.Helper()
	s, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatalf("bolt.Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// dsnEnv names the admin DSN of the PostgreSQL server the tests create
// their databases on; scripts/pg-test-cluster start prints one.
const dsnEnv = "CERTGATE_TEST_POSTGRES_DSN"

// pgAdminDSN returns the server's DSN, or skips t when there is none:
// locally a missing server is a skip, in CI (CI=true) a failure.
func pgAdminDSN(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv(dsnEnv)
	if dsn != "" {
		return dsn
	}
	const hint = "; run: export " + dsnEnv + "=$(scripts/pg-test-cluster start /tmp/certgate-pg)"
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not set; CI must run the PostgreSQL tests%s", dsnEnv, hint)
	}
	t.Skipf("%s is not set%s", dsnEnv, hint)
	return ""
}

var (
	pgRunID   = randomHex(4)
	pgDBCount atomic.Int64
)

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// openPostgres opens a store on a new database, dropped when t ends.
func openPostgres(t *testing.T) testStore {
	t.Helper()
	admin := pgAdminDSN(t)
	name := "certgate_migrate_" + pgRunID + "_" + strconv.FormatInt(pgDBCount.Add(1), 10)
	pgExec(t, admin, "CREATE DATABASE "+name)
	t.Cleanup(func() { pgExec(t, admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("%s is not a URL: %v", dsnEnv, err)
	}
	u.Path = "/" + name
	s, err := postgres.Open(context.Background(), postgres.Options{DSN: u.String()})
	if err != nil {
		t.Fatalf("postgres.Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func pgExec(t *testing.T, dsn, sql string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to %s: %v", dsnEnv, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// testKey signs every test certificate.
var testKey = sync.OnceValue(func() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
})

// t0 has nanoseconds, which PostgreSQL does not keep: copies to it must
// still compare equal.
var t0 = time.Date(2025, 3, 1, 10, 0, 0, 123456789, time.UTC)

// certSpec describes a test certificate.
type certSpec struct {
	serial   int64
	cn       string
	dns      []string
	from, to time.Time
}

// der signs a self-signed certificate as spec says.
func der(t *testing.T, spec certSpec) []byte {
	t.Helper()
	tpl := &x509.Certificate{
		SerialNumber: big.NewInt(spec.serial),
		Subject:      pkix.Name{CommonName: spec.cn},
		DNSNames:     spec.dns,
		NotBefore:    spec.from,
		NotAfter:     spec.to,
	}
	b, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &testKey().PublicKey, testKey())
	if err != nil {
		t.Fatalf("CreateCertificate: %v", err)
	}
	return b
}

// issuedRecord is a valid record whose fields agree with its DER.
func issuedRecord(t *testing.T, serial int64, cn string) *store.CertRecord {
	t.Helper()
	from := t0.Truncate(time.Second)
	spec := certSpec{serial: serial, cn: cn, dns: []string{cn + ".example"}, from: from, to: from.Add(365 * 24 * time.Hour)}
	return &store.CertRecord{
		Serial: big.NewInt(serial), SerialHex: store.SerialHex(big.NewInt(serial)),
		Issuer: "local", Subject: "CN=" + cn, CommonName: cn, DNSNames: spec.dns,
		NotBefore: spec.from, NotAfter: spec.to, Profile: "default", Protocol: "scep",
		TransactionID: "tx-" + cn, RequesterAddr: "192.0.2.1", DeviceID: "dev-" + cn,
		Status: store.StatusValid, CreatedAt: t0, IssuedAt: t0.Add(time.Second), DER: der(t, spec),
	}
}

// seed fills s with a bit of everything, through the regular methods
// where they can express it: 3 reservations, 4 valid, 3 revoked records
// (one without a revocation time, through the importer), 4 requests, 2
// challenges, 2 tokens, 3 static secrets, 2 device states and 2
// sequences.
func seed(t *testing.T, s testStore) {
	t.Helper()
	ctx := context.Background()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("seed: %s: %v", what, err)
		}
	}
	for i := int64(1); i <= 3; i++ {
		r := issuedRecord(t, 0x100+i, "reserved"+strconv.FormatInt(i, 10))
		r.Status, r.DER, r.IssuedAt, r.DNSNames = store.StatusReserved, nil, time.Time{}, nil
		must("reserve", s.Reserve(ctx, r))
	}
	for i := int64(1); i <= 6; i++ {
		r := issuedRecord(t, 0x200+i, "device"+strconv.FormatInt(i, 10))
		if i == 2 {
			r.EscrowedKey, r.Test, r.RenewalOf = []byte("sealed"), true, "201"
			r.RequesterAddr = "bad\x00addr"
		}
		must("reserve", s.Reserve(ctx, r))
		must("issue", s.Issue(ctx, r))
	}
	_, err := s.Revoke(ctx, big.NewInt(0x205), store.ReasonKeyCompromise, t0.Add(time.Hour))
	must("revoke", err)
	_, err = s.Revoke(ctx, big.NewInt(0x206), store.ReasonSuperseded, t0.Add(2*time.Hour))
	must("revoke", err)
	odd := issuedRecord(t, 0x300, "revoked-without-time")
	odd.Status = store.StatusRevoked
	must("import", s.ImportRecords(ctx, []*store.CertRecord{odd}))

	for i, st := range []store.RequestStatus{store.RequestPending, store.RequestApproved, store.RequestRejected, store.RequestIssued} {
		id := "req" + strconv.Itoa(i)
		must("create request", s.CreateRequest(ctx, &store.PendingRequest{ID: id, Profile: "default", Key: "scep:" + id,
			Protocol: "scep", TransactionID: id, Subject: "CN=" + id, CSR: []byte("csr-" + id), Status: store.RequestPending, CreatedAt: t0}))
		if st == store.RequestPending {
			continue
		}
		_, err := s.DecideRequest(ctx, id, st != store.RequestRejected, "alice", "checked", t0.Add(time.Minute))
		must("decide request", err)
		if st == store.RequestIssued {
			must("complete request", s.CompleteRequest(ctx, id, "201"))
		}
	}
	must("put challenge", s.PutChallenge(ctx, &store.Challenge{Hash: "c1hash", Profile: "default", Subject: "device1", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))
	must("put challenge", s.PutChallenge(ctx, &store.Challenge{Hash: "c0hash", Profile: "default", CreatedAt: t0, ExpiresAt: t0.Add(-time.Hour)}))
	must("put token", s.PutToken(ctx, &store.APIToken{ID: "tok1", Name: "ops", Role: "operator", Hash: "t1hash", CreatedAt: t0}))
	must("put token", s.PutToken(ctx, &store.APIToken{ID: "tok2", Name: "ro", Role: "viewer", Hash: "t2hash", CreatedAt: t0}))
	must("rotate", s.RotateStaticSecret(ctx, "default", "s1hash", []string{"cfghash"}, t0.Add(24*time.Hour), t0))
	must("rotate", s.RotateStaticSecret(ctx, "default", "s2hash", nil, t0.Add(48*time.Hour), t0.Add(time.Hour)))
	must("put device state", s.PutDeviceState(ctx, &store.DeviceState{Source: "intune", Key: "dev-device1", State: store.DeviceHeld,
		Detail: "accountEnabled false", ConfirmedAt: t0, CheckedAt: t0.Add(time.Minute), Held: []string{"201"}}))
	must("put device state", s.PutDeviceState(ctx, &store.DeviceState{Source: "jamf", Key: "computers/7", State: store.DeviceGood, CheckedAt: t0}))
	for range 3 {
		_, err := s.NextSequence(ctx, "crl/local")
		must("next sequence", err)
	}
	_, err = s.NextSequence(ctx, "crl/other")
	must("next sequence", err)
}

// seeded holds what seed writes, by kind.
var seeded = map[string]int{
	KindRecords: 10, KindRequests: 4, KindTokens: 2, KindChallenges: 2, KindStaticSecrets: 3, KindDeviceStates: 2, KindSequences: 2,
}
