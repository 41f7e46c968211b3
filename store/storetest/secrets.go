package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/certgate/certgate/store"
)

// SecretStore is a store.Secrets that can be closed and reopened.
type SecretStore interface {
	store.Secrets
	Close() error
}

// RunSecrets runs the suite for store.Secrets; open follows the RunCache
// convention (the same db name reopens the same data). It pins: a rotation
// gives the current secret and every retired config hash the grace
// expiry; entries whose grace ended are dropped on the next rotation,
// except retired config hashes, which stay listed (or the config would
// make them valid again); reusing a secret is ErrConflict; an empty
// profile or hash is ErrInvalid; rotations survive a reopen and do not
// leak into other profiles.
func RunSecrets(t *testing.T, open func(t *testing.T, db string) SecretStore) {
	ctx := context.Background()
	st := open(t, "secrets")
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	if got, err := st.StaticSecrets(ctx, "p"); err != nil || len(got) != 0 {
		t.Fatalf("before any rotation: %v, %v", got, err)
	}
	if err := st.RotateStaticSecret(ctx, "p", "h1", []string{"cfg"}, t0.Add(time.Hour), t0); err != nil {
		t.Fatal(err)
	}
	if err := st.RotateStaticSecret(ctx, "p", "h2", []string{"cfg"}, t0.Add(3*time.Hour), t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name          string
		profile, hash string
		want          error
	}{
		{"fail/reused secret", "p", "h1", store.ErrConflict},
		{"fail/empty profile", "", "h3", store.ErrInvalid},
		{"fail/empty hash", "p", "", store.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := st.RotateStaticSecret(ctx, tc.profile, tc.hash, nil, t0, t0); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st = open(t, "secrets")
	defer st.Close()
	got, err := st.StaticSecrets(ctx, "p")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]time.Time{"cfg": t0.Add(time.Hour), "h1": t0.Add(3 * time.Hour), "h2": {}}
	if len(got) != len(want) {
		t.Fatalf("secrets after reopen: %+v, want cfg (retired), h1 (in grace) and h2 (current)", got)
	}
	for _, s := range got {
		if w, ok := want[s.Hash]; !ok || !s.ExpiresAt.Equal(w) {
			t.Errorf("secret %s expires %v, want %v", s.Hash, s.ExpiresAt, w)
		}
	}
	if other, err := st.StaticSecrets(ctx, "q"); err != nil || len(other) != 0 {
		t.Errorf("profile q: %v, %v; want nothing", other, err)
	}
}
