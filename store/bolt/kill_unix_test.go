//go:build unix

package bolt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/certgate/certgate/store"
)

// crashWriterEnv makes the test binary act as a writer that SIGKILLs itself
// right after its writes return, like a server killed under load.
const crashWriterEnv = "CERTGATE_BOLT_CRASH_WRITER"

func TestMain(m *testing.M) {
	if path := os.Getenv(crashWriterEnv); path != "" {
		os.Exit(crashWriter(path))
	}
	os.Exit(m.Run())
}

// crashSequences is how many CRL numbers the crash writer draws.
const crashSequences = 2

// crashWriter returns only on failure; on success the process dies by
// SIGKILL without closing the store.
func crashWriter(path string) int {
	s, err := Open(path, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	ctx := context.Background()
	issued, reserved := testRecord(1), testRecord(2)
	err = s.Reserve(ctx, issued)
	if err == nil {
		issued.DER = []byte{0x30, 0x00}
		err = s.Issue(ctx, issued)
	}
	if err == nil {
		err = s.Reserve(ctx, reserved)
	}
	for range crashSequences {
		if err == nil {
			_, err = s.NextSequence(ctx, "crl/certgate")
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 4
	}
	fmt.Println("written")
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {}
}

// TestRecordsSurviveKill checks that a write that returned nil (records and
// sequence numbers) is in the file when the writing process is killed
// without Close.
func TestRecordsSurviveKill(t *testing.T) {
	path := filepath.Join(t.TempDir(), "certgate.db")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashWriterEnv+"="+path)
	out, err := cmd.Output()
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("writer: error = %v, want it killed", err)
	}
	if ws, ok := exit.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("writer did not die by SIGKILL: %v, stderr %s", err, exit.Stderr)
	}
	if string(out) != "written\n" {
		t.Fatalf("writer output = %q, want %q", out, "written\n")
	}

	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open after kill: %v", err)
	}
	defer s.Close()
	for serial, want := range map[int64]store.Status{1: store.StatusValid, 2: store.StatusReserved} {
		got, err := s.Cert(context.Background(), bigInt(serial))
		if err != nil {
			t.Fatalf("Cert %d after kill: %v", serial, err)
		}
		if got.Status != want {
			t.Errorf("serial %d: Status = %q, want %q", serial, got.Status, want)
		}
	}
	// A CRL number handed out before the kill must never come again.
	n, err := s.NextSequence(context.Background(), "crl/certgate")
	if err != nil {
		t.Fatalf("NextSequence after kill: %v", err)
	}
	if n != crashSequences+1 {
		t.Errorf("NextSequence after kill = %d, want %d", n, crashSequences+1)
	}
}
