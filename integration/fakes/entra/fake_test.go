package entra_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/certgate/certgate/integration/fakes/entra"
)

const (
	tenant = "contoso.onmicrosoft.com"
	client = "app-1"
	secret = "s3cret"
)

type tokenAnswer struct {
	status int
	body   map[string]any
}

func postForm(t *testing.T, f *entra.Fake, tenant string, form url.Values) tokenAnswer {
	t.Helper()
	resp, err := f.Client().PostForm(f.TokenURL(tenant), form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("body %q is not JSON", b)
	}
	return tokenAnswer{resp.StatusCode, m}
}

func form(kv ...string) url.Values {
	v := url.Values{"grant_type": {"client_credentials"}, "client_id": {client}, "client_secret": {secret},
		"scope": {"https://graph.microsoft.com/.default"}}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			v.Del(kv[i])
		} else {
			v.Set(kv[i], kv[i+1])
		}
	}
	return v
}

func TestToken(t *testing.T) {
	f := entra.New()
	defer f.Close()
	f.AddTenant(tenant)
	f.AddClient(client, secret)
	f.SetTokenLifetime(90 * time.Second)
	tests := []struct {
		name     string
		tenant   string
		form     url.Values
		status   int
		err      string  // AAD error, "" for success
		code     float64 // AADSTS number
		audience string
	}{
		{"ok/graph", tenant, form(), 200, "", 0, entra.AudienceGraph},
		{"ok/intune double slash", tenant, form("scope", "https://api.manage.microsoft.com//.default"), 200, "", 0, entra.AudienceIntune},
		{"ok/intune single slash", tenant, form("scope", "https://api.manage.microsoft.com/.default"), 200, "", 0, entra.AudienceIntune},
		{"ok/tenant case-insensitive", "Contoso.onmicrosoft.com", form(), 200, "", 0, entra.AudienceGraph},
		{"fail/bad secret", tenant, form("client_secret", "guess"), 401, "invalid_client", 7000215, ""},
		{"fail/no secret", tenant, form("client_secret", ""), 401, "invalid_client", 7000215, ""},
		{"fail/unknown client", tenant, form("client_id", "nobody"), 400, "unauthorized_client", 700016, ""},
		{"fail/unknown tenant", "fabrikam.onmicrosoft.com", form(), 400, "invalid_request", 90002, ""},
		{"fail/bad scope", tenant, form("scope", "https://graph.microsoft.com/User.Read"), 400, "invalid_scope", 70011, ""},
		{"fail/grant type", tenant, form("grant_type", "password"), 400, "unsupported_grant_type", 70003, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := postForm(t, f, tt.tenant, tt.form)
			if got.status != tt.status {
				t.Fatalf("status %d, want %d (%v)", got.status, tt.status, got.body)
			}
			if tt.err != "" {
				codes, _ := got.body["error_codes"].([]any)
				desc, _ := got.body["error_description"].(string)
				if got.body["error"] != tt.err || len(codes) != 1 || codes[0] != tt.code ||
					!strings.HasPrefix(desc, "AADSTS") || got.body["trace_id"] == nil || got.body["correlation_id"] == nil {
					t.Errorf("error body %v, want %s %v", got.body, tt.err, tt.code)
				}
				return
			}
			tok, _ := got.body["access_token"].(string)
			if got.body["token_type"] != "Bearer" || got.body["expires_in"] != 90.0 || tok == "" {
				t.Fatalf("token body %v", got.body)
			}
			if aud, ok := f.Audience(tok); !ok || aud != tt.audience {
				t.Errorf("Audience = %q, %v; want %q", aud, ok, tt.audience)
			}
		})
	}
	if g, i := f.TokensIssued(entra.AudienceGraph), f.TokensIssued(entra.AudienceIntune); g != 2 || i != 2 {
		t.Errorf("issued graph=%d intune=%d, want 2 and 2", g, i)
	}
}

func TestTokenExpiry(t *testing.T) {
	f := entra.New()
	defer f.Close()
	f.AddTenant(tenant)
	f.AddClient(client, secret)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.SetClock(func() time.Time { return now })
	f.SetTokenLifetime(time.Minute)
	tok := postForm(t, f, tenant, form()).body["access_token"].(string)
	now = now.Add(59 * time.Second)
	if _, ok := f.Audience(tok); !ok {
		t.Error("token invalid before expiry")
	}
	now = now.Add(time.Second)
	if _, ok := f.Audience(tok); ok {
		t.Error("token valid at expiry")
	}
	if _, ok := f.Audience("never-issued"); ok {
		t.Error("unknown token accepted")
	}
}

func TestClientAssertion(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "app"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	cert, _ := x509.ParseCertificate(der)
	f := entra.New()
	defer f.Close()
	f.AddTenant(tenant)
	f.AddCertClient("cert-app", cert)
	now := time.Now()
	s256 := sha256.Sum256(cert.Raw)
	s1 := sha1.Sum(cert.Raw)
	b64 := base64.RawURLEncoding.EncodeToString
	good := func() (map[string]any, map[string]any) {
		return map[string]any{"alg": "PS256", "typ": "JWT", "x5t#S256": b64(s256[:])},
			map[string]any{"aud": f.TokenURL(tenant), "iss": "cert-app", "sub": "cert-app", "jti": "j1",
				"nbf": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()}
	}
	sign := func(h, c map[string]any) string {
		hb, _ := json.Marshal(h)
		cb, _ := json.Marshal(c)
		in := b64(hb) + "." + b64(cb)
		d := sha256.Sum256([]byte(in))
		var sig []byte
		if h["alg"] == "RS256" {
			sig, _ = rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, d[:])
		} else {
			sig, _ = rsa.SignPSS(rand.Reader, key, crypto.SHA256, d[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		}
		return in + "." + b64(sig)
	}
	tests := []struct {
		name   string
		mod    func(h, c map[string]any)
		status int
	}{
		{"ok/PS256 x5t#S256", func(h, c map[string]any) {}, 200},
		{"ok/RS256 x5t", func(h, c map[string]any) { h["alg"] = "RS256"; delete(h, "x5t#S256"); h["x5t"] = b64(s1[:]) }, 200},
		{"fail/expired", func(h, c map[string]any) { c["exp"] = now.Add(-time.Minute).Unix() }, 401},
		{"fail/wrong aud", func(h, c map[string]any) { c["aud"] = "https://login.example/token" }, 401},
		{"fail/wrong iss", func(h, c map[string]any) { c["iss"] = "other" }, 401},
		{"fail/wrong thumbprint", func(h, c map[string]any) { h["x5t#S256"] = b64(s1[:]) }, 401},
		{"fail/HS256", func(h, c map[string]any) { h["alg"] = "HS256" }, 401},
		{"fail/no jti", func(h, c map[string]any) { delete(c, "jti") }, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, c := good()
			tt.mod(h, c)
			v := url.Values{"grant_type": {"client_credentials"}, "client_id": {"cert-app"},
				"scope":                 {"https://graph.microsoft.com/.default"},
				"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
				"client_assertion":      {sign(h, c)}}
			if got := postForm(t, f, tenant, v); got.status != tt.status {
				t.Errorf("status %d, want %d (%v)", got.status, tt.status, got.body)
			}
		})
	}
	// A malformed assertion is refused, not a crash.
	v := url.Values{"grant_type": {"client_credentials"}, "client_id": {"cert-app"}, "scope": {"https://graph.microsoft.com/.default"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {"a.b"}}
	if got := postForm(t, f, tenant, v); got.status != http.StatusUnauthorized {
		t.Errorf("malformed assertion: status %d", got.status)
	}
}
