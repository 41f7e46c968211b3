package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certgate/certgate/store"
	"github.com/certgate/certgate/store/bolt"
)

func TestParseStoreSpec(t *testing.T) {
	const secret = "s3cret"
	env := map[string]string{"PGDSN": "postgres://app:" + secret + "@db.example:5433/certgate", "BLANK": "  "}
	files := map[string]string{"/run/dsn": "host=db.example port=5432 user=app password=" + secret + " dbname=cg\n", "/run/empty": "\n"}
	getenv := func(k string) string { return env[k] }
	readFile := func(p string) ([]byte, error) {
		if v, ok := files[p]; ok {
			return []byte(v), nil
		}
		return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
	}
	tests := []struct {
		name      string
		spec      string
		wantKind  string
		wantLabel string
		wantCmd   bool
		// wantErr is "" for success; else a part of the error, and
		// wantUsage whether it is a usage error (exit 2).
		wantErr   string
		wantUsage bool
	}{
		{"ok/bbolt", "bbolt:/var/lib/certgate/certgate.db", "bbolt", "bbolt /var/lib/certgate/certgate.db", false, "", false},
		{"ok/bolt alias", "bolt:x.db", "bbolt", "bbolt x.db", false, "", false},
		{"ok/postgres from env", "postgres-env:PGDSN", "postgres", "postgres app@db.example:5433/certgate (DSN from $PGDSN)", false, "", false},
		{"ok/postgres from file", "postgres-file:/run/dsn", "postgres", "postgres app@db.example:5432/cg (DSN from /run/dsn)", false, "", false},
		{"ok/postgres on the command line", "postgres:postgres://app:" + secret + "@db.example/certgate", "postgres", "postgres app@db.example:5432/certgate (DSN on the command line)", true, "", false},
		{"ok/bare URL", "postgresql://app:" + secret + "@db.example/certgate", "postgres", "postgres app@db.example:5432/certgate (DSN on the command line)", true, "", false},
		{"fail/env not set", "postgres-env:NOPE", "", "", false, "environment variable NOPE is empty or not set", false},
		{"fail/env blank", "postgres-env:BLANK", "", "", false, "environment variable BLANK is empty or not set", false},
		{"fail/file missing", "postgres-file:/run/none", "", "", false, "open /run/none: file does not exist", false},
		{"fail/file empty", "postgres-file:/run/empty", "", "", false, "/run/empty is empty", false},
		{"fail/bbolt without path", "bbolt:", "", "", false, "bbolt: want a file path", true},
		{"fail/postgres without DSN", "postgres:", "", "", false, "postgres: want a DSN", true},
		{"fail/unknown scheme shown", "mysql://root:" + secret + "@db/x", "", "", false, `cannot tell what store "mysql:" names`, true},
		{"fail/key=value DSN without scheme withheld", "host=db password=" + secret, "", "", false, "cannot tell what store it names", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStoreSpec(tt.spec, getenv, readFile)
			if tt.wantErr != "" {
				var ue *usageError
				switch {
				case err == nil:
					t.Fatalf("no error, want one containing %q", tt.wantErr)
				case !strings.Contains(err.Error(), tt.wantErr):
					t.Errorf("error %q, want it to contain %q", err, tt.wantErr)
				case errors.As(err, &ue) != tt.wantUsage:
					t.Errorf("error %q: usage error %v, want %v", err, !tt.wantUsage, tt.wantUsage)
				}
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q shows the password", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseStoreSpec: %v", err)
			}
			if got.kind != tt.wantKind || got.label != tt.wantLabel || got.onCommandLine != tt.wantCmd {
				t.Errorf("got kind %q, label %q, on command line %v; want %q, %q, %v", got.kind, got.label, got.onCommandLine, tt.wantKind, tt.wantLabel, tt.wantCmd)
			}
			if strings.Contains(got.label, secret) {
				t.Errorf("label %q shows the password", got.label)
			}
		})
	}
}

// cmdTestKey signs the test certificates.
var cmdTestKey = func() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}()

