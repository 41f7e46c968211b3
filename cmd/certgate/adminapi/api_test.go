package adminapi

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certgate/certgate/store"
	"github.com/certgate/certgate/store/bolt"
	"github.com/certgate/certgate/validate"
)

// fixture is an API over a real bbolt store, with records made directly
// in the store and a token per role.
type fixture struct {
	st     *bolt.Store
	h      http.Handler
	tokens map[Role]string
}

// storeRevoker is the Revoker without OCSP or CRLs behind it.
type storeRevoker struct{ st *bolt.Store }

func (r storeRevoker) Revoke(ctx context.Context, serial *big.Int, reason int, at time.Time) (*store.CertRecord, error) {
	return r.st.Revoke(ctx, serial, reason, at)
}

func (r storeRevoker) ReleaseHold(ctx context.Context, serial *big.Int) (*store.CertRecord, error) {
	return r.st.ReleaseHold(ctx, serial)
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{st: st, tokens: map[Role]string{}}
	for _, role := range []Role{Viewer, Operator, Admin} {
		secret, tok, err := NewToken(role.String()+"-token", role)
		if err != nil {
			t.Fatal(err)
		}
		tok.CreatedAt = time.Now()
		if err := st.PutToken(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
		f.tokens[role] = secret
	}
	srv, err := New(Options{
		Store: st, Revoker: storeRevoker{st}, Auth: TLSAuth{Tokens: st, Certs: st},
		Profiles: map[string]ProfileInfo{"dyn": {OneTime: true, OneTimeTTL: time.Hour},
			"static": {Static: true, StaticHashes: []string{validate.ChallengeHash("from-config")}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	f.h = srv.Handler()
	return f
}

// addCert records an issued certificate with serial n directly.
func (f *fixture) addCert(t *testing.T, n int64, cn, profile string) {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	rec := &store.CertRecord{Serial: big.NewInt(n), SerialHex: store.SerialHex(big.NewInt(n)), Issuer: "certgate",
		Subject: "CN=" + cn, CommonName: cn, NotBefore: now, NotAfter: now.Add(24 * time.Hour),
		Profile: profile, Protocol: "scep", Status: store.StatusReserved, CreatedAt: now}
	if err := f.st.Reserve(ctx, rec); err != nil {
		t.Fatal(err)
	}
	rec.DER, rec.Status = []byte{0x30, 0x00}, store.StatusValid
	if err := f.st.Issue(ctx, rec); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) call(t *testing.T, role Role, method, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if role != 0 {
		r.Header.Set("Authorization", "Bearer "+f.tokens[role])
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	return w
}

func TestRoles(t *testing.T) {
	f := newFixture(t)
	f.addCert(t, 0x10, "a", "static")
	tests := []struct {
		name   string
		role   Role
		method string
		path   string
		body   string
		want   int
	}{
		{name: "fail/no credentials", method: "GET", path: "/api/v1/certificates", want: 401},
		{name: "ok/viewer lists", role: Viewer, method: "GET", path: "/api/v1/certificates", want: 200},
		{name: "ok/viewer stats", role: Viewer, method: "GET", path: "/api/v1/stats", want: 200},
		{name: "fail/viewer revokes", role: Viewer, method: "POST", path: "/api/v1/certificates/10/revoke", body: `{"reason":"superseded"}`, want: 403},
		{name: "fail/viewer makes a challenge", role: Viewer, method: "POST", path: "/api/v1/profiles/dyn/challenges", want: 403},
		{name: "ok/operator makes a challenge", role: Operator, method: "POST", path: "/api/v1/profiles/dyn/challenges", body: `{"ttl":"5m"}`, want: 201},
		{name: "fail/operator lists tokens", role: Operator, method: "GET", path: "/api/v1/tokens", want: 403},
		{name: "fail/operator makes a token", role: Operator, method: "POST", path: "/api/v1/tokens", body: `{"name":"x","role":"admin"}`, want: 403},
		{name: "ok/admin makes a token", role: Admin, method: "POST", path: "/api/v1/tokens", body: `{"name":"x","role":"viewer"}`, want: 201},
		{name: "ok/operator revokes", role: Operator, method: "POST", path: "/api/v1/certificates/10/revoke", body: `{"reason":"superseded"}`, want: 200},
		{name: "fail/unknown serial", role: Operator, method: "POST", path: "/api/v1/certificates/99/revoke", want: 404},
		{name: "fail/bad reason", role: Operator, method: "POST", path: "/api/v1/certificates/10/revoke", body: `{"reason":"bored"}`, want: 400},
		{name: "fail/unknown field", role: Operator, method: "POST", path: "/api/v1/certificates/10/revoke", body: `{"reasn":"superseded"}`, want: 400},
		{name: "fail/challenge for a profile without one-time", role: Operator, method: "POST", path: "/api/v1/profiles/static/challenges", want: 409},
		{name: "fail/challenge for an unknown profile", role: Operator, method: "POST", path: "/api/v1/profiles/nope/challenges", want: 404},
		{name: "fail/unknown filter", role: Viewer, method: "GET", path: "/api/v1/certificates?stauts=valid", want: 400},
		{name: "fail/test certificate without an issuer", role: Admin, method: "POST", path: "/api/v1/profiles/static/test-certificate", want: 501},
		{name: "ok/openapi without credentials", method: "GET", path: "/api/v1/openapi.yaml", want: 200},
		{name: "fail/no such route", role: Admin, method: "GET", path: "/api/v1/nothing", want: 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := f.call(t, tc.role, tc.method, tc.path, tc.body)
			if w.Code != tc.want {
				t.Fatalf("%s %s: %d %s, want %d", tc.method, tc.path, w.Code, w.Body, tc.want)
			}
			if tc.want >= 400 && !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
				t.Errorf("error answer is %q, want JSON", w.Header().Get("Content-Type"))
			}
			if tc.want == 401 && w.Header().Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
}

func TestTokenLifecycle(t *testing.T) {
	f := newFixture(t)
	w := f.call(t, Admin, "POST", "/api/v1/tokens", `{"name":"ci","role":"viewer"}`)
	var made struct{ ID, Token string }
	if err := json.Unmarshal(w.Body.Bytes(), &made); err != nil || !strings.HasPrefix(made.Token, tokenPrefix) {
		t.Fatalf("new token: %s", w.Body)
	}
	use := func() int {
		r := httptest.NewRequest("GET", "/api/v1/stats", nil)
		r.Header.Set("Authorization", "Bearer "+made.Token)
		rec := httptest.NewRecorder()
		f.h.ServeHTTP(rec, r)
		return rec.Code
	}
	if got := use(); got != 200 {
		t.Fatalf("new token refused: %d", got)
	}
	list := f.call(t, Admin, "GET", "/api/v1/tokens", "").Body.String()
	if strings.Contains(list, made.Token) || strings.Contains(list, TokenHash(made.Token)) {
		t.Fatal("token list shows a secret or its hash")
	}
	if w := f.call(t, Admin, "DELETE", "/api/v1/tokens/"+made.ID, ""); w.Code != 204 {
		t.Fatalf("delete: %d", w.Code)
	}
	if got := use(); got != 401 {
		t.Fatalf("deleted token: %d, want 401", got)
	}
}

// Pages never repeat or skip a record present before the first page, even
// while records are added between pages.
func TestPagination(t *testing.T) {
	f := newFixture(t)
	want := map[string]bool{}
	for i := int64(1); i <= 25; i++ {
		f.addCert(t, i*100, "dev", "static")
		want[store.SerialHex(big.NewInt(i*100))] = true
	}
	seen := map[string]bool{}
	cursor := ""
	for page, added := 0, int64(1); ; page++ {
		w := f.call(t, Viewer, "GET", "/api/v1/certificates?limit=7&cursor="+cursor, "")
		var out struct {
			Certificates []CertView `json:"certificates"`
			NextCursor   string     `json:"next_cursor"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
			t.Fatal(err)
		}
		for _, c := range out.Certificates {
			if seen[c.Serial] {
				t.Fatalf("serial %s on two pages", c.Serial)
			}
			seen[c.Serial] = true
		}
		// Insert before and after the cursor between pages.
		f.addCert(t, added, "early", "static")
		f.addCert(t, 100000+added, "late", "static")
		added++
		if out.NextCursor == "" {
			break
		}
		cursor = out.NextCursor
		if page > 20 {
			t.Fatal("pagination does not end")
		}
	}
	for s := range want {
		if !seen[s] {
			t.Errorf("serial %s was never listed", s)
		}
	}
}

func TestCSVAndBulkRevoke(t *testing.T) {
	f := newFixture(t)
	for i := int64(1); i <= 1200; i++ {
		profile := "static"
		if i%3 == 0 {
			profile = "dyn"
		}
		cn := "dev"
		if i == 7 {
			cn = "=HYPERLINK(\"x\")"
		}
		f.addCert(t, i, cn, profile)
	}
	w := f.call(t, Viewer, "GET", "/api/v1/certificates.csv?profile=dyn", "")
	rows, err := csv.NewReader(strings.NewReader(w.Body.String())).ReadAll()
	if err != nil || w.Code != 200 {
		t.Fatalf("CSV: %d %v", w.Code, err)
	}
	if len(rows) != 401 || strings.Join(rows[0], ",") != strings.Join(csvHeader, ",") {
		t.Fatalf("%d rows (want header + 400), header %v", len(rows), rows[0])
	}
	all := f.call(t, Viewer, "GET", "/api/v1/certificates.csv", "").Body.String()
	if !strings.Contains(all, "'=HYPERLINK") {
		t.Error("a CN starting with = is not defused in the CSV")
	}

	dry := f.call(t, Operator, "POST", "/api/v1/certificates/revoke", `{"filter":{"profile":"dyn"},"reason":"cessationOfOperation","dry_run":true}`)
	if !strings.Contains(dry.Body.String(), `"matched": 400`) || !strings.Contains(dry.Body.String(), `"revoked": 0`) {
		t.Fatalf("dry run: %s", dry.Body)
	}
	if n, _ := f.st.Search(context.Background(), store.Query{Status: store.StatusRevoked, Limit: -1}); len(n) != 0 {
		t.Fatalf("dry run revoked %d", len(n))
	}
	real := f.call(t, Operator, "POST", "/api/v1/certificates/revoke", `{"filter":{"profile":"dyn"},"reason":"cessationOfOperation"}`)
	if !strings.Contains(real.Body.String(), `"revoked": 400`) {
		t.Fatalf("bulk revoke: %s", real.Body)
	}
	if n, _ := f.st.Search(context.Background(), store.Query{Status: store.StatusRevoked, Limit: -1}); len(n) != 400 {
		t.Fatalf("%d revoked, want 400", len(n))
	}
	if w := f.call(t, Operator, "POST", "/api/v1/certificates/revoke", `{"reason":"keyCompromise"}`); w.Code != 400 {
		t.Fatalf("bulk revoke without filter: %d, want 400", w.Code)
	}
}

func TestRotateStatic(t *testing.T) {
	f := newFixture(t)
	if w := f.call(t, Viewer, "PUT", "/api/v1/profiles/static/static-challenge", ""); w.Code != 403 {
		t.Fatalf("viewer rotates: %d, want 403", w.Code)
	}
	if w := f.call(t, Operator, "PUT", "/api/v1/profiles/dyn/static-challenge", ""); w.Code != 409 {
		t.Fatalf("rotating a profile without static challenge: %d, want 409", w.Code)
	}
	w := f.call(t, Operator, "PUT", "/api/v1/profiles/static/static-challenge", `{"grace":"2h"}`)
	var got struct {
		Challenge string    `json:"challenge"`
		Until     time.Time `json:"previous_valid_until"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || w.Code != 200 || len(got.Challenge) != 32 {
		t.Fatalf("rotate: %d %s", w.Code, w.Body)
	}
	list, err := f.st.StaticSecrets(context.Background(), "static")
	if err != nil || len(list) != 2 {
		t.Fatalf("stored secrets %+v, %v; want the retired config secret and the new one", list, err)
	}
	for _, s := range list {
		switch s.Hash {
		case validate.ChallengeHash(got.Challenge):
			if !s.ExpiresAt.IsZero() {
				t.Error("the new secret has an expiry")
			}
		case validate.ChallengeHash("from-config"):
			if !s.ExpiresAt.Equal(got.Until) {
				t.Errorf("config secret expires %v, want %v", s.ExpiresAt, got.Until)
			}
		default:
			t.Errorf("unexpected secret %+v", s)
		}
	}
	if w := f.call(t, Operator, "PUT", "/api/v1/profiles/static/static-challenge", `{"grace":"forever"}`); w.Code != 400 {
		t.Fatalf("bad grace: %d, want 400", w.Code)
	}
}

func TestChallengeIsStoredHashed(t *testing.T) {
	f := newFixture(t)
	w := f.call(t, Operator, "POST", "/api/v1/profiles/dyn/challenges", `{"ttl":"2m","subject":"laptop"}`)
	var got struct {
		Challenge string    `json:"challenge"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || len(got.Challenge) != 32 {
		t.Fatalf("challenge answer %s", w.Body)
	}
	c, err := f.st.ConsumeChallenge(context.Background(), "dyn", validate.ChallengeHash(got.Challenge), time.Now())
	if err != nil || c.Subject != "laptop" || !c.ExpiresAt.Equal(got.ExpiresAt) {
		t.Fatalf("stored challenge %+v, %v", c, err)
	}
	if w := f.call(t, Operator, "POST", "/api/v1/profiles/dyn/challenges", `{"ttl":"900h"}`); w.Code != 400 {
		t.Fatalf("ttl beyond 168h: %d, want 400", w.Code)
	}
}

// A hold is lifted by an operator, and only a hold: a valid or finally
// revoked certificate is a 409, an unknown one a 404, a viewer a 403.
func TestReleaseHold(t *testing.T) {
	f := newFixture(t)
	f.addCert(t, 0x20, "held", "static")
	f.addCert(t, 0x21, "gone", "static")
	f.addCert(t, 0x22, "fine", "static")
	for _, c := range []struct{ path, body string }{
		{"/api/v1/certificates/20/revoke", `{"reason":"certificateHold"}`},
		{"/api/v1/certificates/21/revoke", `{"reason":"keyCompromise"}`},
	} {
		if w := f.call(t, Operator, "POST", c.path, c.body); w.Code != 200 {
			t.Fatalf("%s: %d %s", c.path, w.Code, w.Body)
		}
	}
	tests := []struct {
		name string
		role Role
		path string
		want int
	}{
		{"fail/viewer", Viewer, "/api/v1/certificates/20/release-hold", 403},
		{"ok/operator lifts the hold", Operator, "/api/v1/certificates/20/release-hold", 200},
		{"fail/twice", Operator, "/api/v1/certificates/20/release-hold", 409},
		{"fail/final revocation", Operator, "/api/v1/certificates/21/release-hold", 409},
		{"fail/never revoked", Operator, "/api/v1/certificates/22/release-hold", 409},
		{"fail/unknown", Operator, "/api/v1/certificates/99/release-hold", 404},
		{"fail/bad serial", Operator, "/api/v1/certificates/xyz/release-hold", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if w := f.call(t, tt.role, "POST", tt.path, ""); w.Code != tt.want {
				t.Fatalf("%d %s, want %d", w.Code, w.Body, tt.want)
			}
		})
	}
	for serial, want := range map[int64]store.Status{0x20: store.StatusValid, 0x21: store.StatusRevoked, 0x22: store.StatusValid} {
		rec, err := f.st.Cert(context.Background(), big.NewInt(serial))
		if err != nil || rec.Status != want {
			t.Errorf("serial %x: %v %v, want %s", serial, rec.Status, err, want)
		}
	}
}
