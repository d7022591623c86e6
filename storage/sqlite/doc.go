// Package sqlite is Sesame's embedded storage backend: one SQLite file
// (modernc.org/sqlite, pure Go) in WAL mode, one writer connection beside a
// pool of readers, so that writes never wait on SQLITE_BUSY and reads never
// wait on writes; the writes run one after the other on the writer
// goroutine of package sqlstore. Schema changes are the numbered .sql files in migrations/,
// applied in order at Open and recorded in schema_migrations.
//
// Checkpoints run in a goroutine on a connection of their own (PASSIVE,
// every second), not in the commit that happens to cross SQLite's
// threshold while holding the writer; SQLite's autocheckpoint stays as a
// backstop at a larger threshold.
//
// Times are stored as Unix nanoseconds (UTC) and lists as JSON arrays. The
// database file is created 0600 in a 0700 directory: it holds password
// hashes and encrypted keys.
package sqlite
