package login

import (
	"context"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/sesame-idp/sesame/storage"
)

// The screens, one small handler per flow. Each holds the page plumbing
// (shared, page.go) and only the dependencies its screens use, and mounts
// its own routes. Adding a screen touches its flow's file (a handler and a
// line in its routes) and its template; a new flow is a type here, its file
// and one line in flows.
type screens struct {
	shared *shared
	// Components the flows share: failure counting and locks
	// (throttle.go), the second factor (enrol.go).
	throttle *throttle
	factors  *factors

	signIn    *signInFlow       // the gate's screens: password, code, enrolment (login.go, secondfactor.go, enrol.go)
	passwords *passwordFlow     // set-password and reset links (setpassword.go, forgot.go)
	security  *securityFlow     // the person's security settings (security.go)
	members   *membersFlow      // an organization's admins (members.go)
	signup    *signupFlow       // a new organization (signup.go)
	operator  *operatorFlow     // the operator's console (operator.go)
	audits    *auditFlow        // the audit trails (audit.go)
	account   *accountFlow      // home, sign-out, the style sheet (home.go, logout.go)
	static    *staticFlow       // the script, the branding's stylesheet and logo (static.go)
	policy    *policyFlow       // an organization's security policy (policy.go)
	codesFile *recoveryFileFlow // the recovery codes as a file (recoveryfile.go)
	// company sign-in, when configured: at the door (companyflow.go) and
	// for admins (domainsflow.go)
	company      *companyFlow
	companyAdmin *companyAdminFlow
	device       *deviceFlow // the device page, when the provider offers the flow (device.go)
}

type flow interface{ routes(chi.Router) }

func (s *screens) flows() []flow {
	out := []flow{s.account, s.signIn, s.passwords, s.security, s.members, s.signup, s.operator, s.audits, s.static, s.policy, s.codesFile}
	if s.company != nil {
		out = append(out, s.company, s.companyAdmin)
	}
	if s.device != nil {
		out = append(out, s.device)
	}
	return out
}

// build hands each flow its dependencies, once (Answer is read when a
// request is answered, so it may be set after build).
func (h *Handler) build() *screens {
	h.once.Do(func() {
		sh := &shared{Store: h.Store, Pages: h.Pages, Now: h.Now, Logger: h.Logger, Accounts: h.Accounts,
			SecureCookies: h.SecureCookies, SessionIdle: h.SessionIdle, SessionAbsolute: h.SessionAbsolute}
		th := &throttle{shared: sh, DeviceBox: h.MFABox}
		pk := &passkeys{shared: sh, WA: h.WebAuthn, Box: h.MFABox}
		fa := &factors{shared: sh, throttle: th, Hasher: h.Hasher, TOTPBox: h.TOTPBox, TOTPIssuer: h.TOTPIssuer}
		signIn := &signInFlow{shared: sh, throttle: th, factors: fa, Hasher: h.Hasher, AttemptBox: h.MFABox, pk: pk,
			Answer: func(ctx context.Context, tx storage.AuthRequests, ar storage.AuthRequest) http.HandlerFunc {
				return h.Answer(ctx, tx, ar)
			},
			SignIns: h.SignIns, SignInPerHour: h.SignInPerHour, CodePerHour: h.CodePerHour}
		h.screens = &screens{shared: sh, throttle: th, factors: fa, signIn: signIn,
			passwords: &passwordFlow{shared: sh, throttle: th, gate: signIn, Hasher: h.Hasher, Policy: h.Policy, pk: pk,
				ResetPerHour: h.ResetPerHour, ResetPerEmail: h.ResetPerEmail},
			security: &securityFlow{shared: sh, throttle: th, factors: fa, Hasher: h.Hasher, Policy: h.Policy,
				ReauthAfter: h.ReauthAfter, SignInPerHour: h.SignInPerHour, CodePerHour: h.CodePerHour, pk: pk},
			members:   &membersFlow{shared: sh, pk: pk},
			signup:    &signupFlow{shared: sh, Cloud: h.Cloud, Directory: h.Directory, Drafts: h.Drafts, SignupPerHour: h.SignupPerHour},
			operator:  &operatorFlow{shared: sh},
			audits:    &auditFlow{shared: sh},
			account:   &accountFlow{shared: sh},
			static:    &staticFlow{shared: sh},
			policy:    &policyFlow{shared: sh, pk: pk},
			codesFile: &recoveryFileFlow{shared: sh, Box: h.TOTPBox},
		}
		if h.Companies != nil {
			h.screens.company = &companyFlow{signInFlow: signIn, Companies: h.Companies}
			h.screens.companyAdmin = &companyAdminFlow{shared: sh, Companies: h.Companies}
			h.screens.operator.Companies = h.Companies
			signIn.company = h.screens.company
		}
		if h.DeviceCodeKey != nil {
			h.screens.device = &deviceFlow{shared: sh, Key: h.DeviceCodeKey}
		}
	})
	return h.screens
}
