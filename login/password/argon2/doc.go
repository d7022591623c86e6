// Package argon2 is golang.org/x/crypto/argon2 (v0.59.0, BSD licence in
// LICENSE) with one change: the hash's work area is the caller's Memory,
// kept from one hash to the next, instead of a new slice every time.
//
// Why: upstream allocates the whole work area (19 MiB with Sesame's
// defaults) for every hash. Under a sign-in load that was, besides the hash
// itself, the largest cost measured in the server: the kernel's page faults
// and the runtime's clearing of 19 MiB per sign-in, and a garbage
// collection cycle nearly every sign-in (16 clients, 2 cores: 75–78 sign-ins
// per second before, 100–103 after, and the server's CPU per sign-in from 25
// to 19 ms). password.Hasher keeps one Memory per hashing slot.
//
// What changed in upstream's argon2.go: the method Memory.IDKey replaces
// the package functions Key and IDKey (Argon2i's code paths stay, unused);
// initBlocks writes into the given work area; and the first pass over the
// memory sets each block where upstream XORs it into memory that make has
// just zeroed (the same result: version 0x13 XORs the new block into the
// old one from the second pass on). memory.go and memory_*.go are ours: the
// Memory type, its work area mapped outside the Go heap where the system
// allows it. blake2b.go and the blamka files are upstream's, unchanged. The
// tests compare every result with upstream's IDKey, on a work area dirty
// from earlier hashes, and with RFC 9106's test vector.
//
// To follow upstream: copy its files again over these and apply the change
// above; `diff -u` against the module cache shows it. The duplicate-code
// report's pairs in the blamka files and in initHash are upstream's.
package argon2
