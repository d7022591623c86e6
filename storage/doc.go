// Package storage defines Sesame's domain records (organizations, users,
// memberships, clients, authorization requests, tokens, browser sessions and
// signing keys), the small per-aggregate interfaces that a backend
// implements, and the sentinel errors callers test with errors.Is.
//
// Storage knows nothing of OpenID Connect or HTTP. Secrets never reach it in
// the clear: tokens and session ids arrive already hashed (see HashToken), and
// private signing keys arrive already encrypted. Backends are dumb; the suite
// in storage/conformance is their specification.
//
// Transactions are explicit values (DESIGN.md §1 says "nothing travels in
// context.Context that a call can forget"): Atomic hands its function a Tx,
// and every call the function makes on that Tx joins the transaction. A
// call it makes on the Storage itself would run outside it — on SQLite,
// waiting for the one writer connection the transaction holds, until the
// request's deadline (the re-authentication 503 of issue 13) — so the SQL
// backend panics at such a call, naming it, and every test that reaches
// one fails. Functions that run both inside and outside a transaction take
// a Tx; outside one they are given the Storage.
package storage
