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
// a Tx, or the aggregates of it they use; outside one they are given the
// Storage.
//
// Storage is what the owner of a backend opens, hands out and closes.
// A consumer declares the narrow interface it uses, built from the
// aggregates (Clients, Tokens…) and the small interfaces of the rest
// (Transactor for Atomic, Pinger, GarbageCollector): provider.Store,
// provider.KeyManager's SigningKeys, provider.Backchannel's LogoutNotices.
package storage
