//go:build integration

package integration

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/smallstep/pkcs7"
	"github.com/smallstep/scep"
)

// TestSCEPBadInput sends the running server malformed, refused and
// unauthorised requests. Each must get its exact HTTP status or CertRep
// failInfo, leave the server healthy and leave no valid or reserved record
// behind; and no challenge, right or wrong, may reach the log.
func TestSCEPBadInput(t *testing.T) {
	srv := startServer(t, newDataDir(t))
	challenge := srv.Challenge()
	wrongChallenge := "wrong-challenge-" + randomHex(t, 12)
	c := newSCEPClient(t, srv.URL+"/scep")

	// A message the server would accept, so that the cases sending it
	// through a wrong door prove the door, not the message, is refused.
	valid := mustBuild(t, c, pkcsReq(t, "badinput-valid", challenge))
	const pkiOp = "/scep?operation=PKIOperation"
	for _, tc := range []struct {
		name, method, path, contentType string
		body                            []byte
		want                            int
	}{
		{"fail/garbage-body", http.MethodPost, pkiOp, "application/x-pki-message", []byte("this is not a pkiMessage"), http.StatusBadRequest},
		{"fail/truncated-message", http.MethodPost, pkiOp, "application/x-pki-message", valid[:len(valid)/2], http.StatusBadRequest},
		{"fail/content-type-text-plain", http.MethodPost, pkiOp, "text/plain", valid, http.StatusUnsupportedMediaType},
		{"fail/oversized-body", http.MethodPost, pkiOp, "application/x-pki-message", bytes.Repeat([]byte{0x30}, 300<<10), http.StatusRequestEntityTooLarge},
		{"fail/unknown-operation", http.MethodPost, "/scep?operation=Frobnicate", "application/x-pki-message", valid, http.StatusBadRequest},
		{"fail/missing-operation", http.MethodPost, "/scep", "application/x-pki-message", valid, http.StatusBadRequest},
		{"fail/unknown-profile-getcacaps", http.MethodGet, "/scep/nope?operation=GetCACaps", "", nil, http.StatusNotFound},
		{"fail/unknown-profile-pkioperation", http.MethodPost, "/scep/nope?operation=PKIOperation", "application/x-pki-message", valid, http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer mustNothingRecorded(t, srv)()
			req, err := http.NewRequestWithContext(t.Context(), tc.method, srv.URL+tc.path, bytes.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			resp, err := httpClient.Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", tc.method, tc.path, err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("%s %s: %s %q, want %d", tc.method, tc.path, resp.Status, bytes.TrimSpace(body), tc.want)
			}
		})
	}

	for _, tc := range []struct {
		name  string
		build func(t *testing.T) ([]byte, identity)
		want  scep.FailInfo
	}{
		{"fail/csr-rsa-1024", func(t *testing.T) ([]byte, identity) {
			// The CSR's key is too small; the message itself is signed
			// with an acceptable 2048-bit key.
			signer := mustIdentity(t, "badinput-rsa1024")
			key, err := rsa.GenerateKey(rand.Reader, 1024)
			if err != nil {
				t.Fatal(err)
			}
			csr, err := newCSR(key, "badinput-rsa1024", challenge)
			if err != nil {
				t.Fatal(err)
			}
			return mustBuild(t, c, scepRequest{Type: scep.PKCSReq, CSR: csr, Key: key, Signer: signer}), signer
		}, scep.BadAlg},
		{"fail/csr-signature-broken", func(t *testing.T) ([]byte, identity) {
			signer := mustIdentity(t, "badinput-csr-sig")
			csr, err := newCSR(signer.Key, "badinput-csr-sig", challenge)
			if err != nil {
				t.Fatal(err)
			}
			return mustBuild(t, c, scepRequest{Type: scep.PKCSReq, CSR: brokenCSR(t, csr), Key: signer.Key, Signer: signer}), signer
		}, scep.BadMessageCheck},
		{"fail/outer-signature-corrupted", func(t *testing.T) ([]byte, identity) {
			r := pkcsReq(t, "badinput-outer-sig", challenge)
			return corruptOuterSignature(t, mustBuild(t, c, r)), r.Signer
		}, scep.BadMessageCheck},
		{"fail/wrong-challenge", func(t *testing.T) ([]byte, identity) {
			r := pkcsReq(t, "badinput-wrong-challenge", wrongChallenge)
			return mustBuild(t, c, r), r.Signer
		}, scep.BadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer mustNothingRecorded(t, srv)()
			raw, signer := tc.build(t)
			body, err := c.post(t.Context(), raw)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := c.open(body, signer)
			if err != nil {
				t.Fatal(err)
			}
			mustFail(t, rep, tc.want)
		})
	}

	// Stop first: the log is complete once the process has exited.
	srv.Stop()
	log := srv.Stderr.String()
	if !strings.Contains(log, `"outcome":"rejected"`) {
		t.Errorf("no rejected enrollment in the log: the secret check below would prove nothing\n%s", log)
	}
	for name, secret := range map[string]string{"the real challenge": challenge, "the wrong challenge": wrongChallenge} {
		if strings.Contains(log, secret) {
			t.Errorf("the server log contains %s %q", name, secret)
		}
	}
}

