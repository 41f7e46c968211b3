//go:build integration

package integration

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smallstep/pkcs7"
)

// estPost sends one EST simpleenroll with HTTP Basic and returns the
// status, headers and (for 200) the issued certificate.
func estPost(t *testing.T, e *apiEnv, profile string, csr []byte) (int, http.Header, *x509.Certificate) {
	t.Helper()
	return estPostWith(t, e, profile, csr, apiChallenge)
}

// estPostAuth is estPost with another Basic password, returning the status.
func estPostAuth(t *testing.T, e *apiEnv, profile string, csr []byte, password string) int {
	t.Helper()
	code, _, _ := estPostWith(t, e, profile, csr, password)
	return code
}

func estPostWith(t *testing.T, e *apiEnv, profile string, csr []byte, password string) (int, http.Header, *x509.Certificate) {
	t.Helper()
	code, h, cert := estTry(e, profile, csr, password)
	if code == 0 {
		t.Fatalf("EST %ssimpleenroll: no answer", profile)
	}
	return code, h, cert
}

// estTry is one EST simpleenroll with HTTP Basic; code 0 means no answer
// (connection refused, reset) or an answer that does not decode.
func estTry(e *apiEnv, profile string, csr []byte, password string) (int, http.Header, *x509.Certificate) {
	hc := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: e.root}}}
	defer hc.CloseIdleConnections()
	req, err := http.NewRequest("POST", e.est+profile+"/simpleenroll", strings.NewReader(base64.StdEncoding.EncodeToString(csr)))
	if err != nil {
		return 0, nil, nil
	}
	req.Header.Set("Content-Type", "application/pkcs10")
	req.SetBasicAuth("device", password)
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, resp.Header, nil
	}
	der, err := base64.StdEncoding.DecodeString(string(bytes.ReplaceAll(body, []byte("\n"), nil)))
	if err != nil {
		return 0, resp.Header, nil
	}
	p7, err := pkcs7.Parse(der)
	if err != nil || len(p7.Certificates) != 1 {
		return 0, resp.Header, nil
	}
	return resp.StatusCode, resp.Header, p7.Certificates[0]
}

// keyAndCSR makes a P-256 key and a CSR for subject.
func keyAndCSR(t *testing.T, subject pkix.Name) (*ecdsa.PrivateKey, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: subject}, key)
	if err != nil {
		t.Fatal(err)
	}
	return key, csr
}

// TestAPIAuth checks, over the real TLS listener, what each role may do
// with a token and with an admin client certificate, that a revoked admin
// certificate and a device certificate dressed up as one are refused, and
// that missing credentials get 401.
func TestAPIAuth(t *testing.T) {
	e := startAPIEnv(t, newDataDir(t))
	viewer, operator, admin := e.token(t, "v", "viewer"), e.token(t, "o", "operator"), e.token(t, "a", "admin")

	// A device certificate to revoke, and one whose subject imitates an
	// admin certificate (O and OU are passed through by the default profile).
	_, csr := keyAndCSR(t, pkix.Name{CommonName: "device-1"})
	if code, _, _ := estPost(t, e, "", csr); code != 200 {
		t.Fatalf("EST enroll: %d", code)
	}
	fakeKey, fakeCSR := keyAndCSR(t, pkix.Name{CommonName: "mallory", Organization: []string{"certgate admin"}, OrganizationalUnit: []string{"admin"}})
	code, _, fakeCert := estPost(t, e, "", fakeCSR)
	if code != 200 {
		t.Fatalf("EST enroll of the imitation: %d", code)
	}
	forged := &tls.Certificate{Certificate: [][]byte{fakeCert.Raw}, PrivateKey: fakeKey}

	dir := t.TempDir()
	out := mustCLI(t, "admin", "cert", "new", "alice", "--role", "operator", "--out", dir, "--data-dir", e.srv.DataDir)
	aliceSerial := strings.Fields(out)[2]
	alice, err := tls.LoadX509KeyPair(filepath.Join(dir, "alice.crt"), filepath.Join(dir, "alice.key"))
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Certificates []struct{ Serial, Profile string } `json:"certificates"`
	}
	e.call(t, "GET", "/certificates?profile=default", nil, viewer, nil).decode(t, &list)
	if len(list.Certificates) != 2 {
		t.Fatalf("%d default-profile certificates, want 2", len(list.Certificates))
	}
	target := list.Certificates[0].Serial
	revoke := map[string]string{"reason": "superseded"}
	newToken := map[string]string{"name": "x", "role": "viewer"}

	tests := []struct {
		name         string
		method, path string
		body         any
		token        string
		cert         *tls.Certificate
		want         int
	}{
		{name: "fail/no credentials", method: "GET", path: "/certificates", want: 401},
		{name: "fail/unknown token", method: "GET", path: "/certificates", token: "cgt_0000", want: 401},
		{name: "ok/viewer token reads", method: "GET", path: "/stats", token: viewer, want: 200},
		{name: "fail/viewer token revokes", method: "POST", path: "/certificates/" + target + "/revoke", body: revoke, token: viewer, want: 403},
		{name: "fail/operator token makes tokens", method: "POST", path: "/tokens", body: newToken, token: operator, want: 403},
		{name: "ok/admin token makes tokens", method: "POST", path: "/tokens", body: newToken, token: admin, want: 201},
		{name: "ok/operator certificate reads", method: "GET", path: "/certificates", cert: &alice, want: 200},
		{name: "fail/operator certificate makes tokens", method: "POST", path: "/tokens", body: newToken, cert: &alice, want: 403},
		{name: "ok/operator certificate revokes", method: "POST", path: "/certificates/" + target + "/revoke", body: revoke, cert: &alice, want: 200},
		{name: "fail/device certificate imitating an admin", method: "GET", path: "/certificates", cert: forged, want: 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := e.call(t, tc.method, tc.path, tc.body, tc.token, tc.cert)
			if a.Code != tc.want {
				t.Fatalf("%s %s: %d %s, want %d", tc.method, tc.path, a.Code, a.Body, tc.want)
			}
			if a.Code == 401 && !strings.HasPrefix(a.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("401 without WWW-Authenticate: Bearer")
			}
			if a.Code >= 400 && !bytes.Contains(a.Body, []byte(`"error"`)) {
				t.Errorf("error body is not JSON {\"error\": ...}: %s", a.Body)
			}
		})
	}
	t.Run("fail/revoked admin certificate", func(t *testing.T) {
		mustCLI(t, "revoke", aliceSerial, "--reason", "keyCompromise", "--data-dir", e.srv.DataDir)
		if a := e.call(t, "GET", "/certificates", nil, "", &alice); a.Code != 403 {
			t.Fatalf("revoked admin certificate: %d, want 403", a.Code)
		}
	})
	if strings.Contains(e.srv.Stderr.String(), admin) || strings.Contains(e.srv.Stderr.String(), operator) {
		t.Error("the log holds a token")
	}
}

