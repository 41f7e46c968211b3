package upstream

import (
	"bufio"
	"bytes"
	"fmt"
	"go/build"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// peerTool finds a real peer's binary on PATH or in $(go env GOPATH)/bin.
// Missing, it skips the test, except under CI=true, where it fails.
func peerTool(t *testing.T, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		gopath = build.Default.GOPATH
	}
	for _, dir := range filepath.SplitList(gopath) {
		p := filepath.Join(dir, "bin", name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s not found; CI must have it (scripts/install-test-deps, scripts/install-est-tools)", name)
	}
	t.Skipf("%s not found; install it to run this test against the real peer", name)
	return ""
}

// lockedBuffer collects a peer's output for failure messages.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startPeer starts a server told to listen on port 0 and returns the port
// it got. Neither scepserver nor estserver reports its address, so it is
// read from /proc: the listening TCP socket among the process's file
// descriptors. No port is reserved and released beforehand, so no other
// process can take it in between.
func startPeer(t *testing.T, bin string, args ...string) (port int, out *lockedBuffer) {
	t.Helper()
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		t.Skip("needs Linux /proc to find the peer's port")
	}
	out = &lockedBuffer{}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	for range 1000 {
		select {
		case <-exited:
			t.Fatalf("%s exited:\n%s", bin, out)
		default:
		}
		if p := listeningPort(cmd.Process.Pid); p > 0 {
			return p, out
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s did not listen:\n%s", bin, out)
	return 0, nil
}

// listeningPort is the port of a TCP socket pid listens on, or 0.
func listeningPort(pid int) int {
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return 0
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		link, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if err == nil && strings.HasPrefix(link, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] = true
		}
	}
	for _, table := range []string{"tcp", "tcp6"} {
		f, err := os.Open(fmt.Sprintf("/proc/%d/net/%s", pid, table))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
			fields := strings.Fields(sc.Text())
			if len(fields) < 10 || fields[3] != "0A" || !inodes[fields[9]] {
				continue
			}
			if i := strings.LastIndexByte(fields[1], ':'); i >= 0 {
				if p, err := strconv.ParseUint(fields[1][i+1:], 16, 16); err == nil {
					f.Close()
					return int(p)
				}
			}
		}
		f.Close()
	}
	return 0
}
