//go:build integration

package integration

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"
)

// replicaCRL is one CRL a replica served.
type replicaCRL struct {
	der    []byte
	number int64
	listed map[string]bool // serial hex
}

// crlWatch fetches the replicas' CRLs and fails the test if the number a
// replica serves ever goes down.
type crlWatch struct {
	t    *testing.T
	ca   *x509.Certificate
	last map[*apiEnv]int64
}

func (w *crlWatch) fetch(e *apiEnv) *replicaCRL {
	w.t.Helper()
	resp, err := httpClient.Get(e.srv.URL + crlPath)
	if err != nil {
		w.t.Fatalf("GET %s: %v", crlPath, err)
	}
	defer resp.Body.Close()
	der, err := io.ReadAll(resp.Body)
	if err != nil {
		w.t.Fatalf("GET %s: %v", crlPath, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil // none published yet: 503
	}
	rl, err := x509.ParseRevocationList(der)
	if err != nil {
		w.t.Fatalf("CRL: %v", err)
	}
	if err := rl.CheckSignatureFrom(w.ca); err != nil {
		w.t.Fatalf("CRL signature: %v", err)
	}
	c := &replicaCRL{der: der, number: rl.Number.Int64(), listed: map[string]bool{}}
	for _, e := range rl.RevokedCertificateEntries {
		c.listed[e.SerialNumber.Text(16)] = true
	}
	if c.number < w.last[e] {
		w.t.Fatalf("%s served CRL number %d after %d", e.srv.URL, c.number, w.last[e])
	}
	w.last[e] = c.number
	return c
}

// same polls until every replica serves the same CRL bytes, listing each
// of serials, numbered above after; it returns that CRL and how long it
// took.
func (w *crlWatch) same(after int64, serials []string, replicas ...*apiEnv) (*replicaCRL, time.Duration) {
	w.t.Helper()
	start := time.Now()
	for {
		var first *replicaCRL
		ok := true
		for _, e := range replicas {
			c := w.fetch(e)
			switch {
			case c == nil || c.number <= after:
				ok = false
			case first == nil:
				first = c
			case !bytes.Equal(c.der, first.der):
				ok = false
			}
			for _, s := range serials {
				ok = ok && c != nil && c.listed[s]
			}
		}
		if ok {
			return first, time.Since(start)
		}
		if time.Since(start) > 15*time.Second {
			w.t.Fatalf("the replicas do not serve one CRL numbered above %d listing %v within 15s (last seen %v)", after, serials, w.last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// leading reads certgate_leader{role="crl_ocsp"} from a replica.
func leading(t *testing.T, e *apiEnv) bool {
	t.Helper()
	v, ok := metricValue(t, scrape(t, e.srv), "certgate_leader", map[string]string{"role": "crl_ocsp"})
	if !ok {
		t.Fatal("no certgate_leader{role=\"crl_ocsp\"} metric")
	}
	return v == 1
}

// TestReplicasLeader: of two replicas on one database exactly one builds
// CRLs; both serve the same CRL, which lists a revocation made through
// either within seconds; kill -9 the leader and the other takes over
// within a measured bound, and lists a later revocation in a CRL with a
// higher number. No replica ever serves a lower CRL number than before.
func TestReplicasLeader(t *testing.T) {
	// One public URL, as behind a load balancer: it is in the CRL's
	// Issuing Distribution Point, which every replica checks.
	a, b, caDir := startReplicas(t, "CERTGATE_CRL_DEBOUNCE=500ms", "CERTGATE_PUBLIC_URL=http://pki.example.test")
	caCert, _ := pem.Decode(mustRead(t, filepath.Join(caDir, "ca.crt")))
	ca, err := x509.ParseCertificate(caCert.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	w := &crlWatch{t: t, ca: ca, last: map[*apiEnv]int64{}}

	var leader, follower *apiEnv
	deadline := time.Now().Add(15 * time.Second)
	for leader == nil {
		la, lb := leading(t, a), leading(t, b)
		switch {
		case la && lb:
			t.Fatal("both replicas lead")
		case la:
			leader, follower = a, b
		case lb:
			leader, follower = b, a
		case time.Now().After(deadline):
			t.Fatal("no replica leads within 15s")
		default:
			time.Sleep(100 * time.Millisecond)
		}
	}
	crl, _ := w.same(0, nil, a, b)
	t.Logf("%s leads; both serve CRL %d", leader.srv.URL, crl.number)

	enroll := func(on *apiEnv, cn string) *x509.Certificate {
		_, csr := keyAndCSR(t, pkix.Name{CommonName: cn})
		code, _, cert := estPost(t, on, "", csr)
		if code != 200 {
			t.Fatalf("enroll %s: HTTP %d", cn, code)
		}
		return cert
	}
	revoke := func(on *apiEnv, c *x509.Certificate) {
		mustCLI(t, "revoke", serialHex(c), "--reason", "keyCompromise", "--data-dir", on.srv.DataDir)
	}
	later := enroll(follower, "revoked-after-takeover")
	var serials []string
	for _, on := range []*apiEnv{follower, leader} {
		c := enroll(on, "revoked-on-"+on.srv.URL)
		revoke(on, c)
		serials = append(serials, serialHex(c))
		next, took := w.same(crl.number, serials, a, b)
		t.Logf("revoked on the %s: both serve CRL %d listing it after %s", map[bool]string{true: "leader", false: "follower"}[on == leader], next.number, took.Round(time.Millisecond))
		crl = next
	}
	if n := len(follower.srv.LogEntries("crl built")); n != 0 {
		t.Fatalf("the follower built %d CRLs", n)
	}
	if v, _ := metricValue(t, scrape(t, follower.srv), "certgate_crl_number", map[string]string{"ca": "certgate"}); int64(v) != crl.number {
		t.Errorf("the follower's certgate_crl_number is %v, want %d", v, crl.number)
	}
	if leading(t, follower) {
		t.Fatal("the follower says it leads")
	}

	leader.srv.Kill()
	killed := time.Now()
	// The lease is tried every 2 s, and PostgreSQL frees a killed
	// process's lock as soon as the kernel closes its socket.
	waitUntil(t, "the survivor leads", 5*time.Second, func() bool { return leading(t, follower) })
	takeover := time.Since(killed)
	t.Logf("takeover: the survivor leads %s after kill -9 of the leader", takeover.Round(time.Millisecond))
	if len(follower.srv.LogEntries("leading: this replica builds the CRLs, pre-signs OCSP responses and polls the MDMs")) != 1 {
		t.Error("the survivor did not log its leadership once")
	}

	revoke(follower, later)
	serials = append(serials, serialHex(later))
	next, took := w.same(crl.number, serials, follower)
	t.Logf("after the takeover: CRL %d (was %d) lists the new revocation %s after it", next.number, crl.number, took.Round(time.Millisecond))
}

// waitUntil polls cond every 50ms until it holds, or fails after d.
func waitUntil(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
