// Package login serves every screen a person sees: sign-in, the account
// page, sign-out, and the error pages of the OpenID flows. It owns the
// browser session (a random cookie, stored only as a hash, with an idle and
// an absolute expiry) and CSRF protection (a double-submit token checked on
// every form, beside Go's cross-origin protection on unsafe methods).
//
// It never imports the provider: an authorization request is finished by
// writing the outcome to storage and handing it to Answer, which cmd/sesame
// wires to the provider. Answer makes the code within the transaction it is
// given and returns what writes the response, called after the commit (the
// response to the last form is then the redirect to the relying party,
// code or error included); the
// recovery-codes page, which must be read first, links to Finish(id), the
// provider's callback. Single sign-on is the login screen noticing a live session
// that satisfies the request (no prompt=login, max_age respected, the
// id_token_hint's subject) and finishing at once; prompt=none without such
// a session answers login_required.
//
// One screen per file; paths are constants; a form that fails is rendered
// again with what the person typed and one translated message, and the
// cause goes to the log. Sign-in answers the same message, in the same
// time, for an unknown email, a wrong password and a disabled account.
//
// A successful sign-in's records — the session, its audit event, the
// authorization request it answers with its code, the last sign-in time and
// the cleared failures (when there were any) — commit in one transaction
// (completeSignIn), and nothing is answered before that commit. The POST
// reads the person with their organization in one query (GetPersonByEmail),
// and writes the answer and the sign-in time with one statement each.
package login
