package escrow

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func TestSealOpen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "escrow.key")
	s, err := LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v mode %v, want 0600", err, fi.Mode().Perm())
	}
	secret := []byte("pkcs8 bytes of a private key")
	blob, err := s.Seal("abc123", secret)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(blob, secret) {
		t.Fatal("blob holds the plaintext")
	}
	again, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	other, err := LoadOrCreate(filepath.Join(dir, "other.key"))
	if err != nil {
		t.Fatal(err)
	}
	tampered := bytes.Clone(blob)
	tampered[len(tampered)-1] ^= 1

	tests := []struct {
		name    string
		sealer  *Sealer
		serial  string
		blob    []byte
		wantErr error
	}{
		{name: "ok/same key file after reload", sealer: again, serial: "abc123", blob: blob},
		{name: "fail/other serial", sealer: again, serial: "abc124", blob: blob, wantErr: ErrOpen},
		{name: "fail/other key", sealer: other, serial: "abc123", blob: blob, wantErr: ErrOpen},
		{name: "fail/tampered", sealer: again, serial: "abc123", blob: tampered, wantErr: ErrOpen},
		{name: "fail/truncated", sealer: again, serial: "abc123", blob: blob[:5], wantErr: ErrOpen},
		{name: "fail/empty", sealer: again, serial: "abc123", wantErr: ErrOpen},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.sealer.Open(tc.serial, tc.blob)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Open err = %v, want %v", err, tc.wantErr)
			}
			if err == nil && !bytes.Equal(got, secret) {
				t.Fatalf("Open = %q", got)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.key")
	if err := os.WriteFile(bad, []byte("not hex\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(filepath.Join(dir, "missing.key")); err == nil {
		t.Error("Load of a missing file created or accepted it")
	}
	if _, err := os.Stat(filepath.Join(dir, "missing.key")); !errors.Is(err, os.ErrNotExist) {
		t.Error("Load created a key file")
	}
	if _, err := LoadOrCreate(bad); err == nil {
		t.Error("LoadOrCreate accepted a malformed key file")
	}
}

// Concurrent first starts agree on one key.
func TestCreateRace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "escrow.key")
	var wg sync.WaitGroup
	sealers := make([]*Sealer, 8)
	errs := make([]error, 8)
	for i := range sealers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sealers[i], errs[i] = LoadOrCreate(path)
		}()
	}
	wg.Wait()
	var blob []byte
	for i, s := range sealers {
		if errs[i] != nil {
			t.Fatalf("LoadOrCreate %d: %v", i, errs[i])
		}
		if blob == nil {
			var err error
			if blob, err = s.Seal("1", []byte("k")); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if _, err := s.Open("1", blob); err != nil {
			t.Errorf("sealer %d has another key: %v", i, err)
		}
	}
}
