package est

import (
	"crypto/x509"
)

// Request is one enrollment as the HTTP edge hands it over.
type Request struct {
	// Profile is the label's profile (or the default profile).
	Profile string
	// CSR is the DER PKCS#10 request, already base64-decoded.
	CSR []byte
	// Basic is the HTTP Basic credential, when the client sent one.
	Basic *BasicAuth
	// ClientCerts is the TLS client certificate chain, leaf first; the TLS
	// handshake proved possession of the leaf's key but verified nothing
	// else.
	ClientCerts []*x509.Certificate
	// ChannelBindings are this TLS session's channel-binding values
	// (tls-unique for TLS 1.2, tls-exporter for TLS 1.3).
	ChannelBindings [][]byte
	// RemoteAddr is the client's network address.
	RemoteAddr string
}

// BasicAuth is an HTTP Basic credential. Password is a secret: never log
// it.
type BasicAuth struct {
	Username, Password string
}
