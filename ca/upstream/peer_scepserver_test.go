package upstream

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestSCEPAgainstScepserver forwards device CSRs to Debian's scepserver
// (micromdm/scep 2.1.0) run with a challenge. scepserver reads the
// challenge from the CSR's challengePassword attribute only and does not
// look at who signed the PKCSReq, so RA forwarding works for a device
// whose CSR carries the upstream's challenge, and the gateway refuses the
// others itself (see doc.go).
func TestSCEPAgainstScepserver(t *testing.T) {
	bin := peerTool(t, "scepserver")
	dir := t.TempDir()
	depot := filepath.Join(dir, "depot")
	if out, err := exec.Command(bin, "ca", "-init", "-depot", depot, "-keySize", "2048").CombinedOutput(); err != nil {
		t.Fatalf("scepserver ca -init: %v\n%s", err, out)
	}
	caPEM, err := os.ReadFile(filepath.Join(depot, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(caPEM)
	if block == nil {
		t.Fatal("depot/ca.pem: no PEM")
	}
	caCert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	const challenge = "upstream-secret"
	port, out := startPeer(t, bin, "-depot", depot, "-port", "0", "-challenge", challenge, "-allowrenew", "0", "-debug")
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/scep"
	raCert, raKey := selfSigned(t, "certgate RA", 0)
	// The CA is pinned, as it would be in production over plain HTTP.
	roots := x509.NewCertPool()
	roots.AddCert(caCert)

	newFwd := func(t *testing.T, challenge string) *SCEP {
		f, err := NewSCEP(SCEPConfig{Name: "scepserver", URL: url, RACert: raCert, RAKey: raKey, Challenge: challenge, Roots: roots})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(f.Close)
		return f
	}

	t.Run("ok/chain", func(t *testing.T) {
		chain, err := newFwd(t, challenge).Chain(context.Background())
		if err != nil {
			t.Fatalf("Chain: %v\n%s", err, out)
		}
		if len(chain) != 1 || !chain[0].Equal(caCert) {
			t.Fatalf("chain %d certificates, want the depot CA", len(chain))
		}
	})

	// scepserver signs with the CSR's signature algorithm, so an ECDSA
	// device CSR fails against its RSA CA ("requested SignatureAlgorithm
	// does not match private key type"): devices here have RSA keys.
	for i, tc := range []struct {
		name          string
		fwdChallenge  string // the forwarder's configured Challenge
		csrChallenge  string // what the device's CSR carries
		want          string
		wantForwarded bool
	}{
		{"ok/device-csr-carries-upstream-challenge", challenge, challenge, "", true},
		{"ok/no-challenge-configured-but-csr-carries-it", "", challenge, "", true},
		{"fail/csr-without-challenge-refused-locally", challenge, "", "rejected:unauthorized", false},
		{"fail/csr-with-gateway-challenge-refused-locally", challenge, "certgate-one-time", "rejected:unauthorized", false},
		{"fail/upstream-refuses-wrong-challenge", "", "certgate-one-time", "rejected:badRequest", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fwd := newFwd(t, tc.fwdChallenge)
			cn := "device-" + filepath.Base(t.Name()) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
			csr, raw := csrFor(t, cn, tc.csrChallenge, rsaKey(t, 3+i))
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cert, err := fwd.Forward(ctx, csr, raw, "")
			if err != nil && tc.want == "" {
				t.Log(out)
			}
			wantErr(t, err, tc.want)
			var rej *Rejected
			if err != nil {
				if !errors.As(err, &rej) {
					t.Fatal(err)
				}
				if forwarded := rej.Detail != "" && rej.Detail[:8] == "failInfo"; forwarded != tc.wantForwarded {
					t.Fatalf("refusal %q: forwarded %v, want %v", rej.Detail, forwarded, tc.wantForwarded)
				}
				return
			}
			if err := cert.CheckSignatureFrom(caCert); err != nil {
				t.Fatalf("not issued by the depot CA: %v", err)
			}
			if cert.Subject.CommonName != cn {
				t.Fatalf("CN %q, want %q", cert.Subject.CommonName, cn)
			}
			pub, _ := x509.MarshalPKIXPublicKey(csr.PublicKey)
			if string(cert.RawSubjectPublicKeyInfo) != string(pub) {
				t.Fatal("certificate is not for the device's key")
			}
		})
	}
}
