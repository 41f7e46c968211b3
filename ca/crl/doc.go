// Package crl builds, refreshes and serves the RFC 5280 certificate
// revocation list of each CA certgate issues from.
//
// Policy:
//   - Complete CRLs only, one per CA, no delta CRLs (RFC 5280 §5.2.4) and no
//     partitioning: every certificate a CA issued is covered by its one CRL
//     at PublicURL/crl/<name>.crl, the URL ca/local puts in every leaf's CRL
//     distribution point.
//   - The Issuing Distribution Point extension (RFC 5280 §5.2.5, critical)
//     carries exactly that URL as its only distributionPoint fullName, and
//     nothing else: no onlyContainsUserCerts or onlySomeReasons, since the
//     CRL covers every certificate and reason. Windows schannel fails the
//     revocation check when the leaf's CDP and the CRL's IDP disagree
//     (CLIENT-QUIRKS.md), so the URL is built the same way ca/local builds
//     it, byte for byte. With no PublicURL the leaves carry no CDP and the
//     CRL carries no IDP.
//   - A revoked certificate is listed until it expires, and then on the
//     CRLs of one more Validity: RFC 5280 §3.3 wants an entry to appear on
//     at least one regularly scheduled CRL issued after the certificate's
//     validity ends, and with a rebuild every Validity/2 at the latest a
//     grace of one Validity guarantees that. A record revoked long ago and
//     long expired is not listed, so the CRL stays the size of the live
//     population.
//   - Each entry carries its revocation time and, unless the reason is
//     unspecified (RFC 5280 §5.3.1 recommends omitting it then), the
//     reasonCode extension.
//   - The CRL number (RFC 5280 §5.2.3) comes from store.Sequencer under the
//     name "crl/<ca>": it is durable before the CRL is signed, so numbers
//     only go up, across restarts and crashes. A build that fails after
//     drawing its number leaves a gap, which RFC 5280 allows.
//   - thisUpdate is the build time (whole seconds), nextUpdate one Validity
//     later (default 24h). The Scheduler rebuilds halfway through, a few
//     seconds (Debounce) after a revocation, and at start when the cached
//     CRL is missing, due, or not one this CA and URL would sign (after a
//     CA re-init or a PublicURL change). Failures are logged and retried
//     with backoff; the previous CRL keeps being served meanwhile.
//   - The signed DER is kept in store.Cache (store.BlobCRL, key = CA name),
//     so a restart serves the last CRL at once instead of re-signing.
package crl