// boltWith creates a bbolt file at path holding one valid record per
// serial, each agreeing with its certificate, and returns path.
func boltWith(t *testing.T, path string, serials ...int64) string {
	t.Helper()
	s, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	from := time.Now().Add(-time.Hour).Truncate(time.Second).UTC()
	for _, n := range serials {
		tpl := &x509.Certificate{SerialNumber: big.NewInt(n), Subject: pkix.Name{CommonName: "dev"}, NotBefore: from, NotAfter: from.Add(24 * time.Hour)}
		der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &cmdTestKey.PublicKey, cmdTestKey)
		if err != nil {
			t.Fatal(err)
		}
		r := &store.CertRecord{Serial: big.NewInt(n), Subject: "CN=dev", CommonName: "dev", NotBefore: from, NotAfter: from.Add(24 * time.Hour),
			Status: store.StatusValid, CreatedAt: from, IssuedAt: from, DER: der}
		if err := s.ImportRecords(context.Background(), []*store.CertRecord{r}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.NextSequence(context.Background(), "crl/local"); err != nil {
		t.Fatal(err)
	}
	return path
}

// badRecord adds a record whose DER does not parse.
func badRecord(t *testing.T, path string, serial int64) {
	t.Helper()
	s, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r := &store.CertRecord{Serial: big.NewInt(serial), Status: store.StatusValid, CreatedAt: time.Now(), IssuedAt: time.Now(), DER: []byte{0x30, 0}}
	if err := s.ImportRecords(context.Background(), []*store.CertRecord{r}); err != nil {
		t.Fatal(err)
	}
}

func TestStoreMigrate(t *testing.T) {
	tests := []struct {
		name string
		// setup returns the arguments after "store migrate".
		setup      func(t *testing.T, dir string) []string
		wantCode   int
		wantStdout []string
		wantStderr []string
	}{
		{"ok/bbolt to bbolt", func(t *testing.T, dir string) []string {
			src := boltWith(t, filepath.Join(dir, "src.db"), 1, 2, 3)
			return []string{"--from", "bbolt:" + src, "--to", "bbolt:" + filepath.Join(dir, "dst.db")}
		}, 0, []string{"source: bbolt ", "records:         3 copied, 0 already there", "sequences:       1 copied", "  records            3 sha256:", "ok: the target holds everything"}, nil},
		{"ok/again: nothing to copy", func(t *testing.T, dir string) []string {
			src := boltWith(t, filepath.Join(dir, "src.db"), 1, 2, 3)
			args := []string{"--from", "bbolt:" + src, "--to", "bbolt:" + filepath.Join(dir, "dst.db")}
			var out bytes.Buffer
			if code := run(append([]string{"store", "migrate"}, args...), &out, &out); code != 0 {
				t.Fatalf("first run: exit %d: %s", code, out.String())
			}
			return args
		}, 0, []string{"records:         0 copied, 3 already there", "ok: the target holds everything"}, nil},
		{"ok/source from the data dir", func(t *testing.T, dir string) []string {
			boltWith(t, filepath.Join(dir, "certgate.db"), 1)
			return []string{"--data-dir", dir, "--to", "bbolt:" + filepath.Join(dir, "dst.db")}
		}, 0, []string{"records:         1 copied", "ok: the target holds everything"}, nil},
		{"fail/conflict", func(t *testing.T, dir string) []string {
			src := boltWith(t, filepath.Join(dir, "src.db"), 1, 2)
			dst := boltWith(t, filepath.Join(dir, "dst.db"), 2) // another signature
			return []string{"--from", "bbolt:" + src, "--to", "bbolt:" + dst}
		}, 1, []string{"records:         1 copied"}, []string{"record 2 is in the target but differs from the source (der)", "run the same command again"}},
		{"fail/verification", func(t *testing.T, dir string) []string {
			src := boltWith(t, filepath.Join(dir, "src.db"), 1)
			dst := boltWith(t, filepath.Join(dir, "dst.db"), 9)
			return []string{"--from", "bbolt:" + src, "--to", "bbolt:" + dst}
		}, 1, []string{"records:         1 copied", "MISMATCH"}, []string{"verification failed: the target differs from the source in 2 of the lines above"}},
		{"fail/source missing", func(t *testing.T, dir string) []string {
			return []string{"--from", "bbolt:" + filepath.Join(dir, "none.db"), "--to", "bbolt:" + filepath.Join(dir, "dst.db")}
		}, 1, nil, []string{"open the source: store: bbolt: stat ", "no such file or directory"}},
		{"fail/same store", func(t *testing.T, dir string) []string {
			src := boltWith(t, filepath.Join(dir, "src.db"), 1)
			return []string{"--from", "bbolt:" + src, "--to", "bbolt:" + filepath.Join(dir, ".", "src.db")}
		}, 2, nil, []string{"the source and the target are the same store"}},
		{"fail/no target", func(t *testing.T, dir string) []string { return []string{"--from", "bbolt:x.db"} },
			2, nil, []string{"want --to bbolt:PATH"}},
		{"fail/DSN withheld", func(t *testing.T, dir string) []string {
			return []string{"--from", "bbolt:x.db", "--to", "user=u password=hunter2"}
		}, 2, nil, []string{"cannot tell what store it names"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			args := append([]string{"store", "migrate"}, tt.setup(t, dir)...)
			var stdout, stderr bytes.Buffer
			code := run(args, &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, stdout.String(), stderr.String())
			}
			for _, w := range tt.wantStdout {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout.String())
				}
			}
			for _, w := range tt.wantStderr {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr.String())
				}
			}
			if strings.Contains(stdout.String()+stderr.String(), "hunter2") {
				t.Error("output shows the password")
			}
		})
	}
}

func TestStoreCheck(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(t *testing.T, dir string) []string
		wantCode   int
		wantStdout []string
		wantStderr []string
	}{
		{"ok/clean store in the data dir", func(t *testing.T, dir string) []string {
			boltWith(t, filepath.Join(dir, "certgate.db"), 1, 2)
			return []string{"--data-dir", dir}
		}, 0, []string{"2 records (0 reserved, 2 valid, 0 revoked), 0 requests, 0 tokens: 0 errors, 0 warnings"}, nil},
		{"fail/certificate does not parse", func(t *testing.T, dir string) []string {
			p := boltWith(t, filepath.Join(dir, "x.db"), 1)
			badRecord(t, p, 0x10)
			return []string{"--store", "bbolt:" + p, "--quick"}
		}, 1, []string{"error: record 10: certificate does not parse", "1 errors, 0 warnings"}, []string{"certgate store: store check: 1 errors"}},
		{"fail/store missing, and not created", func(t *testing.T, dir string) []string {
			return []string{"--store", "bbolt:" + filepath.Join(dir, "none.db")}
		}, 1, nil, []string{"store check: open: store: bbolt: stat "}},
		{"fail/unexpected argument", func(t *testing.T, dir string) []string { return []string{"extra"} },
			2, nil, []string{`store check: unexpected argument "extra"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			args := append([]string{"store", "check"}, tt.setup(t, dir)...)
			var stdout, stderr bytes.Buffer
			code := run(args, &stdout, &stderr)
			if _, err := os.Stat(filepath.Join(dir, "none.db")); err == nil {
				t.Error("check created the missing store")
			}
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, stdout.String(), stderr.String())
			}
			for _, w := range tt.wantStdout {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout.String())
				}
			}
			for _, w := range tt.wantStderr {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr.String())
				}
			}
		})
	}
}
