package workspaceone_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	fakews1 "github.com/certgate/certgate/integration/fakes/workspaceone"
	"github.com/certgate/certgate/validate"
	"github.com/certgate/certgate/validate/workspaceone"
)

const (
	adminUser  = "certgate-api"
	adminPass  = "ws1-admin-passw0rd-value"
	tenantCode = "ws1-tenant-api-key-value"
)

// env is a fake Workspace ONE and a Checker pointed at it.
type env struct {
	fake *fakews1.Fake
	cfg  workspaceone.Config
	c    *workspaceone.Checker
}

// newEnv starts a fake and a checker; mod may change the config first.
func newEnv(t *testing.T, mod func(*workspaceone.Config)) *env {
	t.Helper()
	f := fakews1.New(tenantCode)
	t.Cleanup(f.Close)
	f.AddAdmin(adminUser, adminPass)
	cfg := workspaceone.Config{
		APIURL:     f.URL(),
		Username:   adminUser,
		Password:   adminPass,
		TenantCode: tenantCode,
		RootCAs:    f.CertPool(),
		Timeout:    5 * time.Second,
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := workspaceone.NewChecker(cfg)
	if err != nil {
		t.Fatalf("NewChecker: %v", err)
	}
	return &env{fake: f, cfg: cfg, c: c}
}

// secrets are the strings no error may contain.
var secrets = []string{adminPass, tenantCode, base64.StdEncoding.EncodeToString([]byte(adminUser + ":" + adminPass))}

// assertNoSecret fails if err's text holds the password, the tenant
// code or the Basic header value.
func assertNoSecret(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range secrets {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error %q holds a secret", err)
		}
	}
}

func isRejection(err error) bool {
	var rej *validate.Rejection
	return errors.As(err, &rej)
}

var (
	oidCN     = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidOU     = asn1.ObjectIdentifier{2, 5, 4, 11}
	oidSerial = asn1.ObjectIdentifier{2, 5, 4, 5}
	oidUID    = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}
)

// attr is one subject attribute, in CSR order.
type attr struct {
	oid   asn1.ObjectIdentifier
	value any
}

func cn(v string) attr { return attr{oidCN, v} }

// newCSR returns a parsed CSR whose subject has attrs in that order and
// the given URI SANs.
func newCSR(t *testing.T, attrs []attr, uris ...string) *x509.CertificateRequest {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var name pkix.Name
	for _, a := range attrs {
		name.ExtraNames = append(name.ExtraNames, pkix.AttributeTypeAndValue{Type: a.oid, Value: a.value})
	}
	tmpl := &x509.CertificateRequest{Subject: name}
	for _, s := range uris {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		tmpl.URIs = append(tmpl.URIs, u)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		t.Fatal(err)
	}
	return csr
}
