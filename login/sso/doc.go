// Package sso is Sesame's side of an organization's upstream OpenID
// Connect provider (company sign-in): discovery, the authorization URL
// (code flow, PKCE S256, state, nonce, login_hint), the code exchange and
// the ID token's verification against the upstream's keys
// (github.com/coreos/go-oidc: signature, issuer, audience, expiry; the
// nonce here). It knows nothing of storage or sessions: login's company
// sign-in flow keeps the state, nonce and verifier sealed in the browser,
// and feeds the Identity this package returns to the sign-in gate as one
// more proof.
//
// Why go-oidc rather than zitadel/oidc's rp: the exchange is three calls
// here (discover, exchange, verify) with the HTTP client and its timeout
// passed explicitly, the discovery cached per issuer for a few minutes, and
// every failure classified in one place: the upstream down or answering an
// error is ErrUpstream (the screens show a page that offers to retry, never
// a 5xx); an ID token that does not verify, or whose nonce differs, is
// ErrToken.
//
// An organization's admin chooses the issuer, so every address the client
// dials for it (the issuer, and the endpoints its discovery names) is
// checked after resolution, with no proxy in between: link-local,
// unspecified and multicast addresses never; loopback, private and shared
// ones only with Client.AllowPrivate (domains.private_issuers, for tests and
// closed networks). Sesame must not be made to fetch the operator's own
// network or a cloud's metadata service (ErrPrivateIssuer says so).
package sso
