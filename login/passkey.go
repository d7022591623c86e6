package login

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/sesame-idp/sesame/internal/fail"
	"github.com/sesame-idp/sesame/internal/vocab"
	"github.com/sesame-idp/sesame/login/web"
	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/storage/secretbox"
)

// Passkeys (WebAuthn, verified by go-webauthn). A passkey is one more
// proof the gate accepts (gate.go): alone at sign-in (a discoverable
// credential with user verification: both factors in one gesture), after a
// password as the second factor, or set up at sign-in when the
// organization or the relying party asks for a phishing-resistant sign-in.
//
// A ceremony is two requests. The first (a POST from passkey.js, with the
// form's CSRF token) makes the challenge and returns the options as JSON;
// what verifying needs (go-webauthn's SessionData) travels sealed in a
// cookie, bound to what the ceremony is for (the authorization request,
// the sign-in in progress, the session) and for ceremonyLifetime. The
// second is an ordinary form POST carrying the browser's answer as JSON in
// the "credential" field, so that the gate answers it as it answers a
// password (a redirect, the relying party's answer, a page with the
// error). The challenge is recorded as answered before anything is
// verified: a replay is refused whatever it carries.

// MaxPasskeys is how many passkeys a person may have.
const MaxPasskeys = 10

// ceremonyLifetime bounds a challenge.
const ceremonyLifetime = 2 * time.Minute

// maxCredentialJSON bounds the browser's answer.
const maxCredentialJSON = 16 << 10

// passkeyCookie holds the sealed ceremony between its two requests.
const passkeyCookie = "sesame_passkey"

// What a ceremony is for.
const (
	ceremonySignIn   = "signin"   // a passkey alone, at the sign-in page
	ceremonySecond   = "second"   // after a password
	ceremonyEnrol    = "enrol"    // set up at sign-in (the policy, acr_values)
	ceremonyRegister = "register" // from the security settings
)

// Proofs a passkey gives, as RFC 8176 names them.
const (
	proofHWK  = vocab.AMRHWK  // a device-bound passkey
	proofSWK  = vocab.AMRSWK  // a synced one (backup eligible)
	proofUser = vocab.AMRUser // the authenticator verified the person (PIN, biometrics)
)

var (
	errPasskeyOff       = fail.E(fail.NotFound, "Errors.Passkey.Unavailable")
	errPasskeyExpired   = fail.E(fail.Invalid, "Errors.Passkey.Expired")
	errPasskeyMalformed = fail.E(fail.Invalid, "Errors.Passkey.Malformed")
	errPasskeyInvalid   = fail.E(fail.Unauthorized, "Errors.Passkey.Invalid")
	errPasskeyName      = fail.E(fail.Invalid, "Errors.Passkey.Name")
	errPasskeyTooMany   = fail.E(fail.Conflict, "Errors.Passkey.TooMany")
	errPasskeyExists    = fail.E(fail.Conflict, "Errors.Passkey.Exists")
	errPasskeyReauth    = fail.E(fail.Unauthorized, "Errors.Passkey.Reauth")
	errPasskeyLast      = fail.E(fail.Conflict, "Errors.Passkey.Last")
	errPasskeyOnly      = fail.E(fail.Conflict, "Errors.Passkey.Only")
)

// NewWebAuthn is the relying party for issuer: its host is the RP id, its
// origin and origins (webauthn.origins) the origins allowed. It returns nil
// and the reason when browsers would refuse the issuer (an IP address).
func NewWebAuthn(issuer string, origins []string) (*webauthn.WebAuthn, string, error) {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" {
		return nil, "", fmt.Errorf("webauthn: issuer %q: not a URL", issuer)
	}
	host := u.Hostname()
	if net.ParseIP(host) != nil {
		return nil, "browsers refuse passkeys for an IP-address host (" + host + "): use a name such as localhost", nil
	}
	all := []string{u.Scheme + "://" + u.Host}
	for _, o := range origins {
		if o = strings.TrimSuffix(o, "/"); !slices.Contains(all, o) {
			all = append(all, o)
		}
	}
	wa, err := webauthn.New(&webauthn.Config{
		RPID:                  host,
		RPDisplayName:         "Sesame",
		RPOrigins:             all,
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey:        protocol.ResidentKeyRequirementRequired,
			RequireResidentKey: protocol.ResidentKeyRequired(),
			UserVerification:   protocol.VerificationRequired,
		},
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Timeout: ceremonyLifetime, TimeoutUVD: ceremonyLifetime},
			Registration: webauthn.TimeoutConfig{Timeout: ceremonyLifetime, TimeoutUVD: ceremonyLifetime},
		},
	})
	return wa, "", err
}

