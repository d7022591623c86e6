package login

import (
	"context"
	"errors"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/sesame-idp/sesame/login/web"
	"github.com/sesame-idp/sesame/storage"
)

// An invitation activated with a passkey instead of a password: the
// set-password page (from the mail's link) also offers "Create a passkey".
// The account then has no password; such a person signs in with the
// passkey, and may add a password later from the settings (a fresh
// sign-in needs no current one) or with "forgot your password".
//
// An account is "activated" in Sesame when its password hash is set (the
// address is reserved, the invitation accepted, an admin active…): an
// account activated with a passkey holds noPassword there, a value no
// password ever hashes to (the hasher refuses it as malformed, so a
// password never signs in to it).

// noPassword is the password hash of an account activated without a
// password: with a passkey, or created by company sign-in. No password
// matches it (it is no PHC string), and, not being empty, it makes the
// account hold its address like an accepted invitation.
const noPassword = "!no-password"

// hasPassword says whether the person has a password of their own.
func hasPassword(u storage.User) bool { return u.PasswordHash != "" && u.PasswordHash != noPassword }

// HasPassword says whether the person has a password of their own (not
// invited only, not activated with a passkey alone): the command line's view.
func HasPassword(u storage.User) bool { return hasPassword(u) }

// PathSetPasswordPasskey is the set-password link's passkey ceremony.
const PathSetPasswordPasskey = PathSetPassword + "/passkey"

func (h *passwordFlow) passkeyRoutes(r chi.Router) {
	r.Post(PathSetPasswordPasskey+pathOptions, h.handleInvitePasskeyOptions)
	r.Post(PathSetPasswordPasskey, h.handleInvitePasskey)
}

// inviteBinding binds the ceremony to the link (its hash).
func inviteBinding(token string) string { return "link/" + storage.HashToken(token) }

func (h *passwordFlow) handleInvitePasskeyOptions(w http.ResponseWriter, r *http.Request) {
	if err := h.pk.ready(r); err != nil {
		h.pk.jsonError(w, r, err)
		return
	}
	token := r.PostFormValue("token")
	u, err := h.linkUser(r.Context(), token, h.Accounts.CheckLink)
	if err == nil && u.PasswordHash != "" {
		err = ErrLinkUsed
	}
	if err != nil {
		h.pk.jsonError(w, r, err)
		return
	}
	h.pk.beginRegistration(w, r, u, ceremonyEnrol, inviteBinding(token))
}

func (h *passwordFlow) handleInvitePasskey(w http.ResponseWriter, r *http.Request) {
	token := r.PostFormValue("token")
	u, err := h.linkUser(r.Context(), token, h.Accounts.CheckLink)
	if err != nil {
		h.renderLink(w, r, err)
		return
	}
	if err := h.pk.ready(r); err != nil {
		h.renderSetPassword(w, r, err, token, u)
		return
	}
	// A budget of its own: the link is unguessable, this bounds the work
	// of checking ceremonies, and leaves the second-factor budget alone.
	if !h.limit(w, r, "link:"+web.BudgetKey(r), h.ResetPerHour) {
		return
	}
	pk, err := h.pk.finishRegistration(w, r, u, ceremonyEnrol, inviteBinding(token))
	if err != nil {
		if h.refused(w, r, err) {
			h.renderSetPassword(w, r, err, token, u)
		}
		return
	}
	u, err = h.Accounts.ActivateWithPasskey(r.Context(), Actor{IP: web.ClientIP(r)}, token,
		func(tx storage.Tx, u storage.User) error { return h.pk.storePasskey(r, tx, u, pk) })
	switch {
	case errors.Is(err, ErrLinkUsed) || errors.Is(err, ErrLinkInvalid) || errors.Is(err, ErrAccountExists):
		h.renderLink(w, r, err)
		return
	case errors.Is(err, errPasskeyExists) || errors.Is(err, errPasskeyTooMany):
		h.renderSetPassword(w, r, errPasskeyExists, token, u)
		return
	case err != nil:
		h.fail(w, r, err)
		return
	}
	h.Accounts.wake()
	h.Logger.InfoContext(r.Context(), "account activated with a passkey", "user", u.ID)
	// The link proved the mailbox, and the passkey was made with the
	// person verified: the gate goes on from there, as after a password.
	p, err := h.Store.GetPerson(r.Context(), u.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	at := attempt{UserID: u.ID, Proofs: proofsOf(pk, true), Throttle: h.throttleKey(r, u.Email)}
	var ar *storage.AuthRequest
	if c, err := r.Cookie(authRequestCookie); err == nil {
		http.SetCookie(w, h.cookie(authRequestCookie, "", -1))
		if got, err := h.gate.authRequest(r.Context(), c.Value); err == nil {
			at.AuthRequestID, ar = got.ID, &got
		}
	}
	h.gate.proceed(w, r, at, p, ar, nil)
}

// ActivateWithPasskey consumes the set-password link and activates the
// account without a password, storing its first passkey (store) in the
// same transaction; every other link of the account is voided, and the
// first invitation accepted wins, as with a password (SetPassword).
func (a *Accounts) ActivateWithPasskey(ctx context.Context, actor Actor, token string, store func(storage.Tx, storage.User) error) (storage.User, error) {
	var u storage.User
	err := a.Store.Atomic(ctx, func(tx storage.Tx) error {
		t, err := a.consumeLink(ctx, tx, token, storage.PurposeSetPassword)
		if err != nil {
			return err
		}
		if prev, err := tx.GetUser(ctx, t.UserID); err != nil {
			return ErrLinkInvalid
		} else if prev.PasswordHash != "" {
			return ErrLinkUsed
		}
		if u, err = a.storePassword(ctx, tx, t.UserID, noPassword); errors.Is(err, storage.ErrConflict) {
			return ErrAccountExists
		} else if err != nil {
			return err
		}
		if err := a.takeAddress(ctx, tx, actor, u, "accepted elsewhere"); err != nil {
			return err
		}
		if err := store(tx, u); err != nil {
			return err
		}
		if actor.ID == "" {
			actor.ID = u.ID
		}
		return a.audit(ctx, tx, actor, "account.activated", "user", u.ID, a.orgOf(ctx, tx, u.ID), "passkey")
	})
	return u, err
}
