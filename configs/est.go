package configs

import (
	"encoding/asn1"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// ESTConfig configures the EST front-end (RFC 7030) on its own TLS
// listener. It is separate from listen because EST asks for TLS client
// certificates, which Windows' SCEP client cannot cope with on its
// listener.
type ESTConfig struct {
	// Listen is the host:port of the EST TLS listener, or "off".
	// Default ":8443"; env CERTGATE_EST_LISTEN.
	Listen string `yaml:"listen"`
	// CertFile and KeyFile are the TLS server certificate chain and key
	// (PEM). Default: none, and certgate issues itself a server
	// certificate from its CA into <data_dir>/est/ and renews it when a
	// third of its life is left. Env CERTGATE_EST_CERT_FILE,
	// CERTGATE_EST_KEY_FILE.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// Hosts are extra DNS names or IP addresses for the generated server
	// certificate, besides localhost, loopback, this host's name and
	// public_url's host. YAML only.
	Hosts []string `yaml:"hosts"`
	// DefaultProfile serves /.well-known/est/ without a label (labels
	// name profiles). Default: scep.default_profile; env
	// CERTGATE_EST_DEFAULT_PROFILE.
	DefaultProfile string `yaml:"default_profile"`
	// TrustedClientCAs are PEM files of issuers whose TLS client
	// certificates authenticate simpleenroll and serverkeygen (and
	// registrars, for profiles with est.reenroll: registrar). YAML only.
	TrustedClientCAs []string `yaml:"trusted_client_cas"`
}

// Enabled reports whether the EST listener runs.
func (e *ESTConfig) Enabled() bool { return e.Listen != "off" }

// ProfileEST holds a profile's EST settings.
type ProfileEST struct {
	// CSRAttrs are the OIDs (dotted) csrattrs lists. Default: the
	// challengePassword and sha256WithRSAEncryption OIDs; [] answers 204.
	CSRAttrs []string `yaml:"csr_attrs"`
	// ServerKeyGen enables serverkeygen with this key type. Default: off.
	ServerKeyGen *KeyGenConfig `yaml:"server_keygen"`
	// RequireChannelBinding refuses CSRs without the TLS channel binding
	// in their challengePassword. Default false.
	RequireChannelBinding bool `yaml:"require_channel_binding"`
	// Reenroll is "self" (default: the TLS client certificate is the one
	// being renewed and the CSR keeps its subject and SANs) or "registrar"
	// (a certificate from est.trusted_client_cas authorises re-enrollment
	// of any subject, RFC 9148).
	Reenroll string `yaml:"reenroll"`
}

// KeyGenConfig is the key serverkeygen generates.
type KeyGenConfig struct {
	// KeyType is "ecdsa" (default) or "rsa".
	KeyType string `yaml:"key_type"`
	// Bits for RSA: 2048, 3072 (default) or 4096.
	Bits int `yaml:"bits"`
	// Curve for ECDSA: "P-256" (default) or "P-384".
	Curve string `yaml:"curve"`
	// Escrow keeps each generated key, sealed with AES-256-GCM under
	// <data_dir>/escrow.key, in its certificate's record, for
	// `certgate escrow recover`. Needs the profile's allow_duplicates:
	// false. Default false.
	Escrow bool `yaml:"escrow"`
}

func defaultEST() ESTConfig {
	return ESTConfig{Listen: ":8443"}
}

// applyDefaults fills the key type's defaults.
func (k *KeyGenConfig) applyDefaults() {
	if k.KeyType == "" {
		k.KeyType = "ecdsa"
	}
	if k.KeyType == "rsa" && k.Bits == 0 {
		k.Bits = 3072
	}
	if k.KeyType == "ecdsa" && k.Curve == "" {
		k.Curve = "P-256"
	}
}

// ParseOIDs parses dotted object identifiers.
func ParseOIDs(in []string) ([]asn1.ObjectIdentifier, error) {
	out := make([]asn1.ObjectIdentifier, 0, len(in))
	for _, s := range in {
		parts := strings.Split(s, ".")
		if len(parts) < 2 {
			return nil, fmt.Errorf("%q is not a dotted OID", s)
		}
		oid := make(asn1.ObjectIdentifier, len(parts))
		for i, p := range parts {
			n, err := strconv.ParseUint(p, 10, 31)
			if err != nil || p != strconv.FormatUint(n, 10) {
				return nil, fmt.Errorf("%q is not a dotted OID", s)
			}
			oid[i] = int(n)
		}
		if oid[0] > 2 || (oid[0] < 2 && oid[1] > 39) {
			return nil, fmt.Errorf("%q is not a valid OID", s)
		}
		out = append(out, oid)
	}
	return out, nil
}

func (e *ESTConfig) validate(p *problems, c *Config) {
	if !e.Enabled() {
		return
	}
	if _, _, err := splitListen(e.Listen); err != nil {
		p.add("est.listen", "%q is not host:port or off: %v", e.Listen, err)
	}
	if (e.CertFile == "") != (e.KeyFile == "") {
		p.add("est.cert_file", "cert_file and key_file go together")
	}
	for i, h := range e.Hosts {
		if !validHost(h) {
			p.add(fmt.Sprintf("est.hosts[%d]", i), "%q is neither an IP address nor a DNS name", h)
		}
	}
	// The same name as scep.default_profile is reported there already.
	if _, ok := c.ProfileByName(e.DefaultProfile); !ok && len(c.Profiles) > 0 && e.DefaultProfile != c.SCEP.DefaultProfile {
		p.add("est.default_profile", "no profile named %q", e.DefaultProfile)
	}
	for i := range c.Profiles {
		pe := &c.Profiles[i].EST
		key := fmt.Sprintf("profiles[%d].est", i)
		if _, err := ParseOIDs(pe.CSRAttrs); err != nil {
			p.add(key+".csr_attrs", "%v", err)
		}
		checkOneOf(p, key+".reenroll", pe.Reenroll, "self", "registrar")
		if pe.Reenroll == "registrar" && len(e.TrustedClientCAs) == 0 {
			p.add(key+".reenroll", "registrar needs est.trusted_client_cas")
		}
		if k := pe.ServerKeyGen; k != nil {
			switch k.KeyType {
			case "rsa":
				if k.Bits != 2048 && k.Bits != 3072 && k.Bits != 4096 {
					p.add(key+".server_keygen.bits", "%d is not 2048, 3072 or 4096", k.Bits)
				}
			case "ecdsa":
				checkOneOf(p, key+".server_keygen.curve", k.Curve, "P-256", "P-384")
			default:
				p.add(key+".server_keygen.key_type", "%q is not ecdsa or rsa", k.KeyType)
			}
			if ad := c.Profiles[i].AllowDuplicates; k.Escrow && (ad == nil || *ad) {
				p.add(key+".server_keygen.escrow", "needs allow_duplicates: false on the profile (escrow and duplicate subjects never go together)")
			}
		}
	}
}

// validHost accepts an IP address or a DNS name.
func validHost(h string) bool { return net.ParseIP(h) != nil || validDNSName(h) }

// validDNSName accepts host names and one leading wildcard label.
func validDNSName(h string) bool {
	h = strings.TrimPrefix(h, "*.")
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				return false
			}
		}
	}
	return true
}
