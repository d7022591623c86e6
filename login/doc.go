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
// recovery-codes page, which must be read first, links to the provider's
// callback (vocab.CallbackURL). The provider asks for the pages and the
// browser session it needs through provider.Screens, which Handler
// implements; the paths and acr/amr values both use are in internal/vocab.
// Single sign-on is the login screen noticing a live session
// that satisfies the request (no prompt=login, max_age respected, the
// id_token_hint's subject, and the level the request or the organization
// needs) and finishing at once; prompt=none without such a session answers
// login_required, or unmet_authentication_requirements when the session is
// the person's but lacks the second factor.
//
// The sign-in gate (gate.go) is the only way into a session or up a level:
// the password form, the code step, the enrolment at sign-in and the
// set-password link only collect proofs and call proceed, which applies in
// one order the disabled account, the lock and failure counting
// (throttle.go: OWASP's device cookie, so that failures made elsewhere
// never lock out a browser that signed in before, and a right password
// never clears the failures of the step after it), the second factor, the
// organization's policy and the client's acr_values (enrolment before the
// session exists), then records the session with exactly the proofs as its
// amr. A link proves the mailbox only; using one, or any new password,
// voids the account's other links. Enrolment never overwrites a confirmed
// factor, and showing the setup page stores nothing (enrol.go: the secret
// travels sealed in the form until its first code confirms it); replacing
// a factor asks for the proof that disabling it asks for. No GET changes
// anything but a session's last-seen time.
//
// Storage calls inside a transaction go to the storage.Tx that Atomic
// hands its function; the helpers that run both inside and outside one
// take a storage.Tx parameter (the Storage itself outside).
//
// Handler is what cmd/sesame builds; its Routes hands each flow only the
// dependencies it uses (screens.go): signInFlow (the gate's screens: the
// password form, the code step, the enrolment), passwordFlow (set-password
// and reset links), securityFlow, membersFlow, signupFlow, operatorFlow,
// auditFlow and accountFlow (home, sign-out). Each mounts its own routes.
// The page plumbing — rendering, the error page and fail, CSRF, cookies,
// sealed payloads — is shared (page.go), with the browser session
// (session.go), who is signed in and per-IP budgets (guard.go) and the
// audit writers (audit.go); throttle (throttle.go) and factors (enrol.go)
// are the components the gate and the settings share. Two cookies carry a
// sign-in's progress: authRequestCookie, the authorization request the
// browser signs in for, and attemptCookie, a sign-in between its steps.
//
// One screen per file; paths are constants; a form that fails is rendered
// again with what the person typed and one translated message, and the
// cause goes to the log. The screens are tested in this package without a
// browser (harness_test.go: httptest, SQLite in a temporary directory, a
// clock the test moves, the SMTP recorder, a fake provider). Sign-in answers the same message, in the same
// time, for an unknown email, a wrong password and a disabled account.
//
// A successful sign-in's records — the session, its audit event, the
// authorization request it answers with its code, the last sign-in time and
// the cleared failures (when there were any) — commit in one transaction
// (the gate's complete), and nothing is answered before that commit. The POST
// reads the person with their organization in one query (GetPersonByEmail),
// and writes the answer and the sign-in time with one statement each.
//
// Passkeys (passkey*.go, go-webauthn) are one more proof the gate takes,
// never a second door. A passkey alone at the sign-in page (a discoverable
// credential, user verification required) proves hwk or swk (swk: backup
// eligible, a synced passkey) and user, so it is both factors (amr mfa) and
// satisfies "2FA required"; after a password it is the second factor,
// offered before the code. When the organization requires passkeys, or the
// relying party asks acr_values=urn:sesame:loa:3, the gate wants a passkey:
// a person who has one proves it, one who has none sets one up at sign-in
// — after the second factor they already have, so that a password alone
// never binds a new passkey to an account that has more. The acr reported
// is loa:3 only when it was asked for (and a passkey proven), else loa:2:
// a relying party comparing acr with what it asked finds it. Decisions
// beyond DESIGN.md: a ceremony's state travels sealed in a cookie (2
// minutes, bound to the authorization request, the sign-in in progress,
// the session or the link it was begun for) and its challenge is recorded
// as answered before anything is verified (storage's passkey_challenges),
// so a replay is refused whatever it carries; the browser's answer comes
// back as an ordinary form POST (the gate answers it as it answers a
// password); a counter that does not move forward is refused and audited
// (passkey.counter_regressed), the store refusing it too under a race. An
// account activated with a passkey holds a password hash no password
// matches (noPassword): every rule that says "activated" (the address
// reserved, the invitation accepted, an active admin) holds unchanged, and
// a password tried against it costs the dummy hash's time. With an
// IP-address issuer (browsers refuse WebAuthn there) Handler.WebAuthn is
// nil: no control is shown and the endpoints answer 404.
// Company sign-in (companysignin.go, companyflow.go, domainsflow.go) is one
// more proof for the gate, never a second door. CompanySignIn holds the
// rules the screens and the command line share: domains proven by a DNS
// TXT record (login/domains), one verifier per domain, the periodic
// re-check; a connection per validated organization with a verified domain
// (login/sso talks to the upstream). At the door, an address of a
// connected domain is routed upstream before any password is looked at;
// the callback (state once, nonce, a verified email in the organization's
// domains) finds, links or creates the member and calls proceed with an
// attempt that carries the upstream's amr and whether it proved a second
// factor; the gate then applies the account, the policy and enforce (a
// password or a link for an enforced domain is refused, but for the
// break-glass account) and records the provider on the session (idp).
// An account created by company sign-in has the password hash noPassword,
// which no password matches: it holds its address like an accepted
// invitation.
// The page language (lang.go) is, in this order: a click on the language
// link (remembered in this browser, and replacing the relying party's wish
// for the browser session), the relying party's ui_locales of this sign-in
// (remembered for the browser session), the link chosen earlier in this
// browser, the account's own choice (storage.User.ChosenLang: made at
// activation or in the settings; DESIGN.md's "locale chosen or none" —
// kept apart from Locale, the language of the person's mail, which an
// administrator or the CLI may set for them), Accept-Language, French.
// A sign-in sent from a protected page returns to it (returnpath.go: a
// checked local path only); "Cancel" on the code step answers a waiting
// relying party access_denied (cancel.go).
// A third-party client (consent.go) is answered only after the person's
// consent, a step after the gate: complete and single sign-on hand the
// browser a sealed ticket binding the request to the session they just
// admitted, and the consent page and its Allow/Deny need that ticket,
// that live session and the request unanswered. Consents are remembered
// per person and client with their scopes, listed and revoked in the
// security settings (consent_settings.go), where revoking ends the
// client's tokens for the person in the same transaction.
package login
