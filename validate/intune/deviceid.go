package intune

import (
	"crypto/x509"
	"regexp"
	"strings"
)

// deviceIDScheme is the URI SAN scheme Intune fills with the device ID
// (INTEGRATIONS.md §6.1). Seen as IntuneDeviceId and IntuneDeviceID;
// URL schemes are case-insensitive anyway.
const deviceIDScheme = "intunedeviceid"

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// DeviceID returns the Intune device ID a CSR names: the host of its
// first IntuneDeviceId:// URI SAN, or else its CN when the CN is a GUID
// (profiles with CN={{DeviceId}}). A CN that is not a GUID is a user or
// host name, not a device ID, and gives "".
func DeviceID(csr *x509.CertificateRequest) string {
	if csr == nil {
		return ""
	}
	for _, u := range csr.URIs {
		if u != nil && strings.EqualFold(u.Scheme, deviceIDScheme) && u.Host != "" {
			return u.Host
		}
	}
	if cn := strings.TrimSpace(csr.Subject.CommonName); guidRE.MatchString(cn) {
		return cn
	}
	return ""
}
