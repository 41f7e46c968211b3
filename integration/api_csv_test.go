//go:build integration

package integration

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certgate/certgate/store"
	"github.com/certgate/certgate/store/bolt"
)

// csvRecords is how many records the export test seeds.
const csvRecords = 100_000

// seedRecords writes n issued records straight into the data dir's
// database before the server starts: enrolling 100,000 devices through
// the CA would take minutes, and the export only reads records.
func seedRecords(t *testing.T, dataDir string, n int) {
	t.Helper()
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	st, err := bolt.Open(dataDir+"/certgate.db", bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	now := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	// Concurrent writers share bbolt commits (group commit), which keeps
	// the fsyncs per record low.
	for range 128 {
		wg.Go(func() {
			for i := next.Add(1); i <= int64(n); i = next.Add(1) {
				serial := new(big.Int).Lsh(big.NewInt(i), 64)
				cn := fmt.Sprintf("seeded-%06d", i)
				rec := &store.CertRecord{Serial: serial, SerialHex: store.SerialHex(serial), Issuer: "certgate",
					Subject: "CN=" + cn, CommonName: cn, DNSNames: []string{cn + ".example"},
					NotBefore: now, NotAfter: now.Add(time.Duration(i%60) * 24 * time.Hour),
					Profile: "default", Protocol: "scep", DeviceID: "dev-" + strconv.FormatInt(i, 10),
					Status: store.StatusReserved, CreatedAt: now}
				err := st.Reserve(ctx, rec)
				if err == nil {
					rec.DER, rec.Status = []byte{0x30, 0x00}, store.StatusValid
					err = st.Issue(ctx, rec)
				}
				if err != nil {
					select {
					case errs <- err:
					default:
					}
					return
				}
			}
		})
	}
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatalf("seed: %v", err)
	default:
	}
}

// rssAnon reads a process's anonymous resident memory (its heap and
// stacks, not the mmap'd database file) from /proc.
func rssAnon(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "RssAnon:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no RssAnon in /proc/%d/status", pid)
}

// TestAPICSVExport streams a 100,000-record inventory as CSV over the
// admin API and samples the server's anonymous memory while it does: the
// export holds one page of records at a time, so its peak must stay far
// below the size of the CSV.
func TestAPICSVExport(t *testing.T) {
	dataDir := newDataDir(t)
	start := time.Now()
	seedRecords(t, dataDir, csvRecords)
	t.Logf("seeded %d records in %s", csvRecords, time.Since(start).Round(time.Millisecond))
	e := startAPIEnv(t, dataDir)
	token := e.token(t, "v", "viewer")
	pid := e.srv.cmd.Process.Pid
	before, err := rssAnon(pid)
	if err != nil {
		t.Fatal(err)
	}

	var peak atomic.Int64
	peak.Store(before)
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if v, err := rssAnon(pid); err == nil && v > peak.Load() {
					peak.Store(v)
				}
			}
		}
	}()

	hc := &http.Client{Timeout: 5 * time.Minute, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: e.root}}}
	req, _ := http.NewRequest("GET", strings.TrimSuffix(e.base, "/")+"/certificates.csv", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	exportStart := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("export: %s %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	sc := bufio.NewScanner(resp.Body)
	rows, bytes := 0, 0
	seen := make(map[string]bool, csvRecords)
	for sc.Scan() {
		line := sc.Text()
		bytes += len(line) + 1
		if rows > 0 {
			serial, _, _ := strings.Cut(line, ",")
			seen[serial] = true
		}
		rows++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(exportStart)
	close(stop)
	<-sampled
	if rows != csvRecords+1 || len(seen) != csvRecords {
		t.Fatalf("%d lines with %d distinct serials, want a header and %d records", rows, len(seen), csvRecords)
	}
	growth := peak.Load() - before
	t.Logf("exported %d records (%.1f MiB of CSV) in %s; server anonymous memory %.1f MiB before, peak %.1f MiB (+%.1f MiB)",
		csvRecords, float64(bytes)/(1<<20), elapsed.Round(time.Millisecond),
		float64(before)/(1<<20), float64(peak.Load())/(1<<20), float64(growth)/(1<<20))
	// Buffering the export would need at least the CSV's size on top.
	if growth >= int64(bytes) {
		t.Errorf("peak memory grew by %d bytes, at least the whole CSV (%d bytes): the export is not streamed", growth, bytes)
	}
}
