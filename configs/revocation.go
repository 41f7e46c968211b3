package configs

import "time"

// OCSPConfig configures the OCSP responder (RFC 6960, RFC 5019 profile).
type OCSPConfig struct {
	// Signer is "delegated" (default): responses are signed by a short-lived
	// responder certificate (EKU OCSPSigning, id-pkix-ocsp-nocheck) that the
	// gateway issues from its CA and renews itself; or "ca": signed by the
	// issuing CA key. Env CERTGATE_OCSP_SIGNER.
	Signer string `yaml:"signer"`
	// Validity is nextUpdate - thisUpdate of each response; default 24h.
	// Env CERTGATE_OCSP_VALIDITY.
	Validity Duration `yaml:"validity"`
	// ResponderValidity is the delegated responder certificate's lifetime;
	// it is renewed half-way. Default 168h. Env CERTGATE_OCSP_RESPONDER_VALIDITY.
	ResponderValidity Duration `yaml:"responder_validity"`
	// RefreshInterval is how often the background refresher re-signs
	// cached responses that passed their refresh time; default 1m.
	// Env CERTGATE_OCSP_REFRESH_INTERVAL.
	RefreshInterval Duration `yaml:"refresh_interval"`
	// MemoryEntries bounds the in-memory cache of hot responses in front
	// of bbolt; default 100000. Env CERTGATE_OCSP_MEMORY_ENTRIES.
	MemoryEntries int `yaml:"memory_entries"`
	// MaxSigning bounds the responses signed at once for waiting clients
	// (first answers, unknown serials, nonce requests); 0 (default) means
	// half the CPUs, at least one. Env CERTGATE_OCSP_MAX_SIGNING.
	MaxSigning int `yaml:"max_signing"`
	// SigningWait is how long such a request waits for a signing slot
	// before it is answered tryLater (HTTP 503); default 1s.
	// Env CERTGATE_OCSP_SIGNING_WAIT.
	SigningWait Duration `yaml:"signing_wait"`
}

// CRLConfig configures the CRLs served at /crl/<ca>.crl.
type CRLConfig struct {
	// Validity is nextUpdate - thisUpdate; the CRL is rebuilt half-way.
	// Default 24h. Env CERTGATE_CRL_VALIDITY.
	Validity Duration `yaml:"validity"`
	// Debounce is the longest a revocation waits before the CRL is rebuilt
	// (bursts of revocations share one rebuild); default 5s.
	// Env CERTGATE_CRL_DEBOUNCE.
	Debounce Duration `yaml:"debounce"`
}

func defaultOCSP() OCSPConfig {
	return OCSPConfig{
		Signer:            "delegated",
		Validity:          Duration(24 * time.Hour),
		ResponderValidity: Duration(168 * time.Hour),
		RefreshInterval:   Duration(time.Minute),
		MemoryEntries:     100000,
		SigningWait:       Duration(time.Second),
	}
}

func defaultCRL() CRLConfig {
	return CRLConfig{Validity: Duration(24 * time.Hour), Debounce: Duration(5 * time.Second)}
}

func (o *OCSPConfig) validate(p *problems) {
	checkOneOf(p, "ocsp.signer", o.Signer, "delegated", "ca")
	if o.Validity < Duration(time.Minute) || o.Validity > Duration(7*24*time.Hour) {
		p.add("ocsp.validity", "%s is outside 1m..168h", o.Validity)
	}
	if o.ResponderValidity < Duration(time.Hour) || o.ResponderValidity > Duration(90*24*time.Hour) {
		p.add("ocsp.responder_validity", "%s is outside 1h..2160h", o.ResponderValidity)
	} else if o.ResponderValidity < 2*o.Validity {
		p.add("ocsp.responder_validity", "%s must be at least twice ocsp.validity (%s), or responses would outlive their signer", o.ResponderValidity, o.Validity)
	}
	if o.RefreshInterval < Duration(time.Second) {
		p.add("ocsp.refresh_interval", "%s is below 1s", o.RefreshInterval)
	}
	if o.MemoryEntries < 0 || o.MemoryEntries > 10_000_000 {
		p.add("ocsp.memory_entries", "%d is outside 0..10000000", o.MemoryEntries)
	}
	if o.MaxSigning < 0 || o.MaxSigning > 1024 {
		p.add("ocsp.max_signing", "%d is outside 0..1024", o.MaxSigning)
	}
	if o.SigningWait < Duration(time.Millisecond) || o.SigningWait > Duration(time.Minute) {
		p.add("ocsp.signing_wait", "%s is outside 1ms..1m", o.SigningWait)
	}
}

func (c *CRLConfig) validate(p *problems) {
	if c.Validity < Duration(time.Hour) || c.Validity > Duration(90*24*time.Hour) {
		p.add("crl.validity", "%s is outside 1h..2160h", c.Validity)
	}
	if c.Debounce <= 0 || c.Debounce > Duration(time.Hour) {
		p.add("crl.debounce", "%s is outside (0, 1h]", c.Debounce)
	}
}
