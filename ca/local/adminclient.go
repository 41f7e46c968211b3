package local

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"time"
)

// IssueAdminClient signs an admin API client certificate for pub: subject
// CN name, O org, OU role; extKeyUsage clientAuth. The caller records it;
// the admin API trusts it only while its record says so.
func (c *CA) IssueAdminClient(pub crypto.PublicKey, name, org, role string, validity time.Duration) (*x509.Certificate, error) {
	return c.issueInternal("admin client", pub, validity, &x509.Certificate{
		Subject:     pkix.Name{CommonName: name, Organization: []string{org}, OrganizationalUnit: []string{role}},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
}
