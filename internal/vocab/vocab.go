// Package vocab is the vocabulary the login screens and the provider share
// without importing each other (DESIGN §1): the paths one sends the browser
// to and the other serves, the acr and amr values the screens prove and the
// provider reports, and how a browser session is found. It holds constants
// and two one-line helpers, and imports only the standard library.
package vocab

import "net/url"

// Paths that cross between the screens and the provider.
const (
	// PathLogin is where the provider sends an authorization request for
	// the screens to sign the person in (LoginURL).
	PathLogin = "/login"
	// PathCallback is where the screens send the browser once a request is
	// finished, for the provider to answer the relying party (CallbackURL).
	PathCallback = "/authorize/callback"
	// PathLoggedOut is where a logout lands without a registered
	// post_logout_redirect_uri.
	PathLoggedOut = "/logged-out"
	// PathDevice is the page where a person types the user code of a
	// device authorization (RFC 8628 verification_uri): the screens serve
	// it, the provider names it.
	PathDevice = "/device"
)

// LoginURL is the screens' page for the authorization request id.
func LoginURL(authRequestID string) string {
	return PathLogin + "?authRequestID=" + url.QueryEscape(authRequestID)
}

// CallbackURL is where the screens send the browser once the authorization
// request id is finished (or failed with an error), for the provider to
// answer it.
func CallbackURL(authRequestID string) string {
	return PathCallback + "?id=" + url.QueryEscape(authRequestID)
}

// Authentication context classes: what the provider reports in acr and a
// relying party asks for in acr_values.
const (
	ACRPassword = "urn:sesame:loa:1" // one factor
	ACRMFA      = "urn:sesame:loa:2" // two factors
	// ACRPasskey is a phishing-resistant sign-in: a passkey. A relying
	// party that asks for it gets a passkey sign-in and this acr; a passkey
	// sign-in not asked for reports ACRMFA.
	ACRPasskey = "urn:sesame:loa:3"
)

// Authentication methods (RFC 8176) a session records in amr.
const (
	AMRPassword = "pwd"  // a password
	AMROTP      = "otp"  // a one-time code (TOTP or recovery code)
	AMRMFA      = "mfa"  // proofs of two kinds
	AMRHWK      = "hwk"  // a device-bound passkey (proof of possession of a hardware key)
	AMRSWK      = "swk"  // a synced passkey (software-secured key)
	AMRUser     = "user" // the authenticator verified the person (PIN, biometrics)
)

// How a browser session is found: the screens set this cookie, holding the
// session's secret (storage keeps only its hash), and read it back on every
// request; the provider asks the screens for the session
// (provider.Screens.CurrentSessionID) and never reads the cookie itself.
const (
	SessionCookie       = "sesame_session"
	SecureSessionCookie = "__Host-sesame_session" // https issuers
)

// SessionCookieName is the session cookie's name for an issuer served over
// https (secure) or not.
func SessionCookieName(secure bool) string {
	if secure {
		return SecureSessionCookie
	}
	return SessionCookie
}
