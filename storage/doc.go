// Package storage defines Sesame's domain records (organizations, users,
// memberships, clients, authorization requests, tokens, browser sessions and
// signing keys), the small per-aggregate interfaces that a backend
// implements, and the sentinel errors callers test with errors.Is.
//
// Storage knows nothing of OpenID Connect or HTTP. Secrets never reach it in
// the clear: tokens and session ids arrive already hashed (see HashToken), and
// private signing keys arrive already encrypted. Backends are dumb; the suite
// in storage/conformance is their specification.
package storage
