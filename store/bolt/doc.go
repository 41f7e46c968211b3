// Package bolt is the single-node store.Store backend, on bbolt
// (go.etcd.io/bbolt): one file, one writer process.
//
// Policy:
//   - Durability: NoSync is never set. Every write (a record and all of its
//     index entries) is one bbolt read-write transaction, which fsyncs on
//     commit, so a nil error means the write survives kill -9 and power
//     loss, and a crash can never leave an index pointing at nothing.
//   - One process: bbolt takes an exclusive flock on the file. A second
//     process (the CLI while `certgate serve` runs) fails after
//     Options.Timeout with ErrLocked instead of hanging.
//   - The file is created 0600: it names every device certgate has served.
//   - Serials are limited to RFC 5280's 20 octets, which makes a fixed-width
//     key whose byte order is numeric order (see buckets.go).
package bolt
