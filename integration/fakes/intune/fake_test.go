package intune_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/smallstep/scep/x509util"

	"github.com/certgate/certgate/integration/fakes/intune"
	"github.com/certgate/certgate/integration/fakes/microsoft"
)

func token(t *testing.T, c *microsoft.Cloud, scope string) string {
	t.Helper()
	resp, err := c.Entra.Client().PostForm(c.Entra.TokenURL(c.Tenant), url.Values{
		"grant_type": {"client_credentials"}, "client_id": {c.ClientID},
		"client_secret": {c.ClientSecret}, "scope": {scope}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return body.AccessToken
}

func csrB64(t *testing.T, challenge string) string {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509util.CertificateRequest{ChallengePassword: challenge}
	tmpl.Subject = pkix.Name{CommonName: "dev"}
	der, err := x509util.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}

const reqID = "0f0e0d0c-0b0a-4908-8706-050403020100"

// call posts body to path on the fake with the headers of §3.2, after
// mod changes them.
func call(t *testing.T, c *microsoft.Cloud, path, body string, mod func(h http.Header)) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.Intune.URL()+path, strings.NewReader(body))
	h := req.Header
	h.Set("Authorization", "Bearer "+token(t, c, "https://api.manage.microsoft.com/.default"))
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("client-request-id", reqID)
	if strings.HasPrefix(path, intune.PKIPath) {
		h.Set("api-version", intune.APIVersionPKI)
	} else {
		h.Set("api-version", intune.APIVersionSCEP)
	}
	if mod != nil {
		mod(h)
	}
	resp, err := c.Intune.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return resp.StatusCode, m
}

func TestHeaders(t *testing.T) {
	c := microsoft.New()
	defer c.Close()
	c.Intune.AllowChallenge("ok", intune.Challenge{})
	validate := intune.SCEPPath + "/ScepActions/validateRequest"
	body := `{"request":{"transactionId":"tx","certificateRequest":"` + csrB64(t, "ok") + `","callerInfo":"test"}}`
	graphTok := token(t, c, "https://graph.microsoft.com/.default")
	tests := []struct {
		name   string
		mod    func(h http.Header)
		ua     bool
		status int
	}{
		{"ok/all headers", nil, false, 200},
		{"ok/UserAgent required and sent", func(h http.Header) { h.Set("UserAgent", "certgate/1") }, true, 200},
		{"fail/no bearer", func(h http.Header) { h.Del("Authorization") }, false, 401},
		{"fail/graph token", func(h http.Header) { h.Set("Authorization", "Bearer "+graphTok) }, false, 401},
		{"fail/forged token", func(h http.Header) { h.Set("Authorization", "Bearer forged") }, false, 401},
		{"fail/no api-version", func(h http.Header) { h.Del("api-version") }, false, 400},
		{"fail/PKI api-version on SCEP", func(h http.Header) { h.Set("api-version", intune.APIVersionPKI) }, false, 400},
		{"fail/no client-request-id", func(h http.Header) { h.Del("client-request-id") }, false, 400},
		{"fail/client-request-id not a UUID", func(h http.Header) { h.Set("client-request-id", "42") }, false, 400},
		{"fail/not JSON", func(h http.Header) { h.Set("Content-Type", "text/plain") }, false, 415},
		{"fail/UserAgent required", nil, true, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.Intune.RequireUserAgent(tt.ua)
			status, m := call(t, c, validate, body, tt.mod)
			if status != tt.status {
				t.Fatalf("status %d, want %d (%v)", status, tt.status, m)
			}
			if status == 200 && (m["code"] != "Success" || m["errorDescription"] != "") {
				t.Errorf("body %v", m)
			}
			if status != 200 && m["code"] != nil {
				t.Errorf("header error %v carries a result code", m)
			}
		})
	}
	// api-version as a query parameter does not count.
	status, _ := call(t, c, validate+"?api-version="+intune.APIVersionSCEP, body, func(h http.Header) { h.Del("api-version") })
	if status != 400 {
		t.Errorf("api-version in the query: status %d, want 400", status)
	}
}

