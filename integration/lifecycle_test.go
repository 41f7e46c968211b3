//go:build integration

package integration

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/smallstep/scep"
)

// TestServeFirstStart: the first start creates the CA, the challenge and
// the database with private files kept private, and says so in the banner;
// a restart on the same data dir reuses the CA. The banner address is the
// one CERTGATE_LISTEN asked for (the harness sets 127.0.0.1:0).
func TestServeFirstStart(t *testing.T) {
	dataDir := newDataDir(t)
	srv := startServer(t, dataDir)
	// The banner is complete once the process has exited.
	srv.Stop()
	first := srv.Stdout.String()

	caFP := fingerprint(mustReadCert(t, srv.CAFile("ca.crt")))
	rootFP := fingerprint(mustReadCert(t, srv.CAFile("root.crt")))
	for _, want := range []string{
		"created a new CA",
		"SCEP URL:                " + srv.URL + "/scep\n",
		"CA certificate SHA-256:  " + caFP + "\n",
		"root CA SHA-256:         " + rootFP + "\n",
		"challenge: file " + filepath.Join(dataDir, "challenge") + "\n",
	} {
		if !strings.Contains(first, want) {
			t.Errorf("first-start banner lacks %q:\n%s", want, first)
		}
	}

	t.Run("ok/listen-env-override", func(t *testing.T) {
		host, port, err := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
		if err != nil || host != "127.0.0.1" || port == "0" || port == "8080" {
			t.Fatalf("server URL %s (%v), want 127.0.0.1 and the port bound for CERTGATE_LISTEN=127.0.0.1:0", srv.URL, err)
		}
		if want := "listening on 127.0.0.1:" + port + "\n"; !strings.Contains(first, want) {
			t.Errorf("banner lacks %q:\n%s", want, first)
		}
		logs := srv.LogEntries("certgate listening")
		if len(logs) != 1 || logs[0]["addr"] != "127.0.0.1:"+port {
			t.Errorf("\"certgate listening\" log entries %v, want one with addr 127.0.0.1:%s", logs, port)
		}
	})

	t.Run("ok/data-dir-files", func(t *testing.T) {
		for _, tc := range []struct {
			path string
			mode os.FileMode
		}{
			{"ca/ca.key", 0o600},
			{"ca/root.key", 0o600},
			{"challenge", 0o600},
			{"certgate.db", 0},
		} {
			fi, err := os.Stat(filepath.Join(dataDir, tc.path))
			if err != nil {
				t.Errorf("%s: %v", tc.path, err)
				continue
			}
			if !fi.Mode().IsRegular() {
				t.Errorf("%s: mode %v, want a regular file", tc.path, fi.Mode())
			}
			if tc.mode != 0 && fi.Mode().Perm() != tc.mode {
				t.Errorf("%s: mode %v, want %v", tc.path, fi.Mode().Perm(), tc.mode)
			}
		}
	})

	t.Run("ok/restart-keeps-ca", func(t *testing.T) {
		again := startServer(t, dataDir)
		again.Stop()
		second := again.Stdout.String()
		if strings.Contains(second, "created a new CA") {
			t.Errorf("second start created a new CA:\n%s", second)
		}
		for _, want := range []string{
			"CA certificate SHA-256:  " + caFP + "\n",
			"root CA SHA-256:         " + rootFP + "\n",
		} {
			if !strings.Contains(second, want) {
				t.Errorf("second-start banner lacks %q:\n%s", want, second)
			}
		}
	})
}

// fingerprint is the SHA-256 of the DER as colon-separated upper-case hex,
// the form the banner and `ca init` print.
func fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

