// Package provider is Sesame's OpenID Provider: the zitadel/oidc op library
// adapted over storage. It owns clients, authorization requests, codes,
// tokens, claims (the organization ones among them) and signing keys.
//
// Where the library is lax, this package follows the RFCs:
//   - PKCE is required of every client not registered with AllowNoPKCE, and
//     only S256 is accepted; a code issued with a challenge is never
//     exchanged without its verifier, nor one issued without a challenge
//     with a verifier (RFC 9700 §2.1.1, PKCE downgrade).
//   - redirect_uri matches a registered one exactly; an unregistered one gets
//     an error page from the login screens, never a redirect.
//   - A code works once; a replayed code revokes every token issued from it
//     (RFC 6749 §4.1.2). Refresh tokens rotate on every use; presenting a
//     rotated one revokes its whole family (RFC 9700 §4.14.2).
//   - Token, userinfo, introspection and revocation responses carry
//     Cache-Control: no-store; a 401 from userinfo carries WWW-Authenticate.
//   - A client that fails to authenticate at the token, introspection or
//     revocation endpoint gets 401 invalid_client with a Basic challenge
//     (RFC 6749 §5.2), not the library's 400; an unknown client gets the
//     same answer as a wrong secret, after the same work. Client secrets
//     are checked with a keyed hash (clientauth.go), and failed client
//     authentications have a budget per address (429 beyond).
//   - end_session without a valid id_token_hint ends nothing before the
//     person confirms (a CSRF-protected form the login screens render);
//     its refusals are error pages.
//   - Failures on the endpoints that answer JSON go through one door
//     (fail.go: OAuthError, WriteError): an internal/fail code becomes the
//     HTTP status, the OAuth error and a fixed description; a storage
//     failure is a 503 with Retry-After, never a 500 (the library's 500s are
//     turned into that same answer).
//   - The authorization callback is bound to the browser session that
//     authenticated: a leaked authorization request id cannot fetch a code
//     in another browser.
//
// Access tokens are opaque: an XChaCha20-Poly1305 sealing of
// "tokenID:subject" under a key derived from the configured secret (tokens
// the library sealed before, with AES-GCM, still open), backed by a stored
// record that revocation deletes. Codes are sealed the same way; codes and
// refresh tokens are stored only as SHA-256 hashes. ID tokens are signed RS256 by default, ES256 or
// EdDSA for a client that asks (IDTokenSignedAlg); private keys are stored
// encrypted.
//
// Performance: the token endpoint admits GOMAXPROCS requests at a time, the
// others wait in arrival order (a request is mostly one signature; served
// in turn, the slowest wait about the median instead of several times it);
// one request reads each client and person once (memo.go), and a code
// exchange or a refresh reads its code or token, client and person in one
// query before the library asks for them (prefetchGrant); discovery and
// the key set are served from bytes with an ETag until the keys change.
// Access tokens and codes are sealed with one XChaCha20-Poly1305 AEAD
// (crypto.go) rather than the library's JWE built per token. A code is
// consumed in the transaction that stores its tokens (storeTokens).
//
// The login screens are another package: they finish an authorization
// request through storage and hand it to Provider.Answer (which stores the
// code in their transaction and returns the response to write after it), or
// the browser to vocab.CallbackURL. The two meet only through that one
// callback and the Screens interface (the pages and the browser session the
// provider needs), which the login handler implements and cmd/sesame passes
// in Options.Screens; the paths and acr/amr values both use are in
// internal/vocab.
package provider
