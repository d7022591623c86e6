// Package sqlstore is the one implementation of storage.Storage over
// database/sql that the SQLite and PostgreSQL backends share: the queries
// are written once, with ? placeholders, and a Dialect says what differs
// (numbered placeholders, row locks for read-modify-write and for claims,
// the driver's constraint errors). The backends own opening, pools and
// their native migrations; the conformance suite is the contract of both.
//
// Times are Unix nanoseconds (BIGINT) and lists JSON arrays in both
// databases, so that a copy from one to the other is exact.
package sqlstore
