package devicestate

import (
	"context"
	"errors"
	"math/big"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/certgate/certgate/store"
	"github.com/certgate/certgate/store/bolt"
)

// fakeSource answers from a map; a missing key is a failed lookup.
type fakeSource struct {
	mu      sync.Mutex
	devices map[string]Observation
	calls   map[string]int
}

func (f *fakeSource) set(key string, o Observation) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.devices[key] = o
}

func (f *fakeSource) fail(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.devices, key)
}

func (f *fakeSource) Lookup(_ context.Context, key string) (Observation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[key]++
	o, ok := f.devices[key]
	if !ok {
		return Observation{}, errors.New("HTTP 503")
	}
	return o, nil
}

type env struct {
	st   *bolt.Store
	src  *fakeSource
	reg  *prometheus.Registry
	now  time.Time
	p    *Poller
	next int64
}

func newEnv(t *testing.T, policy Policy) *env {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "s.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{st: st, src: &fakeSource{devices: map[string]Observation{}, calls: map[string]int{}}, reg: prometheus.NewRegistry(),
		now: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC), next: 0x1000}
	m, err := NewMetrics(e.reg)
	if err != nil {
		t.Fatal(err)
	}
	e.p = &Poller{Profile: "dev", SourceName: "intune", Source: e.src, Policy: policy, Store: st, Revoker: st,
		Metrics: m, Now: func() time.Time { return e.now }}
	return e
}

