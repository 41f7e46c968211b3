// Package migrate copies everything certgate keeps from one store to
// another (bbolt to PostgreSQL, typically), verifies the copy, and checks
// a store's integrity. `certgate store migrate` and `certgate store check`
// are thin wrappers around Copy, Summarize, Compare and Check.
//
// Policy:
//   - What is copied: every certificate record in every status
//     (reservations included, since a reserved serial must never be
//     reused), requests held for approval, one-time challenges (expired
//     ones too: the copy is faithful, and consuming one removes it), admin
//     API tokens, managed static secrets, and sequences (CRL numbers).
//     OCSP responses and CRLs are caches, rebuilt from the records, and are
//     not copied.
//   - Faithful: records and requests go through store.Importer, which
//     stores them as they are. Reserve, Issue and Revoke cannot (a revoked
//     record without a revocation time would get the importer's clock,
//     and a record would be written in up to three steps). Tokens and
//     challenges go through PutToken and PutChallenge, which keep every
//     field. A sequence is raised to the source's number, never lowered,
//     so no CRL number is handed out twice on either side.
//   - Resumable and idempotent: an item already in the target is compared
//     with the source. Equal, it is skipped; different, Copy stops with a
//     *ConflictError naming the item and the fields that differ, and
//     writes nothing over it. Records go in batches, each one write that
//     commits whole, so an interrupted copy leaves whole batches, and the
//     next run skips them.
//   - Equal means equal as every backend can store it: times to the
//     microsecond (PostgreSQL's precision) in any time zone, text with NUL
//     and invalid UTF-8 as U+FFFD (what PostgreSQL text holds), and an
//     empty list or byte string the same as none.
//   - Quiescent source: nothing may write to either store while Copy runs.
//     A bbolt source is locked by opening it; for PostgreSQL, stop the
//     replicas. Compare then proves the copy complete: counts per status
//     and a SHA-256 over the records in serial order, and the same for
//     every other kind of item, must be equal on both sides.
//   - No secrets in output: errors and summaries name challenges and
//     static secrets by profile and tokens by ID, never by hash, and a
//     PostgreSQL DSN never reaches this package.
package migrate
