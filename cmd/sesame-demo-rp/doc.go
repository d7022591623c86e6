// Command sesame-demo-rp is a small relying party for the README's
// walk-through: it signs a person in through Sesame with the authorization
// code flow and PKCE (zitadel/oidc's rp package, which verifies the ID
// token), then shows the ID token's claims, the organization among them, and
// offers RP-initiated logout. It keeps nothing between requests but the
// library's encrypted state cookie.
package main
