package workspaceone

import "crypto/x509"

// ExtractKey reads the device key of csr as a Validator configured with
// DeviceKey spec would.
func ExtractKey(spec string, csr *x509.CertificateRequest) (string, error) {
	k, err := parseDeviceKey(spec)
	if err != nil {
		return "", err
	}
	return k.extract(csr)
}

// MaxConnsPerHost is the transport's connection cap.
func (c *Checker) MaxConnsPerHost() int { return c.transport.MaxConnsPerHost }
