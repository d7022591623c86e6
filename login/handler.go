package login

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

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
	PathLogin     = "/login"
	PathLogout    = "/logout"
	PathLoggedOut = "/logged-out"
	PathCSS       = "/static/sesame.css"
)

// Handler serves the screens. Every dependency is a field.
type Handler struct {
	Store  storage.Storage
	Pages  *templates.Renderer
	Hasher *password.Hasher
	Now    func() time.Time
	Logger *slog.Logger
	// Answer prepares the answer to a request the screens have just
	// answered or refused — the provider's code or error, to the relying
	// party — and returns what writes it in the same response. What it
	// stores (the code) it stores with tx: the screens call it in the
	// transaction that records the sign-in, and write the answer once that
	// has committed.
	Answer func(ctx context.Context, tx storage.Tx, ar storage.AuthRequest) http.HandlerFunc
	// Finish returns a link that answers a request later, from a page that
	// must be read first (the recovery codes shown at enrolment).
	Finish func(ctx context.Context, authRequestID string) string
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
}

func (h *Handler) count(result string) {
	if h.SignIns != nil {
		h.SignIns(result)
	}
}

type ipKey struct{}

// withIP keeps the client's address in the request context, for the audit trail.
func withIP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ipKey{}, web.ClientIP(r))))
	})
}

// Routes registers the screens.
func (h *Handler) Routes(r chi.Router) {
	r.Use(withIP)
	r.Get(PathCSS, h.handleCSS)
	r.Get(PathHome, h.handleHome)
	r.Get(PathLogin, h.handleLogin)
	r.Post(PathLogin, h.handleLoginSubmit)
	r.Post(PathLogout, h.handleLogoutSubmit)
	r.Get(PathLoggedOut, h.handleLoggedOut)
	r.Get(PathSignup, h.handleSignup)
	r.Post(PathSignup, h.handleSignupAccount)
	r.Post(PathSignupCompany, h.handleSignupCompany)
	r.Get(PathSetPassword, h.handleSetPassword)
	r.Post(PathSetPassword, h.handleSetPasswordSubmit)
	r.Get(PathMembers, h.handleMembers)
	r.Post(PathMembers+"/invite", h.handleInvite)
	r.Post(PathMembers+"/{id}/roles", h.handleMemberRoles)
	r.Post(PathMembers+"/{id}/resend", h.handleMemberResend)
	r.Post(PathMembers+"/{id}/remove", h.handleMemberRemove)
	r.Get(PathLoginCode, h.handleLoginCode)
	r.Post(PathLoginCode, h.handleLoginCodeSubmit)
	r.Get(PathLoginEnrol, h.handleLoginEnrol)
	r.Post(PathLoginEnrol, h.handleLoginEnrolSubmit)
	r.Get(PathSecurity, h.handleSecurity)
	r.Post(PathSecurity+"/password", h.handleChangePassword)
	r.Get(PathSecurity+"/totp", h.handleTOTPSetup)
	r.Post(PathSecurity+"/totp", h.handleTOTPConfirm)
	r.Post(PathSecurity+"/totp/disable", h.handleTOTPDisable)
	r.Post(PathSecurity+"/sessions/{id}/end", h.handleEndSession)
	r.Post(PathSecurity+"/sessions/end-others", h.handleEndOtherSessions)
	r.Get(PathForgot, h.handleForgot)
	r.Post(PathForgot, h.handleForgotSubmit)
	r.Get(PathResetPassword, h.handleReset)
	r.Post(PathResetPassword, h.handleResetSubmit)
	r.Post(PathMembers+"/{id}/reset-2fa", h.handleMemberReset2FA)
	r.Post(PathMembers+"/require-2fa", h.handleRequire2FA)
	r.Get(PathOrgAudit, h.handleOrgAudit)
	r.Get(PathOperatorAudit, h.handleOperatorAudit)
	r.Get(PathOperator, h.handleOperator)
	r.Post(PathOperator+"/{id}/validate", h.handleOperatorValidate)
	r.Post(PathOperator+"/{id}/reject", h.handleOperatorReject)
	r.Get(PathOperator+"/{id}", h.handleOperatorOrg)
	r.Post(PathOperator+"/{id}/members/{user}/roles", h.handleOperatorMemberRoles)
}

func (h *Handler) now() time.Time { return h.Now() }

// ErrorPage renders the error page; the provider uses it too.
func (h *Handler) ErrorPage(w http.ResponseWriter, r *http.Request, status int, key string) {
	p := &errorPage{Base: h.base(w, r, "Error.Title", nil), Message: key}
	if err := h.Pages.Render(w, status, "error", p); err != nil {
		h.Logger.Error("render error page", "err", err)
	}
}

// fail logs err and renders the page its status and key call for.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, key := web.Status(err)
	if status >= 500 {
		h.Logger.Error("request failed", "path", r.URL.Path, "err", err)
	} else {
		h.Logger.Info("request refused", "path", r.URL.Path, "status", status, "err", err)
	}
	h.ErrorPage(w, r, status, key)
}

type errorPage struct {
	templates.Base
	Message string
	Detail  string
}

func (h *Handler) handleCSS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Header().Set("ETag", h.Pages.CSSETag)
	if r.Header.Get("If-None-Match") == h.Pages.CSSETag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	_, _ = w.Write(h.Pages.CSS)
}
