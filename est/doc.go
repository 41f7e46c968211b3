// Package est is certgate's RFC 7030 edge: cacerts, simpleenroll,
// simplereenroll, csrattrs and serverkeygen under /.well-known/est/ and
// /.well-known/est/<label>/, where the label names the certificate profile.
//
// The package decodes requests, authenticates the requester and encodes
// answers; every enrollment decision is made by the enroll service, the
// same one SCEP uses, and its *enroll.Failure is mapped to an HTTP status
// here, once (status.go).
//
// Policy:
//   - Authentication of simpleenroll and serverkeygen, in order: HTTP Basic
//     (the password is the profile validator's challenge); else a TLS client
//     certificate that chains to a configured trusted issuer; else the CSR's
//     challengePassword. None of them: 401 with WWW-Authenticate. A wrong
//     credential: 403.
//   - Channel binding (RFC 7030 §3.5): a CSR whose challengePassword holds
//     this connection's tls-unique (TLS 1.2) or tls-exporter value (RFC
//     9266, TLS 1.3) is bound to the TLS session. A challengePassword that
//     has the shape of a binding but matches neither is refused: it was made
//     for another TLS session, which is what binding exists to catch. A
//     profile can require binding.
//   - simplereenroll is authenticated by the TLS client certificate being
//     renewed, which certgate must have issued and not revoked; the CSR's
//     subject and subjectAltName must equal that certificate's (RFC 7030
//     §4.2.2). A profile may instead accept a registrar's certificate from
//     a trusted issuer (RFC 9148), with the subject then free.
//   - Bodies are base64 with or without line breaks, with or without a
//     Content-Transfer-Encoding header (RFC 8951). Answers carry
//     Content-Length, because some embedded clients cannot read chunked
//     bodies.
//   - serverkeygen returns the private key unencrypted as application/pkcs8
//     inside the TLS session (RFC 7030 §4.4.2). It keeps no copy unless the
//     profile escrows keys (enroll seals the key into the record).
package est