// TestServeGracefulShutdown sends SIGTERM once 20 concurrent enrollments
// are on the wire. Whatever the server answers it must answer in full (a
// complete, verifiable CertRep issuing the certificate, which is then on
// record), it must record nothing it did not answer, and it must still
// exit 0 and log "stopped".
func TestServeGracefulShutdown(t *testing.T) {
	const n = 20
	dataDir := newDataDir(t)
	srv := startServer(t, dataDir)
	challenge := srv.Challenge()
	c := newSCEPClient(t, srv.URL+"/scep")
	reqs := make([]scepRequest, n)
	raws := make([][]byte, n)
	for i := range n {
		reqs[i] = pkcsReq(t, fmt.Sprintf("drain-%d", i), challenge)
		raws[i] = mustBuild(t, c, reqs[i])
	}

	type outcome struct {
		err     error // no HTTP response at all
		status  int
		ctype   string
		body    []byte
		bodyErr error
	}
	results := make([]outcome, n)
	var written, done sync.WaitGroup
	written.Add(n)
	for i := range n {
		done.Go(func() {
			var once sync.Once
			sent := func() { once.Do(written.Done) }
			defer sent() // a request that failed before it was written
			ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
				WroteRequest: func(httptrace.WroteRequestInfo) { sent() },
			})
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url+"?operation=PKIOperation", bytes.NewReader(raws[i]))
			if err != nil {
				results[i].err = err
				return
			}
			req.Header.Set("Content-Type", "application/x-pki-message")
			resp, err := c.hc.Do(req)
			if err != nil {
				results[i].err = err
				return
			}
			defer resp.Body.Close()
			results[i].status, results[i].ctype = resp.StatusCode, resp.Header.Get("Content-Type")
			results[i].body, results[i].bodyErr = io.ReadAll(resp.Body)
		})
	}
	written.Wait()
	srv.Stop() // SIGTERM; fails the test unless the process exits 0 within 30s
	done.Wait()

	issued := map[string]bool{}
	var cut []string
	for i, r := range results {
		switch {
		case r.err != nil:
			cut = append(cut, r.err.Error())
			continue
		case r.bodyErr != nil:
			t.Errorf("request %d: %d response cut short: %v", i, r.status, r.bodyErr)
			continue
		case r.status != http.StatusOK || r.ctype != "application/x-pki-message":
			t.Errorf("request %d: %d %q %q, want 200 with a CertRep", i, r.status, r.ctype, r.body)
			continue
		}
		rep, err := c.open(r.body, reqs[i].Signer)
		if err != nil {
			t.Errorf("request %d: %v", i, err)
			continue
		}
		if rep.PKIStatus != scep.SUCCESS {
			t.Errorf("request %d: pkiStatus %s failInfo %q, want SUCCESS", i, string(rep.PKIStatus), string(rep.FailInfo))
			continue
		}
		issued[serialHex(mustIssued(t, rep, reqs[i]).Cert)] = true
	}
	// Every request was on the wire before SIGTERM, so every one must be
	// answered: serve keeps reading for a drain delay before Shutdown,
	// which would otherwise drop requests it has not yet read
	// (golang/go#75591).
	if len(cut) != 0 {
		t.Errorf("%d of %d requests answered, %d got no response: %v", len(issued), n, len(cut), cut)
	}
	if len(srv.LogEntries("stopped")) != 1 {
		t.Errorf("log has no single \"stopped\" entry:\n%s", srv.Stderr.String())
	}
	// Exactly the answered requests are on record: a certificate issued
	// for a request whose reply was lost would show up here.
	var want []string
	for s := range issued {
		want = append(want, s)
	}
	mustSerials(t, certsList(t, dataDir, "--status", "valid"), want)
	mustSerials(t, certsList(t, dataDir, "--status", "reserved"), nil)
}

// TestServeConfigFile runs `certgate serve --config FILE`: bad files are
// refused naming the bad key, and a file with two profiles serves each
// at /scep/<name> guarded by its own secret.
func TestServeConfigFile(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, wantStderr string
	}{
		{"fail/unknown-key", "listen: 127.0.0.1:0\nlistne: 127.0.0.1:0\n", "listne"},
		{"fail/bad-listen", "listen: \"abc\"\n", `listen: "abc"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// data_dir and a profile make the file valid but for the
			// key under test.
			yaml := tc.yaml + "data_dir: " + newDataDir(t) + "\n" +
				"profiles:\n  - name: default\n    validator:\n      secrets: [not-used-here]\n"
			res := runCLI(t, "serve", "--config", writeFile(t, "certgate.yaml", yaml))
			if res.Code == 0 || !strings.Contains(res.Stderr, tc.wantStderr) {
				t.Errorf("certgate serve --config: exit %d stderr %q, want non-zero and stderr naming %q", res.Code, res.Stderr, tc.wantStderr)
			}
		})
	}

	first, second := "first-"+randomHex(t, 12), "second-"+randomHex(t, 12)
	cfg := writeFile(t, "certgate.yaml", `scep:
  default_profile: first
profiles:
  - name: first
    validator:
      type: static
      secrets_env: CG_IT_FIRST_SECRET
  - name: second
    validator:
      type: static
      secrets_env: CG_IT_SECOND_SECRET
`)
	srv := startServerArgs(t, newDataDir(t), []string{"--config", cfg},
		"CG_IT_FIRST_SECRET="+first, "CG_IT_SECOND_SECRET="+second)
	c := newSCEPClient(t, srv.URL+"/scep/second")

	t.Run("ok/second-profile-own-secret", func(t *testing.T) {
		id := c.mustEnroll(t, "config-second", second)
		rec := recordBySerial(certsList(t, srv.DataDir), serialHex(id.Cert))
		if rec == nil || rec.Profile != "second" || rec.Status != "valid" {
			t.Errorf("record for %s: %+v, want profile second, valid", serialHex(id.Cert), rec)
		}
	})
	t.Run("fail/second-profile-first-secret", func(t *testing.T) {
		mustFail(t, c.mustTransact(t, pkcsReq(t, "config-second-bad", first)), scep.BadRequest)
		if recs := certsList(t, srv.DataDir, "--subject", "config-second-bad"); len(recs) != 0 {
			t.Errorf("records after a refused enrollment: %+v", recs)
		}
	})
	t.Run("fail/default-profile-second-secret", func(t *testing.T) {
		def := newSCEPClient(t, srv.URL+"/scep")
		mustFail(t, def.mustTransact(t, pkcsReq(t, "config-first-bad", second)), scep.BadRequest)
	})
}

// writeFile writes content to name in a fresh temp dir and returns the path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