// passkeys is the WebAuthn side the flows share: ceremonies, the person as
// go-webauthn sees them, the proofs.
type passkeys struct {
	*shared
	WA  *webauthn.WebAuthn // nil: passkeys are off
	Box *secretbox.Box     // seals the ceremony cookie
}

func (h *passkeys) enabled() bool { return h != nil && h.WA != nil }

// ready says why a passkey request stops before its ceremony is looked
// at: passkeys are off, or the form did not come from this site's page.
// Every passkey handler asks it first, the options and the answers alike.
func (h *passkeys) ready(r *http.Request) error {
	switch {
	case !h.enabled():
		return errPasskeyOff
	case !h.csrfValid(r):
		return errCSRF
	}
	return nil
}

type ceremony struct {
	Kind    string               `json:"k"`
	Bind    string               `json:"b"`
	Session webauthn.SessionData `json:"s"`
	Exp     int64                `json:"x"`
}

// start seals the ceremony into the browser and answers the options.
func (h *passkeys) start(w http.ResponseWriter, r *http.Request, kind, bind string, sd *webauthn.SessionData, options any) {
	sealed, err := seal(h.Box, ceremony{Kind: kind, Bind: bind, Session: *sd, Exp: h.now().Add(ceremonyLifetime).Unix()})
	if err != nil {
		h.jsonError(w, r, err)
		return
	}
	http.SetCookie(w, h.cookie(passkeyCookie, sealed, int(ceremonyLifetime.Seconds())))
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(options)
}

// jsonError answers an options request that failed: its status, and the
// translated sentence passkey.js shows.
func (h *passkeys) jsonError(w http.ResponseWriter, r *http.Request, err error) {
	status, key := h.statusOf(r, err)
	b := h.base(w, r, "Error.Title", nil)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": b.T(key)})
}

func (h *passkeys) statusOf(r *http.Request, err error) (int, string) {
	status, key := web.Status(err)
	if status >= 500 {
		h.Logger.ErrorContext(r.Context(), "request failed", "path", r.URL.Path, "err", err)
	}
	return status, key
}

// take opens the browser's ceremony of kind bound to bind, once: the cookie
// is cleared and the challenge recorded as answered, whatever follows.
func (h *passkeys) take(w http.ResponseWriter, r *http.Request, kind, bind string) (webauthn.SessionData, error) {
	http.SetCookie(w, h.cookie(passkeyCookie, "", -1))
	var c ceremony
	ck, err := r.Cookie(passkeyCookie)
	if err != nil || !unseal(h.Box, ck.Value, &c) || c.Kind != kind || c.Bind != bind || c.Session.Challenge == "" {
		return c.Session, errPasskeyExpired
	}
	if h.now().Unix() > c.Exp {
		return c.Session, errPasskeyExpired
	}
	err = h.Store.UsePasskeyChallenge(r.Context(), storage.HashToken(c.Session.Challenge), time.Unix(c.Exp+1, 0), h.now())
	if errors.Is(err, storage.ErrAlreadyUsed) {
		h.Logger.InfoContext(r.Context(), "passkey challenge replayed", "kind", kind)
		return c.Session, errPasskeyExpired
	}
	return c.Session, err
}

// credentialJSON is the browser's answer, bounded.
func credentialJSON(r *http.Request) ([]byte, error) {
	v := r.PostFormValue("credential")
	if v == "" || len(v) > maxCredentialJSON || !json.Valid([]byte(v)) {
		return nil, errPasskeyMalformed
	}
	return []byte(v), nil
}

func parseAssertion(r *http.Request) (*protocol.ParsedCredentialAssertionData, error) {
	raw, err := credentialJSON(r)
	if err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errPasskeyMalformed, err)
	}
	return parsed, nil
}

func parseCreation(r *http.Request) (*protocol.ParsedCredentialCreationData, error) {
	raw, err := credentialJSON(r)
	if err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errPasskeyMalformed, err)
	}
	return parsed, nil
}

// waUser is a person as go-webauthn sees them: the user handle is their id.
type waUser struct {
	u     storage.User
	creds []webauthn.Credential
}