// mustNothingRecorded notes the valid and reserved records; the function
// it returns, deferred by a subtest, checks the server still answers
// /healthz and that neither list gained a record.
func mustNothingRecorded(t *testing.T, srv *server) func() {
	t.Helper()
	valid := certsList(t, srv.DataDir, "--status", "valid")
	reserved := certsList(t, srv.DataDir, "--status", "reserved")
	return func() {
		t.Helper()
		resp, err := httpClient.Get(srv.URL + "/healthz")
		if err != nil {
			t.Fatalf("GET /healthz afterwards: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /healthz afterwards: %s", resp.Status)
		}
		mustSerials(t, certsList(t, srv.DataDir, "--status", "valid"), serials(valid))
		mustSerials(t, certsList(t, srv.DataDir, "--status", "reserved"), serials(reserved))
	}
}

func serials(recs []certRecord) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.Serial)
	}
	return out
}

func mustIdentity(t *testing.T, cn string) identity {
	t.Helper()
	id, err := newSelfSignedIdentity(cn)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func mustBuild(t *testing.T, c *scepClient, r scepRequest) []byte {
	t.Helper()
	raw, err := c.build(r)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// brokenCSR returns csr with the last byte of its signature flipped. The
// signature BIT STRING ends the DER, so that byte is signature, not
// structure, and the result still parses.
func brokenCSR(t *testing.T, csr *x509.CertificateRequest) *x509.CertificateRequest {
	t.Helper()
	if !bytes.HasSuffix(csr.Raw, csr.Signature) {
		t.Fatal("CSR DER does not end with its signature")
	}
	der := bytes.Clone(csr.Raw)
	der[len(der)-1] ^= 0xff
	broken, err := x509.ParseCertificateRequest(der)
	if err != nil {
		t.Fatalf("CSR with a flipped signature byte no longer parses: %v", err)
	}
	if broken.CheckSignature() == nil {
		t.Fatal("CSR signature still verifies after flipping a byte")
	}
	return broken
}

// corruptOuterSignature flips the last byte of the pkiMessage's signature.
// pkcs7 writes no unsigned attributes, so the SignerInfo's signature ends
// the DER; the check below makes sure of it.
func corruptOuterSignature(t *testing.T, raw []byte) []byte {
	t.Helper()
	p7, err := pkcs7.Parse(raw)
	if err != nil || len(p7.Signers) != 1 {
		t.Fatalf("parse own pkiMessage: %v", err)
	}
	if !bytes.HasSuffix(raw, p7.Signers[0].EncryptedDigest) {
		t.Fatal("pkiMessage DER does not end with its signature")
	}
	out := bytes.Clone(raw)
	out[len(out)-1] ^= 0xff
	p7, err = pkcs7.Parse(out)
	if err != nil {
		t.Fatalf("pkiMessage with a flipped signature byte no longer parses: %v", err)
	}
	if p7.Verify() == nil {
		t.Fatal("pkiMessage signature still verifies after flipping a byte")
	}
	return out
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
