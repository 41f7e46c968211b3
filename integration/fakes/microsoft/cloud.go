// Package microsoft wires the Entra, Graph and Intune fakes into one
// tenant, so a test gets a working Microsoft cloud in one call:
//
//	c := microsoft.New()
//	defer c.Close()
//	// point a client at c.Entra.URL(), c.Graph.URL(), trusting c.CertPool(),
//	// with c.Tenant, c.ClientID and c.ClientSecret.
//
// Each fake stays reachable for its own knobs (c.Intune.AllowChallenge,
// c.Graph.SetFault, ...).
package microsoft

import (
	"crypto/x509"

	"github.com/certgate/certgate/integration/fakes/entra"
	"github.com/certgate/certgate/integration/fakes/graph"
	"github.com/certgate/certgate/integration/fakes/intune"
)

// Credentials the cloud is created with.
const (
	Tenant       = "11111111-2222-4333-8444-555555555555"
	TenantDomain = "contoso.onmicrosoft.com"
	ClientID     = "66666666-7777-4888-9999-000000000000"
	ClientSecret = "fake~client~secret~do~not~leak"
)

// Cloud is a running set of fakes for one tenant.
type Cloud struct {
	Entra  *entra.Fake
	Graph  *graph.Fake
	Intune *intune.Fake

	Tenant       string
	ClientID     string
	ClientSecret string
}

// New starts the three fakes: Entra knows the tenant (by GUID and by
// domain) and the client, Graph trusts Entra's tokens and lists the
// standard endpoints pointing at Intune, and Intune trusts Entra's
// tokens. Close it when done.
func New() *Cloud {
	e := entra.New()
	e.AddTenant(Tenant, TenantDomain)
	e.AddClient(ClientID, ClientSecret)
	g := graph.New(e)
	in := intune.New(e)
	g.SetEndpoints(graph.StandardEndpoints(in.URL())...)
	return &Cloud{Entra: e, Graph: g, Intune: in,
		Tenant: Tenant, ClientID: ClientID, ClientSecret: ClientSecret}
}

// CertPool trusts the three fakes' TLS certificates.
func (c *Cloud) CertPool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c.Entra.Certificate())
	p.AddCert(c.Graph.Certificate())
	p.AddCert(c.Intune.Certificate())
	return p
}

// Close stops the three fakes.
func (c *Cloud) Close() {
	c.Intune.Close()
	c.Graph.Close()
	c.Entra.Close()
}