func (x waUser) WebAuthnID() []byte   { return []byte(x.u.ID) }
func (x waUser) WebAuthnName() string { return x.u.Email }
func (x waUser) WebAuthnDisplayName() string {
	if x.u.Name != "" {
		return x.u.Name
	}
	return x.u.Email
}
func (x waUser) WebAuthnCredentials() []webauthn.Credential { return x.creds }

func credentialID(raw []byte) string { return base64.RawURLEncoding.EncodeToString(raw) }

// toCredential is what go-webauthn verifies an assertion with.
func toCredential(p storage.Passkey) webauthn.Credential {
	id, _ := base64.RawURLEncoding.DecodeString(p.ID)
	var flags protocol.AuthenticatorFlags = protocol.FlagUserPresent | protocol.FlagUserVerified
	if p.BackupEligible {
		flags |= protocol.FlagBackupEligible
	}
	if p.BackedUp {
		flags |= protocol.FlagBackupState
	}
	c := webauthn.Credential{ID: id, PublicKey: p.PublicKey, AttestationType: p.AttestationType,
		Flags: webauthn.NewCredentialFlags(flags), Authenticator: webauthn.Authenticator{AAGUID: p.AAGUID, SignCount: p.SignCount}}
	for _, t := range p.Transports {
		c.Transport = append(c.Transport, protocol.AuthenticatorTransport(t))
	}
	return c
}

// fromCredential is what is stored of a new credential.
func fromCredential(c *webauthn.Credential, userID, name string, now time.Time) storage.Passkey {
	p := storage.Passkey{ID: credentialID(c.ID), UserID: userID, Name: name, PublicKey: c.PublicKey,
		SignCount: c.Authenticator.SignCount, BackupEligible: c.Flags.BackupEligible, BackedUp: c.Flags.BackupState,
		AttestationType: c.AttestationType, CreatedAt: now}
	if !bytes.Equal(c.Authenticator.AAGUID, make([]byte, len(c.Authenticator.AAGUID))) {
		p.AAGUID = c.Authenticator.AAGUID
	}
	for _, t := range c.Transport {
		p.Transports = append(p.Transports, string(t))
	}
	return p
}

// userOf loads the person's passkeys as go-webauthn credentials.
func (h *passkeys) userOf(r *http.Request, u storage.User) (waUser, []storage.Passkey, error) {
	list, err := h.Store.ListPasskeys(r.Context(), u.ID)
	if err != nil {
		return waUser{}, nil, err
	}
	x := waUser{u: u}
	for _, p := range list {
		x.creds = append(x.creds, toCredential(p))
	}
	return x, list, nil
}

// proofsOf is what an assertion with the passkey proved: hwk or swk, and
// user when the authenticator verified the person.
func proofsOf(p storage.Passkey, uv bool) []string {
	out := []string{proofHWK}
	if p.BackupEligible {
		out[0] = proofSWK
	}
	if uv {
		out = append(out, proofUser)
	}
	return out
}

// verifyAssertion checks the browser's answer for the ceremony against the
// person's passkeys (known: a second factor; nil: a discoverable sign-in,
// the person found from the credential). It returns the passkey, the
// person's user and what to record of the use; a signature counter that
// does not move forward (a cloned authenticator) is refused and audited.
func (h *passkeys) verifyAssertion(r *http.Request, sd webauthn.SessionData, known *storage.User) (storage.Passkey, storage.User, bool, error) {
	parsed, err := parseAssertion(r)
	if err != nil {
		return storage.Passkey{}, storage.User{}, false, err
	}
	ctx := r.Context()
	var (
		pk   storage.Passkey
		user storage.User
	)
	lookup := func(rawID, userHandle []byte) (webauthn.User, error) {
		var err error
		if pk, err = h.Store.GetPasskey(ctx, credentialID(rawID)); err != nil {
			return nil, err
		}
		if known != nil {
			user = *known
		} else if user, err = h.Store.GetUser(ctx, pk.UserID); err != nil {
			return nil, err
		}
		if pk.UserID != user.ID || (len(userHandle) > 0 && string(userHandle) != user.ID) {
			return nil, errors.New("the credential is another person's")
		}
		return waUser{u: user, creds: []webauthn.Credential{toCredential(pk)}}, nil
	}
	var cred *webauthn.Credential
	if known != nil {
		var x webauthn.User
		if x, err = lookup(parsed.RawID, parsed.Response.UserHandle); err == nil {
			cred, err = h.WA.ValidateLogin(x, sd, parsed)
		}
	} else {
		_, cred, err = h.WA.ValidatePasskeyLogin(lookup, sd, parsed)
	}
	if err != nil {
		h.Logger.InfoContext(r.Context(), "passkey refused", "err", err)
		return pk, user, false, errPasskeyInvalid
	}
	if cred.Authenticator.CloneWarning {
		h.audit(ctx, h.Store, user.ID, "passkey.counter_regressed", user.ID, "passkey="+pk.ID)
		h.Logger.WarnContext(r.Context(), "passkey sign counter went backwards: a cloned authenticator?", "user", user.ID, "passkey", pk.ID)
		return pk, user, false, errPasskeyInvalid
	}
	pk.SignCount, pk.BackedUp = cred.Authenticator.SignCount, cred.Flags.BackupState
	return pk, user, parsed.Response.AuthenticatorData.Flags.HasUserVerified(), nil
}

