// Package conformance is the specification of a storage backend, written as
// tests: RunTests(t, newStorage) exercises every method of storage.Storage,
// including its sentinel errors, atomicity and expiry rules. Every backend's
// own test file is a one-liner over it.
package conformance
