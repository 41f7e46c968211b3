//go:build integration

package integration

import (
	"strings"
	"testing"
)

// EAP-TLS with certificates from certgate: FreeRADIUS as the
// authentication server, eapol_test as the supplicant, both holding
// identities enrolled over SCEP.

// radiusCertgateConfig gives certgate a "server" profile: FreeRADIUS needs
// serverAuth, which the client profile does not grant, or the supplicant
// refuses the server certificate.
const radiusCertgateConfig = `scep:
  default_profile: default
profiles:
  - name: default
    validator:
      type: static
      secrets_env: CG_IT_RADIUS_CHALLENGE
  - name: server
    ext_key_usage: [serverAuth]
    validator:
      type: static
      secrets_env: CG_IT_RADIUS_CHALLENGE
`

// eapTLSEnv is a running certgate with the RADIUS server's identity
// enrolled from it.
type eapTLSEnv struct {
	srv                *server
	radiusd, eapolTest string
	challenge          string
	// caBundle holds the issuing CA and the root, trusted by both sides.
	caBundle string
	// serverCert and serverKey are FreeRADIUS's identity (CN radius.test).
	serverCert, serverKey string
}

func newEAPTLSEnv(t *testing.T) *eapTLSEnv {
	t.Helper()
	e := &eapTLSEnv{challenge: "radius-" + randomHex(t, 12)}
	e.radiusd, e.eapolTest = requireFreeRADIUS(t)
	cfg := writeFile(t, "certgate.yaml", radiusCertgateConfig)
	e.srv = startServerArgs(t, newDataDir(t), []string{"--config", cfg}, "CG_IT_RADIUS_CHALLENGE="+e.challenge)
	e.caBundle = writeCABundle(t, e.srv.CAFile("ca.crt"), e.srv.CAFile("root.crt"))
	id := newSCEPClient(t, e.srv.URL+"/scep/server").mustEnroll(t, "radius.test", e.challenge)
	e.serverCert, e.serverKey = writeIdentity(t, id)
	return e
}

// startRADIUS runs FreeRADIUS with the server identity; a non-empty
// ocspURL turns on OCSP checking of client certificates.
func (e *eapTLSEnv) startRADIUS(t *testing.T, ocspURL string) *radiusServer {
	t.Helper()
	return startRADIUS(t, e.radiusd, radiusConfig{
		CertFile: e.serverCert,
		KeyFile:  e.serverKey,
		CAFile:   e.caBundle,
		OCSPURL:  ocspURL,
	})
}

// enrollClient enrolls a device certificate from the default profile.
func (e *eapTLSEnv) enrollClient(t *testing.T, cn string) identity {
	t.Helper()
	return newSCEPClient(t, e.srv.URL+"/scep").mustEnroll(t, cn, e.challenge)
}

// authenticate runs one EAP-TLS authentication of id against r.
func (e *eapTLSEnv) authenticate(t *testing.T, r *radiusServer, id identity) eapolResult {
	t.Helper()
	certFile, keyFile := writeIdentity(t, id)
	return r.eapTLS(t, e.eapolTest, eapolConfig{CAFile: e.caBundle, CertFile: certFile, KeyFile: keyFile})
}

// TestRADIUSEAPTLSWithoutOCSP: without revocation checking, FreeRADIUS
// accepts a certificate certgate issued and refuses one it did not.
func TestRADIUSEAPTLSWithoutOCSP(t *testing.T) {
	e := newEAPTLSEnv(t)
	r := e.startRADIUS(t, "")
	stranger, err := newSelfSignedIdentity("device-stranger")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		id          identity
		wantSuccess bool
	}{
		{"ok/enrolled", e.enrollClient(t, "device-enrolled"), true},
		{"fail/not-issued-by-certgate", stranger, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.authenticate(t, r, tc.id)
			if res.Success != tc.wantSuccess {
				t.Errorf("EAP-TLS success %v, want %v\n%s", res.Success, tc.wantSuccess, res)
			}
			if strings.Contains(res.RadiusLog, "ocsp:") {
				t.Errorf("freeradius ran an OCSP check with OCSP disabled:\n%s", res)
			}
		})
	}
}

// TestRADIUSEAPTLSOCSP: with OCSP checking against certgate's responder,
// FreeRADIUS accepts an enrolled certificate, and rejects it once `certgate
// revoke` has run, because the responder says revoked.
func TestRADIUSEAPTLSOCSP(t *testing.T) {
	e := newEAPTLSEnv(t)
	r := e.startRADIUS(t, e.srv.URL+"/ocsp")
	id := e.enrollClient(t, "device-ocsp")

	res := e.authenticate(t, r, id)
	if !res.Success || !strings.Contains(res.RadiusLog, "ocsp: Cert status: good") {
		t.Fatalf("before revocation: EAP-TLS success %v, want true with \"ocsp: Cert status: good\" logged\n%s", res.Success, res)
	}

	mustCLI(t, "revoke", serialHex(id.Cert), "--reason", "keyCompromise", "--data-dir", e.srv.DataDir)
	res = e.authenticate(t, r, id)
	if res.Success || !strings.Contains(res.RadiusLog, "ocsp: Cert status: revoked") {
		t.Fatalf("after revocation: EAP-TLS success %v, want false with \"ocsp: Cert status: revoked\" logged\n%s", res.Success, res)
	}
}