// recordUse stores the use in the sign-in's transaction; a counter that a
// concurrent sign-in moved meanwhile refuses the sign-in.
func (h *passkeys) recordUse(r *http.Request, pk storage.Passkey) func(storage.Tx) error {
	return func(tx storage.Tx) error {
		err := tx.RecordPasskeyUse(r.Context(), pk.ID, pk.SignCount, pk.BackedUp, h.now())
		if errors.Is(err, storage.ErrAlreadyUsed) || errors.Is(err, storage.ErrNotFound) {
			return errPasskeyInvalid
		}
		return err
	}
}

// beginRegistration makes the options for a new passkey of u.
func (h *passkeys) beginRegistration(w http.ResponseWriter, r *http.Request, u storage.User, kind, bind string) {
	x, list, err := h.userOf(r, u)
	if err != nil {
		h.jsonError(w, r, err)
		return
	}
	if len(list) >= MaxPasskeys {
		h.jsonError(w, r, errPasskeyTooMany)
		return
	}
	opts, sd, err := h.WA.BeginRegistration(x,
		webauthn.WithExclusions(webauthn.Credentials(x.creds).CredentialDescriptors()),
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementRequired))
	if err != nil {
		h.jsonError(w, r, err)
		return
	}
	h.start(w, r, kind, bind, sd, opts)
}

// finishRegistration verifies the browser's new credential for u.
func (h *passkeys) finishRegistration(w http.ResponseWriter, r *http.Request, u storage.User, kind, bind string) (storage.Passkey, error) {
	sd, err := h.take(w, r, kind, bind)
	if err != nil {
		return storage.Passkey{}, err
	}
	parsed, err := parseCreation(r)
	if err != nil {
		return storage.Passkey{}, err
	}
	cred, err := h.WA.CreateCredential(waUser{u: u}, sd, parsed)
	if err != nil {
		h.Logger.InfoContext(r.Context(), "passkey registration refused", "err", err)
		return storage.Passkey{}, errPasskeyInvalid
	}
	name, err := passkeyName(r)
	if err != nil {
		return storage.Passkey{}, err
	}
	return fromCredential(cred, u.ID, name, h.now()), nil
}

// passkeyName is the name the person gave, else their browser's.
func passkeyName(r *http.Request) (string, error) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	if name == "" {
		name = browserName(r.UserAgent())
	}
	if len([]rune(name)) > 64 || strings.ContainsFunc(name, func(c rune) bool { return c < 0x20 || c == 0x7f }) {
		return "", errPasskeyName
	}
	return name, nil
}

// storePasskey stores a new passkey in tx, audited and mailed.
func (h *passkeys) storePasskey(r *http.Request, tx storage.Tx, u storage.User, p storage.Passkey) error {
	ctx := r.Context()
	err := tx.CreatePasskey(ctx, p, MaxPasskeys)
	switch {
	case errors.Is(err, storage.ErrTooManyPasskeys):
		return errPasskeyTooMany
	case errors.Is(err, storage.ErrConflict):
		return errPasskeyExists
	case err != nil:
		return err
	}
	h.audit(ctx, tx, u.ID, "passkey.added", u.ID, "passkey="+p.ID+" name="+p.Name)
	return h.Accounts.notifySecondFactor(ctx, tx, u)
}
