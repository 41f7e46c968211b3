// Package postgres is the store.Store backend for several certgate replicas
// sharing one PostgreSQL database (pgx/v5, pgxpool). It implements
// store.Store, store.Cache, store.Sequencer, store.Requests,
// store.Challenges and store.Tokens with the semantics of the bbolt
// backend, and passes the same storetest suites.
//
// Policy:
//   - Durability: every write is one statement (or one transaction) that
//     has committed when the call returns nil. Open refuses a session with
//     synchronous_commit=off, under which a commit can still be lost on a
//     server crash; every other setting (on, local, remote_write,
//     remote_apply) is the operator's choice and is kept.
//   - Cancellation: every query runs under the caller's context. When it
//     ends, the store sends the server a cancel request, so the statement
//     is abandoned on the server too (pgx's default would only drop the
//     connection and leave a lock wait to commit later), and the call
//     returns the context's error within cancelGrace even if the server
//     does not answer. Only a cancellation that races the commit itself
//     leaves the outcome unknown, as with any networked database: retrying
//     a Reserve or Issue that did commit gets ErrConflict, and Cert tells
//     what was stored.
//   - Schema: versioned SQL files embedded in the binary (migrations/),
//     applied by Open in one transaction under a transaction-level advisory
//     lock, so replicas starting together migrate once and the others wait.
//     A database migrated by a newer build is refused, as bbolt refuses a
//     newer file.
//   - Serial order: serials are stored as 20-byte big-endian bytea (RFC 5280
//     §4.1.2.2's maximum), so the primary key's byte order is numeric order,
//     the order bbolt returns and the Query.After cursor compares.
//   - Text: PostgreSQL text cannot hold NUL or invalid UTF-8. In free text
//     (subjects, names, reasons) both become U+FFFD on write, which is what the bbolt backend's JSON encoding
//     already does to invalid UTF-8; refusing instead would make Issue fail
//     after the CA signed. The DER is bytea and always stored exactly.
//     Blob keys and sequence names are bytea, so they are kept byte for
//     byte, up to maxKeyLen bytes (a btree entry must fit in a page).
//   - Races between replicas: every gate is one statement whose row lock or
//     unique constraint picks the winner (an insert for Reserve and
//     CreateRequest, a conditional update for Issue and DecideRequest, a
//     DELETE ... RETURNING for ConsumeChallenge), never a read followed by
//     a write. A statement the server rolls back as a serialization
//     failure, which happens only where default_transaction_isolation is
//     set above READ COMMITTED, is retried by the approval methods.
//   - Identifiers: request and token IDs, profiles, request keys and
//     hashes are text COLLATE "C", so they order and compare as bytes.
//     They are never altered: one text cannot hold (NUL, invalid UTF-8) is
//     refused on write with store.ErrInvalid and finds nothing on read.
//   - Leadership: Lease elects one replica for work that must not run on
//     several at once (building CRLs, pre-signing OCSP responses), with a
//     session-level advisory lock on a connection of its own; see Lease
//     for when the holder gives it up and another takes it. PutBlob of a
//     CRL is announced on NOTIFY (Listen), so the others take it at once.
//   - Secrets: the DSN may carry a password. No error this package returns
//     contains the DSN or the password; a DSN that does not parse is
//     reported without its text, because its password cannot be located
//     reliably.
package postgres
