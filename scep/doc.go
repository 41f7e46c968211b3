// Package scep is certgate's RFC 8894 edge: GetCACaps, GetCACert and
// PKIOperation (PKCSReq, RenewalReq) over GET and POST, at /scep, at
// /scep/<profile> and at the NDES path Windows and Intune clients use.
//
// The package parses and answers SCEP messages and nothing else: every
// enrollment decision is made by the enroll service, whose *enroll.Failure
// is mapped to a failInfo here, once (failinfo.go).
//
// Policy:
//   - Messages are parsed with smallstep/pkcs7 directly rather than with
//     smallstep/scep's ParsePKIMessage, because a message whose signature
//     does not verify must still get a CertRep FAILURE badMessageCheck (RFC
//     8894 §3.3.2.2), which needs its transactionID and senderNonce.
//   - CertReps are built here (certrep.go, envelope.go) because
//     pkcs7.Encrypt takes its cipher from a package-global variable, which
//     races when concurrent clients use different ciphers, and cannot
//     produce DES-EDE3-CBC. We answer with the cipher the client used (RFC
//     8894 §3.5.2 lets the CA do so) and the digest it used.
//   - RC2 and unknown ciphers are refused with badAlg. DES-EDE3 and SHA-1
//     are accepted because old clients (Juniper, Cisco IOS, Windows NDES
//     clients) still send them, and single DES is accepted on requests only
//     because Debian's scepclient (micromdm 2.1.0) uses nothing else; such
//     a client is answered with DES-EDE3, never DES. GetCACaps advertises
//     only the modern choices, so clients that read it pick AES and SHA-256.
//   - Windows signs PKCSReqs with a self-signed certificate carrying a
//     critical AuthorityKeyIdentifier, which Go ≥1.23 rejects; we enable
//     pkcs7's legacy parser fallback, since only the signer's public key is
//     used.
//   - A body that cannot be decoded into a SCEP message (garbage,
//     truncated, wrong content type, too large) gets an HTTP error; once the
//     transactionID and senderNonce are known every failure is a CertRep.
package scep
