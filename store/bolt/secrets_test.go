package bolt

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/certgate/certgate/store"
)

func TestRotateStaticSecret(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	st, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
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
	if err := st.RotateStaticSecret(ctx, "p", "h1", nil, t0, t0); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("reusing a secret: %v, want ErrConflict", err)
	}
	if err := st.RotateStaticSecret(ctx, "", "h3", nil, t0, t0); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("empty profile: %v, want ErrInvalid", err)
	}
	st.Close()
	st, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got, err := st.StaticSecrets(ctx, "p")
	if err != nil {
		t.Fatal(err)
	}
	// cfg's grace (t0+1h) ended before the second rotation (t0+2h), so it
	// is gone and not retired again; h1 was current then, so its grace runs
	// to the second rotation's end, t0+3h.
	want := map[string]time.Time{"h1": t0.Add(3 * time.Hour), "h2": {}}
	if len(got) != len(want) {
		t.Fatalf("secrets after reopen: %+v, want h1 (in grace) and h2 (current)", got)
	}
	for _, s := range got {
		if w, ok := want[s.Hash]; !ok || !s.ExpiresAt.Equal(w) {
			t.Errorf("secret %s expires %v, want %v", s.Hash, s.ExpiresAt, w)
		}
	}
	if other, _ := st.StaticSecrets(ctx, "q"); len(other) != 0 {
		t.Errorf("profile q sees p's secrets")
	}
}
