// Package api is the management API, mounted at /api/v1: organizations,
// members, people, relying parties and the audit trail, for the
// marketplace's back office. It is one more door onto the rules the
// console and the command line apply (login.Accounts): it decides nothing
// those do not decide.
//
// The document is the source: openapi.yaml (OpenAPI 3.1) is the contract,
// server.gen.go is generated from it by oapi-codegen's strict server (the
// routes, the parameters' parsing, a typed function per operation), and
// apiclient/ is the Go client generated from it too. The document is also
// read at start (kin-openapi) and every request is validated against it
// before its handler runs: unknown JSON fields, out-of-range limits, wrong
// enums are refused by the contract itself, as 400 problems naming the
// fields. Tests validate every response of the suite against it.
//
// What runs before an operation, in this order (front.go): the route is
// found in the document (404/405 otherwise); the bearer token is checked
// (provider.ClientToken: an opaque, revocable client_credentials access
// token; 401 with a Bearer challenge); the client's budget of requests per
// minute is counted in storage, shared by the replicas (429 and
// Retry-After); the operation's scope, read from the document's security
// requirement, is checked (403 insufficient_scope); the body is bounded
// (64 KiB, 413), well-formed and valid; a POST's Idempotency-Key is
// recorded with a hash of the request, and a retry gets the first answer
// (a key used for another request is 422, one still running 409). Every
// change is made by login.Accounts (login.CompanySignIn for domains and
// company sign-in) with the actor "client:ID", so the audit trail names
// the client; mails go through the outbox as from the screens. Every
// other call of an authenticated client — a read, a refusal, a replay —
// is audited too, by one event (audit.go).
//
// Errors are RFC 9457 problem documents: problem.go is this door's one
// mapping of internal/fail codes (a stable type URI per code, a status, a
// title; the detail is the sentence of the error's message key, and a
// refused field is named in invalid_params). Title and detail are French
// or English by Accept-Language (templates/locales/{fr,en}/api.json;
// English when the header names neither: a program asks nothing).
//
// ETag is a hash of a resource's representation; If-Match on an update or
// a delete is compared with the current one (412 when stale), inside the
// transaction that makes the change, with the row held (precondition.go):
// of two requests with one ETag, one wins and the other is 412.
//
// Lists are ordered by a stable key and paged with an opaque cursor (the
// key of the last item, with the list it belongs to), by one helper
// (page.go): organizations by creation then id, in SQL; members (few per
// organization), clients and domains in memory; audit events newest
// first, in SQL.
//
// Regenerate after changing openapi.yaml: go generate ./api/...
package api

//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@v2.8.2 -config oapi-server.yaml openapi.yaml
//go:generate sh -c "cd apiclient && go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@v2.8.2 -config oapi-client.yaml ../openapi.yaml"
