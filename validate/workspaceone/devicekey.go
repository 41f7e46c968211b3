package workspaceone

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"strconv"
	"strings"

	"github.com/certgate/certgate/validate"
)

// keySource is a parsed Config.DeviceKey.
type keySource struct {
	// attr is the subject attribute to read, when not reading a URI.
	attr     asn1.ObjectIdentifier
	attrName string
	// uri reads the URI SAN; prefix, when set, selects it and is cut.
	uri    bool
	prefix string
}

// Subject attributes a DeviceKey may name (RFC 4519 / PKCS #9 names,
// compared without regard to case).
var keyAttributes = map[string]asn1.ObjectIdentifier{
	"cn":                     {2, 5, 4, 3},
	"commonname":             {2, 5, 4, 3},
	"serialnumber":           {2, 5, 4, 5},
	"ou":                     {2, 5, 4, 11},
	"organizationalunitname": {2, 5, 4, 11},
	"o":                      {2, 5, 4, 10},
	"organizationname":       {2, 5, 4, 10},
	"uid":                    {0, 9, 2342, 19200300, 100, 1, 1},
	"userid":                 {0, 9, 2342, 19200300, 100, 1, 1},
	"emailaddress":           {1, 2, 840, 113549, 1, 9, 1},
}

const uriSuffix = "uri-suffix"

// parseDeviceKey reads a Config.DeviceKey; empty means DefaultDeviceKey.
func parseDeviceKey(spec string) (keySource, error) {
	if spec == "" {
		spec = DefaultDeviceKey
	}
	if rest, ok := strings.CutPrefix(spec, uriSuffix); ok {
		switch {
		case rest == "":
			return keySource{uri: true}, nil
		case strings.HasPrefix(rest, ":") && len(rest) > 1:
			return keySource{uri: true, prefix: rest[1:]}, nil
		}
	}
	if oid, ok := keyAttributes[strings.ToLower(spec)]; ok {
		return keySource{attr: oid, attrName: spec}, nil
	}
	if oid, ok := parseOID(spec); ok {
		return keySource{attr: oid, attrName: spec}, nil
	}
	return keySource{}, errors.New(`workspaceone: config: deviceKey: must be "cn", "uri-suffix", "uri-suffix:<prefix>", a subject attribute name (serialNumber, uid, ou, o, emailAddress) or a dotted OID`)
}

// parseOID reads a dotted OID of at least two arcs.
func parseOID(s string) (asn1.ObjectIdentifier, bool) {
	parts := strings.Split(s, ".")
	if len(parts) < 2 || len(parts) > 32 {
		return nil, false
	}
	oid := make(asn1.ObjectIdentifier, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || p != strconv.Itoa(n) {
			return nil, false
		}
		oid[i] = n
	}
	return oid, oid[0] <= 2
}

// extract returns the device key the CSR carries. Every failure is a
// *validate.Rejection: the request does not name a device the way the
// profile says it must.
func (k keySource) extract(csr *x509.CertificateRequest) (string, error) {
	if csr == nil {
		return "", &validate.Rejection{Reason: "workspaceone: request has no CSR"}
	}
	var key string
	if k.uri {
		var err error
		if key, err = k.fromURI(csr); err != nil {
			return "", err
		}
	} else {
		var vals []string
		for _, atv := range subjectAttributes(csr.Subject) {
			if !atv.Type.Equal(k.attr) {
				continue
			}
			s, ok := atv.Value.(string)
			if !ok {
				return "", &validate.Rejection{Reason: "workspaceone: device key attribute in the subject is not a string"}
			}
			vals = append(vals, s)
		}
		switch len(vals) {
		case 0:
			return "", &validate.Rejection{Reason: "workspaceone: subject has no " + safeCode(k.attrName) + " holding the device key"}
		case 1:
			key = vals[0]
		default:
			return "", &validate.Rejection{Reason: "workspaceone: subject has more than one " + safeCode(k.attrName) + "; the device key is ambiguous"}
		}
	}
	if !validKey(key) {
		return "", &validate.Rejection{Reason: "workspaceone: device key in the CSR is empty, too long or has characters not allowed"}
	}
	return key, nil
}

// fromURI returns the key from the CSR's URI SANs.
func (k keySource) fromURI(csr *x509.CertificateRequest) (string, error) {
	var keys []string
	for _, u := range csr.URIs {
		if u == nil {
			continue
		}
		s := u.String()
		if k.prefix == "" {
			keys = append(keys, s[strings.LastIndexAny(s, "/:")+1:])
			continue
		}
		if len(s) >= len(k.prefix) && strings.EqualFold(s[:len(k.prefix)], k.prefix) {
			keys = append(keys, s[len(k.prefix):])
		}
	}
	switch len(keys) {
	case 0:
		return "", &validate.Rejection{Reason: "workspaceone: CSR has no URI SAN holding the device key"}
	case 1:
		return keys[0], nil
	}
	return "", &validate.Rejection{Reason: "workspaceone: CSR has more than one URI SAN that could hold the device key"}
}

// subjectAttributes returns the subject's attributes in order. A parsed
// CSR has them all in Names; a Name built in code may have only the
// struct fields and ExtraNames.
func subjectAttributes(name pkix.Name) []pkix.AttributeTypeAndValue {
	if len(name.Names) > 0 {
		return name.Names
	}
	var out []pkix.AttributeTypeAndValue
	for _, rdn := range name.ToRDNSequence() {
		out = append(out, rdn...)
	}
	return out
}

// maxKey bounds a device key: serial numbers and UDIDs are far shorter.
const maxKey = 128

// validKey accepts what serial numbers and UDIDs are made of: letters,
// digits, "-", "_" and ".", at most maxKey bytes.
func validKey(s string) bool {
	if s == "" || len(s) > maxKey {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// safeCode returns s when it looks like a code or name (letters, digits,
// _ - . :, at most 64 bytes), so that a hostile or broken server cannot
// put arbitrary text into our errors and logs.
func safeCode(s string) string {
	if s == "" || len(s) > 64 || strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_-.:", r))
	}) >= 0 {
		return "unrecognised value"
	}
	return s
}
