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
// The protocol's extensions (issue 18) are wired around the library, which
// lacks them or is laxer than FAPI 2.0 asks:
//   - Pushed authorization requests (RFC 9126, fapi.go): PathPAR takes a
//     client's parameters (the client authenticated as at the token
//     endpoint, the parameters checked as /authorize would), keeps them 60 s
//     in storage under a request_uri that only its hash names, and /authorize
//     takes them once, for that client only, before the library reads the
//     request (only the pushed parameters count). An unknown, used, expired
//     or another client's request_uri gets the error page (there is no
//     redirect URI to trust). A --require-par client's plain request goes
//     back to it with invalid_request. GET /authorize?request_uri spends the
//     pushed request, as RFC 9126 §4 asks: like every /authorize, it is not
//     a "no state change on GET" route.
//   - private_key_jwt (RFC 7523, assertion.go): the library's JWT-profile
//     verifier accepts only the issuer as audience and keeps no jti, so the
//     assertion is checked here with go-jose (iss = sub = the client, aud the
//     issuer, the token endpoint or the endpoint it is sent to, exp at most 5
//     minutes ahead, a registered key, RS256/ES256/EdDSA/PS256, jti once,
//     kept in storage until exp so that every replica refuses a replay).
//     The client it authenticates reaches the library's callbacks as a
//     one-request secret in the form that only the request's memo knows
//     (protocolAuth, VerifyClient, AuthorizeClientIDSecret): one path for
//     the token, introspection, revocation and PAR endpoints.
//   - DPoP (RFC 9449, dpop.go): a proof at the token endpoint binds the
//     access token (and a public client's refresh token) to the proof key's
//     RFC 7638 thumbprint; token_type is DPoP; userinfo then needs the DPoP
//     scheme and a proof of that key with ath, and introspection (by the
//     client itself, the only one Sesame answers) a proof of that key, else
//     the token is inactive; the response names cnf.jkt. Each proof's jti is
//     kept in storage until its iat leaves the 60 s window. A --require-dpop
//     client gets nothing without a proof. DPoP-Nonce is not used (optional).
//   - JWT access tokens (RFC 9068, jwtat.go) for a --access-token-format jwt
//     client: typ at+jwt, signed with the published RS256 key, the claims the
//     RFC lists plus cnf and the organization ones; the token is still stored
//     (its jti), so revocation, introspection and userinfo work as for an
//     opaque one. The JWT is handed to the library where it would seal an
//     opaque token, so the ID token's at_hash is the JWT's.
//   - Per-client allowed origins (origins.go): CORS on token, userinfo and
//     revocation answers only an origin the request's client registered;
//     introspection none; discovery and keys any.
//   - Refusals with an RFC's own error value (invalid_request_uri,
//     invalid_dpop_proof) are fail codes whose message key selects that
//     value in the OAuth door (fail.go, oauthOfKey).
//   - Device authorization (device.go, RFC 8628): the library's endpoint,
//     codes and token response; Sesame checks the grant and the scopes,
//     stores only hashes of both codes (the user code's keyed: it is
//     short), and answers polls itself (server.DeviceToken): slow_down with
//     the interval raised in the same statement that records the poll,
//     expiry on the injected clock, the device code spent in the
//     transaction that stores its tokens. The person's page is the login
//     screens' /device, behind the gate.
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