// TestAPIApprovalSCEP holds a request from Debian's scepclient: it gets
// PENDING, the request shows in the API, an operator approves it with the
// CLI, and the client's next attempt gets the certificate.
func TestAPIApprovalSCEP(t *testing.T) {
	bin := requireTool(t, "scepclient")
	e := startAPIEnv(t, newDataDir(t))
	token := e.token(t, "v", "viewer")
	dir := t.TempDir()
	cmd := osexec.Command(bin, "-server-url", e.srv.URL+"/scep/held", "-challenge", apiChallenge,
		"-private-key", filepath.Join(dir, "key.pem"), "-certificate", filepath.Join(dir, "cert.pem"), "-cn", "held-scep")
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	var page struct {
		Requests []struct{ ID, Status, Subject, Protocol string } `json:"requests"`
	}
	for i := 0; ; i++ {
		e.call(t, "GET", "/requests?status=pending", nil, token, nil).decode(t, &page)
		if len(page.Requests) == 1 {
			break
		}
		if i > 100 {
			t.Fatalf("no pending request appeared; scepclient says:\n%s", out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r := page.Requests[0]; r.Protocol != "scep" || !strings.Contains(r.Subject, "CN=held-scep") {
		t.Fatalf("pending request %+v", r)
	}
	// The request is stored before the CertRep reaches scepclient.
	for i := 0; !strings.Contains(out.String(), "PENDING"); i++ {
		if i > 100 {
			t.Fatalf("scepclient did not report PENDING:\n%s", out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n := len(certsList(t, e.srv.DataDir, "--profile", "held")); n != 0 {
		t.Fatalf("%d certificates issued before approval", n)
	}
	mustCLI(t, "requests", "approve", page.Requests[0].ID, "--reason", "checked", "--data-dir", e.srv.DataDir)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("scepclient: %v\n%s", err, out.String())
		}
	case <-time.After(90 * time.Second):
		t.Fatalf("scepclient did not finish within 90s of the approval:\n%s", out.String())
	}
	cert := mustReadCert(t, filepath.Join(dir, "cert.pem"))
	if cert.Subject.CommonName != "held-scep" {
		t.Fatalf("issued %s", cert.Subject)
	}
	var r struct{ Status, Serial string }
	e.call(t, "GET", "/requests/"+page.Requests[0].ID, nil, token, nil).decode(t, &r)
	if r.Status != "issued" || r.Serial != serialHex(cert) {
		t.Fatalf("request after issuance: %+v, want issued with serial %s", r, serialHex(cert))
	}
}

// TestAPIApprovalEST holds EST requests, driven with curl as an embedded
// client would: 202 with Retry-After, then the certificate after approval,
// or 403 after rejection.
func TestAPIApprovalEST(t *testing.T) {
	curl := requireTool(t, "curl")
	openssl := requireTool(t, "openssl")
	e := startAPIEnv(t, newDataDir(t))
	operator := e.token(t, "o", "operator")
	dir := t.TempDir()
	csrFile := func(t *testing.T, cn string) string {
		t.Helper()
		der := filepath.Join(dir, cn+".der")
		b64 := filepath.Join(dir, cn+".b64")
		mustRunTool(t, openssl, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
			"-keyout", filepath.Join(dir, cn+".key"), "-subj", "/CN="+cn, "-outform", "DER", "-out", der)
		mustRunTool(t, openssl, "base64", "-in", der, "-out", b64)
		return b64
	}
	enroll := func(t *testing.T, b64 string) httpResult {
		t.Helper()
		return curlDo(t, curl, "--cacert", e.srv.CAFile("root.crt"), "-u", "device:"+apiChallenge,
			"-H", "Content-Type: application/pkcs10", "--data-binary", "@"+b64, e.est+"held/simpleenroll")
	}
	pendingID := func(t *testing.T, cn string) string {
		t.Helper()
		var page struct {
			Requests []struct{ ID, Subject string } `json:"requests"`
		}
		e.call(t, "GET", "/requests?status=pending&profile=held", nil, operator, nil).decode(t, &page)
		for _, r := range page.Requests {
			if strings.Contains(r.Subject, "CN="+cn) {
				return r.ID
			}
		}
		t.Fatalf("no pending request for %s in %+v", cn, page.Requests)
		return ""
	}
	t.Run("ok/approved", func(t *testing.T) {
		b64 := csrFile(t, "held-est-1")
		res := enroll(t, b64)
		if res.Code != 202 || res.Header.Get("Retry-After") == "" {
			t.Fatalf("first attempt: %d Retry-After %q, want 202 with Retry-After", res.Code, res.Header.Get("Retry-After"))
		}
		if res := enroll(t, b64); res.Code != 202 {
			t.Fatalf("retry before approval: %d, want 202", res.Code)
		}
		id := pendingID(t, "held-est-1")
		if a := e.call(t, "POST", "/requests/"+id+"/approve", map[string]string{}, operator, nil); a.Code != 200 {
			t.Fatalf("approve: %d %s", a.Code, a.Body)
		}
		res = enroll(t, b64)
		if res.Code != 200 {
			t.Fatalf("retry after approval: %d %s", res.Code, res.Body)
		}
		p7 := filepath.Join(dir, "held.p7")
		if err := os.WriteFile(p7+".b64", res.Body, 0o600); err != nil {
			t.Fatal(err)
		}
		mustRunTool(t, openssl, "base64", "-d", "-in", p7+".b64", "-out", p7)
		out := mustRunTool(t, openssl, "pkcs7", "-inform", "DER", "-in", p7, "-print_certs", "-noout")
		if !strings.Contains(out, "subject=CN = held-est-1") {
			t.Fatalf("issued: %s", out)
		}
		if a := e.call(t, "POST", "/requests/"+id+"/approve", nil, operator, nil); a.Code != 409 {
			t.Fatalf("approving twice: %d, want 409", a.Code)
		}
	})
	t.Run("fail/rejected", func(t *testing.T) {
		b64 := csrFile(t, "held-est-2")
		if res := enroll(t, b64); res.Code != 202 {
			t.Fatalf("first attempt: %d, want 202", res.Code)
		}
		id := pendingID(t, "held-est-2")
		if a := e.call(t, "POST", "/requests/"+id+"/reject", map[string]string{"reason": "unknown device"}, operator, nil); a.Code != 200 {
			t.Fatalf("reject: %d %s", a.Code, a.Body)
		}
		if res := enroll(t, b64); res.Code != 403 || !strings.Contains(string(res.Body), "unknown device") {
			t.Fatalf("retry after rejection: %d %s, want 403 naming the reason", res.Code, res.Body)
		}
	})
}

// TestAPIPagination pages through certificates over the real listener
// while new ones are enrolled between pages: no page repeats a record and
// every record present at the start is listed.
func TestAPIPagination(t *testing.T) {
	e := startAPIEnv(t, newDataDir(t))
	viewer := e.token(t, "v", "viewer")
	for i := 0; i < 12; i++ {
		_, csr := keyAndCSR(t, pkix.Name{CommonName: fmt.Sprintf("page-%d", i)})
		if code, _, _ := estPost(t, e, "", csr); code != 200 {
			t.Fatalf("enroll %d: %d", i, code)
		}
	}
	var all struct {
		Certificates []struct{ Serial string } `json:"certificates"`
	}
	e.call(t, "GET", "/certificates?limit=1000", nil, viewer, nil).decode(t, &all)
	seen := map[string]bool{}
	cursor := ""
	for page := 0; ; page++ {
		var p struct {
			Certificates []struct{ Serial string } `json:"certificates"`
			NextCursor   string                    `json:"next_cursor"`
		}
		e.call(t, "GET", "/certificates?limit=5&cursor="+cursor, nil, viewer, nil).decode(t, &p)
		for _, c := range p.Certificates {
			if seen[c.Serial] {
				t.Fatalf("serial %s on two pages", c.Serial)
			}
			seen[c.Serial] = true
		}
		_, csr := keyAndCSR(t, pkix.Name{CommonName: fmt.Sprintf("added-%d", page)})
		if code, _, _ := estPost(t, e, "", csr); code != 200 {
			t.Fatalf("enroll between pages: %d", code)
		}
		if p.NextCursor == "" {
			break
		}
		if page > 20 {
			t.Fatal("pagination does not end")
		}
		cursor = p.NextCursor
	}
	for _, c := range all.Certificates {
		if !seen[c.Serial] {
			t.Errorf("serial %s, present from the start, was never listed", c.Serial)
		}
	}
}

// TestAPIOneTimeChallenge: a one-time challenge made with the CLI enrolls
// scepclient once; the second use and an expired challenge fail, and
// neither issues anything.
func TestAPIOneTimeChallenge(t *testing.T) {
	bin := requireTool(t, "scepclient")
	e := startAPIEnv(t, newDataDir(t))
	url := e.srv.URL + "/scep/dyn"
	challenge := secret(mustCLI(t, "challenge", "new", "dyn", "--ttl", "10m", "--data-dir", e.srv.DataDir))
	if r := runScepclient(t, bin, url, challenge, "once-1"); r.err != nil {
		t.Fatalf("first use: %v\n%s", r.err, r.output)
	}
	if r := runScepclient(t, bin, url, challenge, "once-2"); r.err == nil {
		t.Fatalf("second use of a one-time challenge succeeded:\n%s", r.output)
	}
	operator := e.token(t, "o", "operator")
	var made struct{ Challenge string }
	e.call(t, "POST", "/profiles/dyn/challenges", map[string]string{"ttl": "1s"}, operator, nil).decode(t, &made)
	secret(made.Challenge)
	time.Sleep(1500 * time.Millisecond) // let it expire
	if r := runScepclient(t, bin, url, made.Challenge, "once-3"); r.err == nil {
		t.Fatalf("an expired one-time challenge enrolled:\n%s", r.output)
	}
	recs := certsList(t, e.srv.DataDir, "--profile", "dyn")
	if len(recs) != 1 || recs[0].CommonName != "once-1" {
		t.Fatalf("dyn certificates: %+v, want only once-1", recs)
	}
	if strings.Contains(e.srv.Stderr.String(), challenge) {
		t.Error("the log holds a one-time challenge")
	}
}

// TestAPIStaticRotation rotates a profile's static challenge over the API:
// with no grace the config's secret stops working at once and the new one
// works; a second rotation with a grace period keeps the first new one
// valid beside the second.
func TestAPIStaticRotation(t *testing.T) {
	bin := requireTool(t, "scepclient")
	e := startAPIEnv(t, newDataDir(t))
	operator := e.token(t, "o", "operator")
	url := e.srv.URL + "/scep/default"
	var first, second struct{ Challenge string }
	e.call(t, "PUT", "/profiles/default/static-challenge", map[string]string{"grace": "0s"}, operator, nil).decode(t, &first)
	secret(first.Challenge)
	if r := runScepclient(t, bin, url, apiChallenge, "rot-old"); r.err == nil {
		t.Fatalf("the retired config challenge still enrolls:\n%s", r.output)
	}
	if r := runScepclient(t, bin, url, first.Challenge, "rot-new"); r.err != nil {
		t.Fatalf("the rotated challenge: %v\n%s", r.err, r.output)
	}
	e.call(t, "PUT", "/profiles/default/static-challenge", map[string]string{"grace": "1h"}, operator, nil).decode(t, &second)
	secret(second.Challenge)
	for i, c := range []string{first.Challenge, second.Challenge} {
		if r := runScepclient(t, bin, url, c, fmt.Sprintf("rot-grace-%d", i)); r.err != nil {
			t.Fatalf("challenge %d after the second rotation: %v\n%s", i, r.err, r.output)
		}
	}
	if strings.Contains(e.srv.Stderr.String(), first.Challenge) {
		t.Error("the log holds a rotated challenge")
	}
}
