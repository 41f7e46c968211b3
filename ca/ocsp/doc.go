// Package ocsp is certgate's OCSP responder: RFC 6960, served the RFC
// 5019 lightweight way so that RADIUS/NAC servers that ask on every login
// are answered from pre-signed responses.
//
// # Requests
//
// POST /ocsp with a DER body (Content-Type application/ocsp-request, or
// none) and GET /ocsp/{base64 DER}. One singleRequest per request (RFC
// 5019 §2.1.1; see maxSingleRequests), with a SHA-1 or SHA-256 CertID;
// the response repeats the client's CertID. Deliberate leniencies: a GET
// path with doubled slashes, '+' turned into ' ', the URL-safe base64
// alphabet and missing padding; a POST without Content-Type; a nonce
// carried raw instead of as an OCTET STRING. The request signature is
// ignored.
//
// # Answers
//
//   - good: the store has a valid record issued by that CA (expired
//     certificates included).
//   - revoked: a revoked record, with its time and reason (none when
//     unspecified).
//   - unknown (RFC 6960 §2.2): no record, a reserved serial that is not
//     yet a certificate, or a record of another CA.
//   - unauthorized: an issuer we do not answer for (RFC 6960 §2.3).
//   - malformedRequest: anything we cannot or will not parse, with HTTP
//     400 for undecodable input (and 413/414 for oversized input, 400
//     for a wrong Content-Type), HTTP 200 for a readable request we
//     refuse (bad version, several singleRequests, unsupported hash,
//     critical extension not understood, nonce outside 1..128 octets).
//   - internalError with HTTP 500 when the store or the key fails.
//
// Responses are signed with SHA-256 by a delegated responder (a fresh
// in-memory key whose certificate the CA issues, with nocheck, rotated at
// half its life) or by the CA key itself. thisUpdate and producedAt are
// the signing time to the second; nextUpdate is Validity later, never
// beyond the signing certificate's notAfter.
//
// # Cache
//
// Good and revoked responses are cached in memory (bounded) and in
// store.Cache (kind store.BlobOCSP, key "<CA>/<serial hex>", with
// "/sha256" appended for SHA-256 CertIDs). A cached response is served
// without any store lookup or signature until its RefreshAt, half-way to
// nextUpdate; then it is re-signed on demand (concurrent requests share
// one signature), or by the refresher (Run) before anyone asks. If
// re-signing fails, the old response is served while it is still valid.
// GET answers carry RFC 5019 §6.2 headers (Cache-Control max-age until
// nextUpdate, public, no-transform, must-revalidate; Last-Modified,
// Expires, ETag) and honour If-None-Match and If-Modified-Since.
//
// Unknown answers are never cached, so a serial issued a moment later is
// good at once; each costs a store read and a signature, which is why
// the cheap ECDSA delegated key is the default.
//
// # Invalidation
//
// Because hits skip the store, every revocation must go through
// Responder.Invalidate after the store records it and before it is
// reported done. The cache is in-process: one certgate process per store,
// as bbolt allows anyway.
//
// # Nonces
//
// A request with a nonce (RFC 6960 §4.4.1, RFC 9654) gets a response
// signed for it, echoing the nonce in responseExtensions; it is never
// cached nor served from the cache, and GET answers to it say no-store.
// Clients that send no nonce, as RFC 5019 clients do, get cached
// responses.
//
// # Logging
//
// This is a high-volume path: refused requests are logged at most once a
// second, internal errors at most five times a second; rotations and
// refresher failures are always logged.
package ocsp
