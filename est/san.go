package est

import (
	"crypto/x509/pkix"
	"net"
	"net/url"
	"slices"

	"github.com/certgate/certgate/ca"
)

// sanOf flattens subjectAltName entries into comparable, typed strings.
func sanOf(dns, email []string, ips []net.IP, uris []*url.URL, exts []pkix.Extension) []string {
	var out []string
	for _, d := range dns {
		out = append(out, "dns:"+d)
	}
	for _, e := range email {
		out = append(out, "email:"+e)
	}
	for _, ip := range ips {
		out = append(out, "ip:"+ip.String())
	}
	for _, u := range uris {
		out = append(out, "uri:"+u.String())
	}
	if upns, err := ca.UPNsFromExtensions(exts); err == nil {
		for _, u := range upns {
			out = append(out, "upn:"+u)
		}
	}
	return out
}

// sameStrings reports whether a and b hold the same entries in any order.
func sameStrings(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
