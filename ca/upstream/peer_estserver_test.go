package upstream

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func writePEM(t *testing.T, path string, blocks ...*pem.Block) {
	t.Helper()
	var b []byte
	for _, blk := range blocks {
		b = append(b, pem.EncodeToMemory(blk)...)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func certBlock(c *x509.Certificate) *pem.Block { return &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw} }

func pkcs8Block(t *testing.T, k crypto.PrivateKey) *pem.Block {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return &pem.Block{Type: "PRIVATE KEY", Bytes: der}
}

// TestESTAgainstEstserver forwards device CSRs to globalsign's estserver
// (a mock CA behind real TLS, verifying client certificates against its
// client_cas) authenticating with an mTLS client certificate loaded by
// LoadClientCert, and checks its refusals, deferrals and errors (the mock
// CA's "triggererrors" label) map to *Rejected, ErrPending and
// ErrUnavailable.
func TestESTAgainstEstserver(t *testing.T) {
	bin := peerTool(t, "estserver")
	dir := t.TempDir()
	root := newRootCA(t, "est root", 10)
	issuing := root.subCA(t, "est issuing CA", 11)
	writePEM(t, filepath.Join(dir, "ca.pem"), certBlock(issuing.cert), certBlock(root.cert))
	writePEM(t, filepath.Join(dir, "ca.key"), pkcs8Block(t, issuing.key))

	tlsKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tlsCert := issuing.issueTLS(t, "127.0.0.1", tlsKey.Public())
	writePEM(t, filepath.Join(dir, "tls.pem"), certBlock(tlsCert), certBlock(issuing.cert))
	writePEM(t, filepath.Join(dir, "tls.key"), pkcs8Block(t, tlsKey))

	clientCA := newRootCA(t, "gateway client CA", 12)
	writePEM(t, filepath.Join(dir, "client-ca.pem"), certBlock(clientCA.cert))
	clientKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	clientCert := clientCA.issue(t, "certgate gateway", clientKey.Public(), x509.KeyUsageDigitalSignature, x509.ExtKeyUsageClientAuth)
	writePEM(t, filepath.Join(dir, "client.pem"), certBlock(clientCert))
	writePEM(t, filepath.Join(dir, "client.key"), pkcs8Block(t, clientKey))
	strangerCA := newRootCA(t, "unknown client CA", 13)
	strangerCert := strangerCA.issue(t, "stranger", clientKey.Public(), x509.KeyUsageDigitalSignature, x509.ExtKeyUsageClientAuth)
	writePEM(t, filepath.Join(dir, "stranger.pem"), certBlock(strangerCert), pkcs8Block(t, clientKey))

	cfg, err := json.Marshal(map[string]any{
		"mock_ca": map[string]string{"certificates": filepath.Join(dir, "ca.pem"), "private_key": filepath.Join(dir, "ca.key")},
		"tls": map[string]any{
			"listen_address": "127.0.0.1:0",
			"certificates":   filepath.Join(dir, "tls.pem"),
			"private_key":    filepath.Join(dir, "tls.key"),
			"client_cas":     []string{filepath.Join(dir, "client-ca.pem")},
		},
		"allowed_hosts":        []string{"127.0.0.1"},
		"healthcheck_password": "unused-" + strconv.FormatInt(time.Now().UnixNano(), 36),
		"rate_limit":           0,
		"timeout":              30,
		"log_file":             filepath.Join(dir, "requests.log"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "estserver.json"), cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	port, out := startPeer(t, bin, "-config", filepath.Join(dir, "estserver.json"))
	base := "https://127.0.0.1:" + strconv.Itoa(port) + "/.well-known/est"
	roots := x509.NewCertPool()
	roots.AddCert(root.cert)

	gateway, err := LoadClientCert(filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key"), nil)
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := LoadClientCert(filepath.Join(dir, "stranger.pem"), "", nil)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("ok/chain", func(t *testing.T) {
		f := mustEST(t, ESTConfig{Name: "estserver", BaseURL: base, Roots: roots, ClientCert: gateway})
		chain, err := f.Chain(context.Background())
		if err != nil {
			t.Fatalf("Chain: %v\n%s", err, out)
		}
		if len(chain) != 2 || !chain[0].Equal(issuing.cert) || !chain[1].Equal(root.cert) {
			t.Fatalf("chain of %d, want issuing CA then root", len(chain))
		}
	})

	for _, tc := range []struct {
		name, label, cn string
		client          *tls.Certificate
		want            string
		wantRetryAfter  time.Duration
	}{
		{name: "ok/mtls", cn: "est-device-1", client: gateway},
		{name: "ok/mtls-with-label", label: "/somelabel", cn: "est-device-2", client: gateway},
		// estserver asks for a client certificate but does not require
		// one, so this passes, and the next case fails only because the
		// forwarder does send its certificate (TLS 1.3 reports the
		// refusal as an alert, a reset or a failed HTTP/2 connection).
		{name: "ok/no-client-cert", cn: "est-device-4"},
		{name: "fail/untrusted-client-cert", cn: "est-device-3", client: stranger, want: "unavailable"},
		{name: "fail/forbidden", label: "/triggererrors", cn: "Trigger Error Forbidden", client: gateway, want: "rejected:unauthorized"},
		{name: "pending/deferred", label: "/triggererrors", cn: "Trigger Error Deferred", client: gateway, want: "pending", wantRetryAfter: 600 * time.Second},
		{name: "fail/ca-error", label: "/triggererrors", cn: "Trigger Error Unknown", client: gateway, want: "unavailable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := mustEST(t, ESTConfig{Name: "estserver", BaseURL: base + tc.label, Roots: roots, ClientCert: tc.client})
			csr, raw := deviceCSR(t, tc.cn, "")
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cert, err := f.Forward(ctx, csr, raw, "")
			if err != nil && tc.want == "" {
				t.Log(out)
			}
			wantErr(t, err, tc.want)
			var pe *PendingError
			if errors.As(err, &pe) && pe.RetryAfter != tc.wantRetryAfter {
				t.Fatalf("RetryAfter %v, want %v", pe.RetryAfter, tc.wantRetryAfter)
			}
			if err != nil {
				return
			}
			if err := cert.CheckSignatureFrom(issuing.cert); err != nil {
				t.Fatalf("not issued by the mock CA: %v", err)
			}
			if cert.Subject.CommonName != tc.cn {
				t.Fatalf("CN %q, want %q", cert.Subject.CommonName, tc.cn)
			}
		})
	}
}
