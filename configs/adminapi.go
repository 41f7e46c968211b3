package configs

import "fmt"

// AdminAPIConfig configures the admin REST API (/api/v1/) on its own TLS
// listener. It authenticates every request by an admin client certificate
// (`certgate admin cert new`) or a bearer token (`certgate admin token
// new`); the admin unix socket serves the same API to the local CLI.
type AdminAPIConfig struct {
	// Listen is the host:port of the admin API's TLS listener, or "off".
	// Default "127.0.0.1:8444" (loopback only); env
	// CERTGATE_ADMIN_API_LISTEN.
	Listen string `yaml:"listen"`
	// Hosts are extra DNS names or IPs for its generated server
	// certificate. YAML only.
	Hosts []string `yaml:"hosts"`
}

// Enabled reports whether the admin API listener runs.
func (a *AdminAPIConfig) Enabled() bool { return a.Listen != "off" }

func defaultAdminAPI() AdminAPIConfig { return AdminAPIConfig{Listen: "127.0.0.1:8444"} }

func (a *AdminAPIConfig) validate(p *problems) {
	if !a.Enabled() {
		return
	}
	if _, _, err := splitListen(a.Listen); err != nil {
		p.add("admin_api.listen", "%q is not host:port or off: %v", a.Listen, err)
	}
	for i, h := range a.Hosts {
		if !validHost(h) {
			p.add(fmt.Sprintf("admin_api.hosts[%d]", i), "%q is neither an IP address nor a DNS name", h)
		}
	}
}
