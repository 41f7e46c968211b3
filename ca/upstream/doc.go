// Package upstream lets certgate issue from an existing CA as a
// registration authority: once the device is validated, its CSR is
// forwarded to the upstream, which picks serial and validity. EST (RFC
// 7030 simpleenroll) and SCEP (RFC 8894 PKCSReq) upstreams implement
// Forwarder; both also implement Poller (for requests the upstream holds)
// and Closer.
//
// Policy:
//   - The device's CSR is forwarded byte for byte. The gateway never
//     re-signs or rebuilds it: it cannot (the key is the device's), and a
//     CSR whose signature does not match its key would defeat the
//     upstream's proof-of-possession check.
//   - Errors come in three kinds, for the edges to map once: *Rejected (a
//     definite refusal: SCEP FAILURE, EST 4xx; its Message is ours and
//     safe to show, its Detail the upstream's words for the log),
//     ErrPending (*PendingError: SCEP PENDING past the deadline, EST 202;
//     the device is told to poll and its poll goes to Poll) and
//     ErrUnavailable (*UnavailableError: transport failures, timeouts,
//     5xx, garbage, an answer that fails verification, an open circuit;
//     the device gets SCEP FAILURE or EST 503 with Retry-After).
//   - Time: every call is bounded by ctx and by the upstream's Timeout
//     (default 30 s), whichever ends first, SCEP PENDING polling
//     included. Callers should give ctx a deadline below the device's own
//     HTTP timeout, so that it hears PENDING or 503, never silence.
//   - Retries: only calls that are safe to repeat (GetCACaps, GetCACert,
//     cacerts) are retried, three times with doubling backoff, and only on
//     transport errors, 5xx, 408 and 429. An enrollment is sent once.
//   - Circuit breaker, per upstream: after FailureThreshold (default 5)
//     consecutive unavailable round trips the circuit opens for CoolDown
//     (default 30 s), during which calls fail at once; then one trial
//     round trip decides. Refusals and PENDING prove the upstream alive
//     and close it; calls the caller canceled count for nothing.
//   - The upstream chain (EST cacerts, SCEP GetCACert, with SCEP
//     GetCACaps) is cached for ChainRefresh (default 1 h), refreshed
//     lazily by the first call after that, and served stale while a
//     refresh fails. Nothing runs in the background; after Close (which
//     drops idle keep-alive connections) no goroutine of a forwarder
//     remains.
//   - Answers are checked, not trusted: the issued certificate must be
//     for the CSR's key (both protocols); a CertRep must be signed by a
//     GetCACert certificate (not merely by one it carries), echo our
//     transactionID and senderNonce (RFC 8894 §3.2.1.5), and its
//     certificate must be signed by a GetCACert CA. GetCACert itself is
//     checked against SCEPConfig.Roots when set; without them a SCEP
//     upstream over plain HTTP is trusted on every fetch.
//
// SCEP specifics:
//   - The gateway signs the PKCSReq with its RA certificate and key (it is
//     what RFC 8894 calls a registration authority), so the upstream
//     encrypts the CertRep to the RA, which decrypts it. The device's
//     transactionID is reused when it is a PrintableString, so one
//     transaction has one ID end to end; otherwise it is the hex SHA-256
//     of the CSR's public key.
//   - Ciphers: AES-128-CBC and SHA-256 when GetCACaps offers "AES" /
//     "SHA-256" / "SCEPStandard", else DES-EDE3-CBC and SHA-1; POST when
//     offered, else GET. The envelope is built here (envelope.go):
//     smallstep/pkcs7's Encrypt takes its cipher from a package global
//     and cannot do DES-EDE3. smallstep/scep supplies the message
//     constants; its NewCSRRequest (global cipher, its own transactionID,
//     no CertPoll) and DecryptPKIEnvelope (indexes the first certificate
//     of an answer that may have none) are not used.
//   - The upstream's challenge. SCEP carries a challenge only as the
//     CSR's challengePassword attribute (RFC 8894 §2.2), inside the
//     signature only the device can make; there is no RA-level field for
//     it. micromdm's scepserver (Debian's scep 2.1.0) checks exactly that
//     attribute and ignores who signed the PKCSReq. So RA forwarding to
//     a challenge-checking upstream works only for devices whose CSR
//     already carries the upstream's challenge (certgate's static
//     challenge equal to the upstream's). SCEPConfig.Challenge, when set,
//     makes Forward refuse other CSRs itself (*Rejected, Unauthorized)
//     instead of sending certgate's own challenge to the upstream to
//     collect a bare badRequest. Upstreams that authorize an RA by its
//     signing certificate need no Challenge.
//   - PENDING: Forward polls with CertPoll (GetCertInitial) every
//     PollInterval while another poll and one second fit before the
//     deadline, then returns *PendingError. A poll that fails for want of
//     the upstream also ends in *PendingError (with Cause set, for the
//     log), in Forward and in Poll alike: the request is held there,
//     and the device polling again beats a second PKCSReq. Which requests
//     are pending is the caller's to remember (any replica may answer the
//     device's poll), so the device's later poll should go to Poll, which
//     sends a CertPoll, never a new PKCSReq.
//
// EST specifics: the CSR is posted base64 with Content-Transfer-Encoding
// (RFC 8951 made the header optional; RFC 7030 servers still want it);
// answers are read as base64 with or without line breaks, and, leniently,
// as binary DER or PEM. 400 and 4xx other than 404, 408 and 429 are
// refusals (401 and 403 Unauthorized); 202 is pending with its
// Retry-After; redirects are not followed. The TLS client certificate is
// sent whatever CAs the server names in its request.
package upstream
