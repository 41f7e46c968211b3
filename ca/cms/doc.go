// Package cms holds the cryptographic message syntax certgate needs in
// more than one place: building and opening a CMS EnvelopedData (RFC 5652
// §6) with RSA key transport and a CBC content cipher, as SCEP wraps every
// request and reply (RFC 8894 §3.2.2), and decrypting PBES2-protected
// data (RFC 8018 §6.2), as encrypted PKCS#8 keys (RFC 5958 §3) and
// OpenSSL 3's PKCS#12 files carry it.
//
// Policy:
//   - Key transport is RSA PKCS#1 v1.5 only: it is what SCEP clients and
//     CAs implement; OAEP would not interoperate.
//   - Content ciphers are AES-128/192/256-CBC and DES-EDE3-CBC. Single DES
//     is opened, never sealed (old SCEP clients send it); RC2 is refused.
//   - PBES2 is read with PBKDF2 (HMAC-SHA-1/256/384/512) and the same
//     ciphers minus single DES. PBES1 and the PKCS#12 PBE schemes are
//     refused with an error wrapping ErrNotPBES2, so a caller can hand
//     such data to a legacy decoder.
//   - Work a hostile file can ask for is bounded by MaxIterations.
//
// Errors carry no "cms:" prefix: each caller wraps them with its own
// package prefix and what it was reading ("ca: local: …", "upstream: …
// PKCS#12 key: …", "scep: envelope: …"), which is what the operator
// needs to see, and ca/local's messages are part of its tested behaviour.
package cms