// cert records a valid certificate of profile dev bound to device,
// issued at issued.
func (e *env) cert(t *testing.T, device string, issued time.Time) *big.Int {
	t.Helper()
	e.next++
	sn := big.NewInt(e.next)
	r := &store.CertRecord{Serial: sn, Issuer: "ca", Subject: "CN=" + device, Profile: "dev", Protocol: "scep", DeviceID: device,
		NotBefore: issued, NotAfter: issued.Add(365 * 24 * time.Hour)}
	if err := e.st.Reserve(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	r.DER, r.IssuedAt = []byte{0x30, 0}, issued
	if err := e.st.Issue(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return sn
}

func (e *env) once(t *testing.T) {
	t.Helper()
	if err := e.p.Once(context.Background()); err != nil {
		t.Fatalf("Once: %v", err)
	}
}

func (e *env) status(t *testing.T, sn *big.Int) string {
	t.Helper()
	r, err := e.st.Cert(context.Background(), sn)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status == store.StatusRevoked {
		return store.ReasonName(r.RevocationReason)
	}
	return string(r.Status)
}

// want is a certificate's expected status: valid, or a reason name.
type want struct {
	name string
	sn   *big.Int
	want string
}

func (e *env) expect(t *testing.T, wants []want) {
	t.Helper()
	for _, w := range wants {
		if got := e.status(t, w.sn); got != w.want {
			t.Errorf("%s: %s, want %s", w.name, got, w.want)
		}
	}
}

func TestPollerStates(t *testing.T) {
	e := newEnv(t, Policy{})
	issued := e.now.Add(-time.Hour)
	good, gone, wiped, disabled := e.cert(t, "good", issued), e.cert(t, "gone", issued), e.cert(t, "wiped", issued), e.cert(t, "disabled", issued)
	disabled2 := e.cert(t, "disabled", issued) // a second certificate of one device: one lookup
	admin := e.cert(t, "admin", issued)
	if _, err := e.st.Revoke(context.Background(), admin, store.ReasonCertificateHold, issued); err != nil {
		t.Fatal(err)
	}
	e.src.set("good", Observation{Found: true})
	e.src.set("gone", Observation{Found: false})
	e.src.set("wiped", Observation{Found: true, Permanent: true, Detail: "managementState wipePending"})
	e.src.set("disabled", Observation{Found: true, Disabled: true, Detail: "accountEnabled false"})
	e.src.set("admin", Observation{Found: true})
	e.once(t)

	e.expect(t, []want{
		{"good stays valid", good, "valid"},
		{"deleted is revoked", gone, "cessationOfOperation"},
		{"wiped is revoked", wiped, "cessationOfOperation"},
		{"disabled is held", disabled, "certificateHold"},
		{"every certificate of the device is held", disabled2, "certificateHold"},
		{"an operator's hold is not lifted", admin, "certificateHold"},
	})
	if n := e.src.calls["disabled"]; n != 1 {
		t.Errorf("device with two certificates looked up %d times, want 1", n)
	}
	ds, err := e.st.DeviceState(context.Background(), "intune", "disabled")
	if err != nil || ds.State != store.DeviceHeld || len(ds.Held) != 2 || !ds.ConfirmedAt.Equal(e.now) {
		t.Fatalf("stored state of the disabled device: %+v, %v", ds, err)
	}

	// Enabled again: the holds are lifted; deleted devices stay revoked
	// even if they come back.
	e.now = e.now.Add(time.Minute)
	e.src.set("disabled", Observation{Found: true})
	e.src.set("gone", Observation{Found: true})
	e.once(t)
	e.expect(t, []want{
		{"re-enabled is valid again", disabled, "valid"},
		{"second certificate too", disabled2, "valid"},
		{"a revocation is final", gone, "cessationOfOperation"},
		{"an operator's hold is still not lifted", admin, "certificateHold"},
	})
	if ds, _ := e.st.DeviceState(context.Background(), "intune", "disabled"); ds.State != store.DeviceGood || len(ds.Held) != 0 {
		t.Errorf("state after re-enabling: %+v", ds)
	}
	if got := testutil.ToFloat64(e.p.Metrics.actions.WithLabelValues("dev", "release")); got != 2 {
		t.Errorf("release actions %v, want 2", got)
	}
	if got := testutil.ToFloat64(e.p.Metrics.checks.WithLabelValues("dev", "intune", "revoke")); got != 2 {
		t.Errorf("checks with result revoke %v, want 2 (gone, wiped in the first pass)", got)
	}
}

func TestPollerFailOpen(t *testing.T) {
	e := newEnv(t, Policy{})
	held, good := e.cert(t, "held", e.now.Add(-time.Hour)), e.cert(t, "good", e.now.Add(-time.Hour))
	e.src.set("held", Observation{Found: true, Disabled: true})
	e.src.set("good", Observation{Found: true})
	e.once(t)
	e.src.fail("held")
	e.src.fail("good")
	e.now = e.now.Add(1000 * time.Hour)
	e.once(t)
	if a, b := e.status(t, held), e.status(t, good); a != "certificateHold" || b != "valid" {
		t.Fatalf("after MDM errors with fail_open: %s and %s, want the last known certificateHold and valid", a, b)
	}
	if got := testutil.ToFloat64(e.p.Metrics.staleness.WithLabelValues("dev")); got != (1000 * time.Hour).Seconds() {
		t.Errorf("staleness %v s, want %v", got, (1000 * time.Hour).Seconds())
	}
	if got := testutil.ToFloat64(e.p.Metrics.checks.WithLabelValues("dev", "intune", "error")); got != 2 {
		t.Errorf("checks with result error %v, want 2", got)
	}
}

func TestPollerFailClosed(t *testing.T) {
	e := newEnv(t, Policy{FailClosed: true, MaxStaleness: time.Hour})
	sn := e.cert(t, "dev-1", e.now.Add(-time.Minute))
	e.src.set("dev-1", Observation{Found: true})
	e.once(t)
	e.src.fail("dev-1")
	e.now = e.now.Add(30 * time.Minute)
	e.once(t)
	if got := e.status(t, sn); got != "valid" {
		t.Fatalf("within max_staleness: %s, want valid", got)
	}
	e.now = e.now.Add(31 * time.Minute)
	e.once(t)
	if got := e.status(t, sn); got != "certificateHold" {
		t.Fatalf("past max_staleness: %s, want certificateHold", got)
	}
	e.src.set("dev-1", Observation{Found: true})
	e.now = e.now.Add(time.Minute)
	e.once(t)
	if got := e.status(t, sn); got != "valid" {
		t.Fatalf("confirmed again: %s, want valid", got)
	}
	if got := testutil.ToFloat64(e.p.Metrics.staleness.WithLabelValues("dev")); got != 0 {
		t.Errorf("staleness after confirmation %v, want 0", got)
	}
}

// TestPollerSharedDevice: two profiles whose certificates are bound to one
// device share its stored state; neither loses the other's holds.
func TestPollerSharedDevice(t *testing.T) {
	e := newEnv(t, Policy{})
	a := e.cert(t, "dev", e.now.Add(-time.Hour))
	// A certificate of profile "other" for the same device.
	e.next++
	b := big.NewInt(e.next)
	r := &store.CertRecord{Serial: b, Issuer: "ca", Subject: "CN=dev", Profile: "other", Protocol: "est", DeviceID: "dev",
		NotBefore: e.now.Add(-time.Hour), NotAfter: e.now.Add(time.Hour)}
	if err := e.st.Reserve(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	r.DER = []byte{0x30, 0}
	if err := e.st.Issue(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	other := *e.p
	other.Profile, other.Metrics = "other", nil
	pass := func(p *Poller) {
		t.Helper()
		if err := p.Once(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	e.src.set("dev", Observation{Found: true, Disabled: true})
	pass(e.p)
	pass(&other)
	if ds, _ := e.st.DeviceState(context.Background(), "intune", "dev"); len(ds.Held) != 2 {
		t.Fatalf("held %v, want both profiles' serials", ds.Held)
	}
	e.src.set("dev", Observation{Found: true})
	pass(e.p)
	if got := e.status(t, b); got != "certificateHold" {
		t.Fatalf("the other profile's certificate: %s before its own poll, want certificateHold", got)
	}
	pass(&other)
	if sa, sb := e.status(t, a), e.status(t, b); sa != "valid" || sb != "valid" {
		t.Fatalf("after both polls: %s, %s; want both valid", sa, sb)
	}
}

// forgetful reads no device state, as a replica does that read it just
// before another replica wrote.
type forgetful struct{ Store }

func (forgetful) DeviceState(context.Context, string, string) (*store.DeviceState, error) {
	return nil, store.ErrNotFound
}

// TestPollerReplicasRace: a second replica that read the device's state
// before the first one held its certificate sees the hold, takes it for
// an operator's, and must not erase it from the stored state: the first
// replica still lifts it when the device is good again.
func TestPollerReplicasRace(t *testing.T) {
	e := newEnv(t, Policy{})
	sn := e.cert(t, "dev", e.now.Add(-time.Hour))
	e.src.set("dev", Observation{Found: true, Disabled: true})
	e.once(t)
	late := *e.p
	late.Store = forgetful{e.st}
	if err := late.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ds, _ := e.st.DeviceState(context.Background(), "intune", "dev"); len(ds.Held) != 1 {
		t.Fatalf("held %v after the late replica's pass, want the serial kept", ds.Held)
	}
	e.src.set("dev", Observation{Found: true})
	e.once(t)
	if got := e.status(t, sn); got != "valid" {
		t.Fatalf("after the device is good again: %s, want valid", got)
	}
}
