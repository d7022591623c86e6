package login

import (
	"context"
	"fmt"
	"net/http"

	"github.com/sesame-idp/sesame/internal/fail"
	"github.com/sesame-idp/sesame/storage"
)

// RemovePasskey removes one of a person's passkeys for the operator (the
// command line): audited, and the person is mailed. ErrNotFound when the
// person has no such passkey.
func (a *Accounts) RemovePasskey(ctx context.Context, actor Actor, userID, id string) error {
	err := a.Store.Atomic(ctx, func(tx storage.Tx) error {
		u, err := tx.GetUser(ctx, userID)
		if err != nil {
			return err
		}
		if err := tx.DeletePasskey(ctx, userID, id); err != nil {
			return err
		}
		if err := a.audit(ctx, tx, actor, "passkey.removed", "user", userID, a.orgOf(ctx, tx, userID), "passkey="+id); err != nil {
			return err
		}
		return a.notifySecondFactor(ctx, tx, u)
	})
	if err == nil {
		a.wake()
	}
	return err
}

// SetRequirePasskey makes passkeys mandatory (or not) for an
// organization's members: a phishing-resistant sign-in, those without one
// enrolling at their next sign-in (the gate, gate.go).
func (a *Accounts) SetRequirePasskey(ctx context.Context, actor Actor, orgID string, require bool) error {
	return a.Store.Atomic(ctx, func(tx storage.Tx) error {
		if _, err := a.mayChange(ctx, tx, actor, orgID, changeMembers); err != nil {
			return err
		}
		if err := tx.UpdateOrganization(ctx, orgID, func(o *storage.Organization) error { o.RequirePasskey = require; return nil }); err != nil {
			return err
		}
		return a.audit(ctx, tx, actor, "org.require_passkey", "organization", orgID, orgID, fmt.Sprintf("require=%v", require))
	})
}

// errPasskeyPolicyOff: "passkeys only" where passkeys are off would lock
// every member out, the admin included.
var errPasskeyPolicyOff = fail.E(fail.Conflict, "Errors.Passkey.Unavailable")

func (h *membersFlow) handleRequirePasskeys(w http.ResponseWriter, r *http.Request) {
	h.memberAction(w, r, "require-2fa", func(v viewer) error {
		if r.PostFormValue("require") != "" && !h.pk.enabled() {
			return errPasskeyPolicyOff
		}
		return h.Accounts.SetRequirePasskey(r.Context(), actorOf(v, r), v.membership.OrgID, r.PostFormValue("require") != "")
	}, nil)
}
