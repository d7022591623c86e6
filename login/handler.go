package login

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/sesame-idp/sesame/internal/vocab"
	"github.com/sesame-idp/sesame/login/cloudaccount"
	"github.com/sesame-idp/sesame/login/company"
	"github.com/sesame-idp/sesame/login/password"
	"github.com/sesame-idp/sesame/login/web"
	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/storage/secretbox"
	"github.com/sesame-idp/sesame/templates"
)

// Paths of the screens.
const (
	PathHome      = "/"
	PathLogin     = vocab.PathLogin // where the provider sends a request
	PathLogout    = "/logout"
	PathLoggedOut = vocab.PathLoggedOut // where the provider's logout lands
	PathCSS       = "/static/sesame.css"
)

// Handler serves the screens. Every dependency is a field; cmd/sesame sets
// them, and Routes hands each flow (screens.go) the ones it uses.
type Handler struct {
	Store  Store
	Pages  *templates.Renderer
	Hasher *password.Hasher
	Now    func() time.Time
	Logger *slog.Logger
	// Answer prepares the answer to a request the screens have just
	// answered or refused — the provider's code or error, to the relying
	// party — and returns what writes it in the same response. What it
	// stores (the code) it stores with tx: the screens call it in the
	// transaction that records the sign-in, and write the answer once that
	// has committed. It is the one way from the screens to the provider
	// (Provider.Answer); a page that must be read first (the recovery
	// codes shown at enrolment) links to vocab.CallbackURL instead.
	Answer func(ctx context.Context, tx storage.AuthRequests, ar storage.AuthRequest) http.HandlerFunc
	// SecureCookies marks cookies Secure and __Host- (https issuers).
	SecureCookies   bool
	SessionIdle     time.Duration
	SessionAbsolute time.Duration

	// Accounts carries out sign-up, invitations and decisions.
	Accounts *Accounts
	// Cloud checks the founder's cloud account; Directory finds companies.
	Cloud     cloudaccount.Verifier
	Directory company.Directory
	// Drafts seals the sign-up's progress between its steps.
	Drafts *secretbox.Box
	// Policy is the rule for new passwords.
	Policy password.Policy
	// SignupPerHour bounds sign-up attempts per IP address.
	SignupPerHour int

	// TOTPBox encrypts TOTP secrets at rest; MFABox seals a sign-in
	// between its password and its second factor.
	TOTPBox    *secretbox.Box
	MFABox     *secretbox.Box
	TOTPIssuer string // the name authenticator apps show
	// ReauthAfter: a session whose sign-in is older asks for the current
	// password before changing it (5 min).
	ReauthAfter time.Duration
	// Per IP address and hour: sign-in attempts, second-factor codes,
	// password reset requests. Per email address and hour: reset requests.
	SignInPerHour, CodePerHour, ResetPerHour, ResetPerEmail int
	// SignIns, when set, counts sign-in outcomes: success, failure,
	// locked, second_factor (password right, code asked).
	SignIns func(result string)
	// WebAuthn verifies passkeys (NewWebAuthn); nil turns them off.
	WebAuthn *webauthn.WebAuthn

	// Companies, when set, is company sign-in (companysignin.go): the
	// login page routes connected domains upstream, and admins manage
	// their domains and connection (the callback URL given to upstreams
	// is Accounts.Issuer's).
	Companies *CompanySignIn

	// DeviceCodeKey, when set, serves the device page (device.go): the
	// key the provider hashes user codes with (provider.UserCodeKey).
	DeviceCodeKey []byte

	once    sync.Once
	screens *screens
}

type ipKey struct{}

// withIP keeps the client's address in the request context, for the audit trail.
func withIP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ipKey{}, web.ClientIP(r))))
	})
}

// Routes registers the screens: each flow mounts its own.
func (h *Handler) Routes(r chi.Router) {
	r.Use(withIP)
	for _, f := range h.build().flows() {
		f.routes(r)
	}
	h.screens.shared.routed = mountedGETs(r)
}

// What the provider uses of the screens: Handler is its provider.Screens.

// Fail answers err with the page its code calls for (web.Status): the
// cause goes to the log, the person reads one translated sentence.
func (h *Handler) Fail(w http.ResponseWriter, r *http.Request, err error) {
	h.build().shared.fail(w, r, err)
}

// FormPost renders the form_post answer (formpost.go).
func (h *Handler) FormPost(w http.ResponseWriter, r *http.Request, action string, params url.Values, uiLocales []string) {
	h.build().shared.FormPost(w, r, action, params, uiLocales)
}

// ConfirmLogout asks before an unproven end_session ends the session (endsession.go).
func (h *Handler) ConfirmLogout(w http.ResponseWriter, r *http.Request, action string, params url.Values, uiLocales []string) {
	h.build().shared.ConfirmLogout(w, r, action, params, uiLocales)
}

// LogoutConfirmed reports whether the confirmation carries the browser's CSRF token.
func (h *Handler) LogoutConfirmed(r *http.Request) bool { return h.build().shared.csrfValid(r) }

// CurrentSessionID is the provider's view of the browser session.
func (h *Handler) CurrentSessionID(r *http.Request) string {
	return h.build().shared.CurrentSessionID(r)
}

// EndBrowserSession ends the session whose cookie is in the request
// headers in, and writes the cookie-clearing header to out.
func (h *Handler) EndBrowserSession(ctx context.Context, in, out http.Header) error {
	return h.build().shared.EndBrowserSession(ctx, in, out)
}
