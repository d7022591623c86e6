// Package postgres is Sesame's backend for more than one machine: any
// number of `sesame serve` replicas share one PostgreSQL database
// (github.com/jackc/pgx/v5 through database/sql, one pool per process).
//
// The queries are storage/sqlstore's, with numbered placeholders, row
// locks for read-modify-write (SELECT … FOR UPDATE) and for claims
// (FOR UPDATE SKIP LOCKED: a mail or a logout token is taken by one worker
// only). The schema is the numbered .sql files in migrations/, applied
// under a PostgreSQL advisory lock so that when several replicas start at
// once one migrates and the others wait.
package postgres