func TestBodies(t *testing.T) {
	c := microsoft.New()
	defer c.Close()
	csr := csrB64(t, "x")
	scep := intune.SCEPPath + "/ScepActions/"
	pki := intune.PKIPath + "/CertificateAuthorityRequests/"
	success := func(extra string) string {
		return `{"notification":{"transactionId":"tx","certificateRequest":"` + csr + `","certificateThumbprint":"AB",` +
			`"certificateSerialNumber":"01","certificateExpirationDateUtc":"2027-01-01T00:00:00.000Z",` +
			`"issuingCertificateAuthority":"CN=CA","callerInfo":"c"` + extra + `}}`
	}
	failure := func(h string) string {
		return `{"notification":{"transactionId":"tx","certificateRequest":"` + csr + `","hResult":` + h + `,"errorDescription":"d","callerInfo":"c"}}`
	}
	tests := []struct {
		name   string
		path   string
		body   string
		status int
	}{
		{"ok/validate unknown challenge", scep + "validateRequest", `{"request":{"transactionId":"tx","certificateRequest":"` + csr + `","callerInfo":"c"}}`, 200},
		{"fail/validate unknown field", scep + "validateRequest", `{"request":{"transactionID":"tx","certificateRequest":"` + csr + `"}}`, 400},
		{"fail/validate no request", scep + "validateRequest", `{}`, 400},
		{"fail/validate not JSON", scep + "validateRequest", `<xml/>`, 400},
		{"ok/success Java shape", scep + "successNotification", success(""), 200},
		{"ok/success C# shape", scep + "successNotification", success(`,"caConfiguration":null,"certificateAuthority":null`), 200},
		{"fail/success empty thumbprint", scep + "successNotification", strings.Replace(success(""), `"AB"`, `""`, 1), 400},
		{"ok/failure", scep + "failureNotification", failure("2147549183"), 200},
		{"fail/failure hResult string", scep + "failureNotification", failure(`"2147549183"`), 400},
		{"fail/failure hResult too big", scep + "failureNotification", failure("4294967296"), 400},
		{"ok/download", pki + "downloadRevocationRequests", `{"downloadParameters":{"maxRequests":500,"issuerName":null}}`, 200},
		{"fail/download 0", pki + "downloadRevocationRequests", `{"downloadParameters":{"maxRequests":0,"issuerName":null}}`, 400},
		{"fail/download 501", pki + "downloadRevocationRequests", `{"downloadParameters":{"maxRequests":501}}`, 400},
		{"fail/download no max", pki + "downloadRevocationRequests", `{"downloadParameters":{}}`, 400},
		{"ok/upload name", pki + "uploadRevocationResults", `{"results":[{"requestContext":"a","succeeded":false,"errorCode":"CertificateNotFoundError","errorMessage":"x"}]}`, 200},
		{"ok/upload number string", pki + "uploadRevocationResults", `{"results":[{"requestContext":"a","succeeded":false,"errorCode":"4004","errorMessage":null}]}`, 200},
		{"ok/upload None", pki + "uploadRevocationResults", `{"results":[{"requestContext":"a","succeeded":true,"errorCode":"None","errorMessage":null}]}`, 200},
		{"fail/upload succeeded with error", pki + "uploadRevocationResults", `{"results":[{"requestContext":"a","succeeded":true,"errorCode":"4004"}]}`, 400},
		{"fail/upload failed with None", pki + "uploadRevocationResults", `{"results":[{"requestContext":"a","succeeded":false,"errorCode":"0"}]}`, 400},
		{"fail/upload unknown code", pki + "uploadRevocationResults", `{"results":[{"requestContext":"a","succeeded":false,"errorCode":"4999"}]}`, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, m := call(t, c, tt.path, tt.body, nil)
			if status != tt.status {
				t.Fatalf("status %d, want %d (%v)", status, tt.status, m)
			}
		})
	}
	ev := c.Intune.Events()
	if len(ev) != 4 || ev[0].Code != intune.CodeChallengeDecodingError || ev[1].Validated != intune.CodeChallengeDecodingError {
		t.Errorf("%d events, first code %q", len(ev), ev[0].Code)
	}
}
