// Package password hashes and verifies passwords with argon2id, encoded in
// the PHC string format ($argon2id$v=19$m=…,t=…,p=…$salt$hash) so that the
// parameters travel with each hash and can change without a migration: a
// hash made with older parameters verifies, and NeedsRehash says to replace
// it at the next successful sign-in.
//
// argon2id is memory-hard on purpose (19 MiB by default, OWASP's first
// recommended setting), so a burst of sign-ins could exhaust memory: a Hasher
// lets at most Concurrency hashes run at once and queues the rest. Each slot
// keeps its work area from one hash to the next (the argon2 subpackage is
// x/crypto's argon2 with that one change), and drops it after KeepMemory
// without a hash: a sign-in then neither allocates nor clears 19 MiB, nor
// leaves them to the garbage collector.
//
// The password policy (length, the person's email, common passwords) lives
// here too, so that every screen that sets a password applies the same one.
package password
