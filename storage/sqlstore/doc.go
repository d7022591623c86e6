// Package sqlstore is the one implementation of storage.Storage over
// database/sql that the SQLite and PostgreSQL backends share: the queries
// are written once, with ? placeholders, and a Dialect says what differs
// (numbered placeholders, row locks for read-modify-write and for claims,
// the driver's constraint errors). The backends own opening, pools and
// their native migrations; the conformance suite is the contract of both.
//
// Where the dialect asks (SQLite: modernc parses the SQL at every call
// otherwise), each query is kept prepared per connection; a query first met
// inside a transaction runs unprepared and is prepared once the transaction
// is over, because SQLite's one writer connection is held by it.
//
// Where writes share one connection (SQLite), a write (a transaction or a
// single statement) runs on its own goroutine when the writer is free and
// nothing is queued, else on a goroutine of their own, the writer, which
// runs them one after the other while their goroutines wait; writer.go says
// why (a request that went on to sign a token kept the next write from
// running).
//
// Times are Unix nanoseconds (BIGINT) and lists JSON arrays in both
// databases, so that a copy from one to the other is exact.
//
// Two rules beyond DESIGN.md's, each learnt from a race:
//   - An upgrade's pending migrations are applied in one transaction that
//     takes the write lock first (migrate.go): six processes opening a new
//     database at once queue six write transactions, not one per migration.
//   - Every revocation deletes tokens through deleteTokens (tokens.go):
//     refresh tokens, access tokens, refresh tokens again, so that on
//     PostgreSQL's READ COMMITTED a refresh committing while the revocation
//     waits for its row leaves nothing behind.
package sqlstore
