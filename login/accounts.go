package login

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sesame-idp/sesame/login/mail"
	"github.com/sesame-idp/sesame/login/web"
	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/templates"
)

// Accounts carries out the account operations that write more than one
// record: each one commits its records, its mail and its audit event in one
// transaction. The screens and the command line share it.
type Accounts struct {
	Store  storage.Storage
	Pages  *templates.Renderer
	Issuer string
	Now    func() time.Time
	// LinkLifetime is the validity of a set-password link (24 h).
	LinkLifetime time.Duration
	// Wake tells the mail worker there is mail (optional).
	Wake func()
	// ResetLifetime is the validity of a reset link (5 min).
	ResetLifetime time.Duration
	// SessionEnded is told of every session that ends, before its tokens
	// are revoked (back-channel logout). Optional.
	SessionEnded func(ctx context.Context, s storage.Session) error
	// Sealer seals every mail's body before it is queued: a set-password
	// or reset link never lies in clear in the outbox. Required.
	Sealer *mail.Sealer
}

// Actor is who does something, for the audit trail.
type Actor struct {
	ID string // a user id, or "cli"
	IP string
}

// Domain errors, each with its status and message.
var (
	ErrLastAdmin    = &web.Error{Status: http.StatusConflict, Key: "Errors.Members.LastAdmin"}
	ErrEmailTaken   = &web.Error{Status: http.StatusConflict, Key: "Errors.Members.EmailTaken"}
	ErrSIRETTaken   = &web.Error{Status: http.StatusConflict, Key: "Errors.Signup.SIRETTaken"}
	ErrNotPending   = &web.Error{Status: http.StatusConflict, Key: "Errors.Operator.NotPending"}
	ErrNotMember    = &web.Error{Status: http.StatusNotFound, Key: "Errors.Members.NotFound"}
	ErrLinkInvalid  = &web.Error{Status: http.StatusGone, Key: "Errors.Link.Invalid"}
	ErrLinkUsed     = &web.Error{Status: http.StatusGone, Key: "Errors.Link.Used"}
	ErrInvalidRoles = &web.Error{Status: http.StatusBadRequest, Key: "Errors.Members.Roles"}
)

func (a *Accounts) audit(ctx context.Context, actor Actor, action, targetType, targetID, orgID, details string) error {
	return a.Store.RecordEvent(ctx, storage.AuditEvent{ID: storage.NewID("evt"), At: a.Now(), ActorID: actor.ID, Action: action,
		TargetType: targetType, TargetID: targetID, OrgID: orgID, IP: actor.IP, Details: details})
}

func (a *Accounts) wake() {
	if a.Wake != nil {
		a.Wake()
	}
}

type setPasswordMail struct {
	templates.MailData
	OrgName, Inviter, Link string
}

type orgMail struct {
	templates.MailData
	OrgName, Link, Reason string
}

func (a *Accounts) compose(kind, subjectKey, to string, data templates.Mail) (storage.Mail, error) {
	subject, text, html, err := a.Pages.RenderMail(kind, subjectKey, data)
	if err != nil {
		return storage.Mail{}, err
	}
	if a.Sealer == nil {
		return storage.Mail{}, errors.New("login: Accounts.Sealer is not set: mail would be queued in clear")
	}
	return a.Sealer.Seal(storage.Mail{ID: storage.NewID("mail"), Kind: kind, To: to, Subject: subject, Text: text, HTML: html, CreatedAt: a.Now()})
}

// PathSetPassword is the screen the invitation links to.
const PathSetPassword = "/set-password"

// invite creates the set-password link of u and queues its mail, inside
// the caller's transaction.
func (a *Accounts) invite(ctx context.Context, u storage.User, orgName, inviter string) error {
	token := storage.NewSecret()
	now := a.Now()
	if err := a.Store.CreateActionToken(ctx, storage.ActionToken{Hash: storage.HashToken(token), UserID: u.ID,
		Purpose: storage.PurposeSetPassword, CreatedAt: now, ExpiresAt: now.Add(a.LinkLifetime)}); err != nil {
		return err
	}
	link := a.Issuer + PathSetPassword + "?" + url.Values{"token": {token}}.Encode()
	m, err := a.compose("set_password", "Mail.SetPassword.Subject", u.Email,
		&setPasswordMail{MailData: templates.MailData{Lang: langOf(u)}, OrgName: orgName, Inviter: inviter, Link: link})
	if err != nil {
		return err
	}
	return a.Store.EnqueueMail(ctx, m)
}

func langOf(u storage.User) string {
	if u.Locale == "en" {
		return "en"
	}
	return "fr"
}

// CreateOrganization creates a pending organization with its founder as
// admin, and mails the founder the set-password link. A signup key already
// used returns the organization it created (a double submit).
func (a *Accounts) CreateOrganization(ctx context.Context, actor Actor, org storage.Organization, founderEmail, lang string) (storage.Organization, error) {
	if !OneLine(org.Name) || !OneLine(org.LegalName) {
		return storage.Organization{}, ErrNotOneLine
	}
	if org.SignupKey != "" {
		if prev, err := a.Store.GetOrganizationBySignupKey(ctx, org.SignupKey); err == nil {
			return prev, nil
		}
	}
	now := a.Now()
	org.ID, org.Status, org.CreatedAt = storage.NewID("org"), storage.OrgPending, now
	founder := storage.User{ID: storage.NewID("usr"), Email: founderEmail, Locale: lang, CreatedAt: now, UpdatedAt: now}
	err := a.Store.Atomic(ctx, func(ctx context.Context) error {
		// A conflict aborts the transaction (PostgreSQL refuses any further
		// statement in it): what it means is looked at after the rollback.
		if err := a.Store.CreateOrganization(ctx, org); errors.Is(err, storage.ErrConflict) {
			return errOrgConflict
		} else if err != nil {
			return err
		}
		if err := a.Store.CreateUser(ctx, founder, &storage.Membership{OrgID: org.ID, Roles: []string{storage.RoleAdmin, storage.RoleUser}}); errors.Is(err, storage.ErrConflict) {
			return ErrEmailTaken
		} else if err != nil {
			return err
		}
		if err := a.invite(ctx, founder, org.Name, ""); err != nil {
			return err
		}
		if err := a.audit(ctx, actor, "org.created", "organization", org.ID, org.ID, "founder="+founder.ID+" siret="+org.SIRET); err != nil {
			return err
		}
		return a.audit(ctx, actor, "member.invited", "user", founder.ID, org.ID, "roles=admin,user")
	})
	if errors.Is(err, errOrgConflict) {
		if org.SignupKey != "" {
			if prev, err := a.Store.GetOrganizationBySignupKey(ctx, org.SignupKey); err == nil {
				return prev, nil // the same form, submitted twice
			}
		}
		return storage.Organization{}, ErrSIRETTaken
	}
	if err != nil {
		return storage.Organization{}, err
	}
	a.wake()
	return org, nil
}

var errOrgConflict = errors.New("an organization with this SIRET or sign-up key exists")

// Invite creates a member without a password and mails them the link.
func (a *Accounts) Invite(ctx context.Context, actor Actor, orgID, email, name, lang string, roles []string) (storage.User, error) {
	if !OneLine(name) {
		return storage.User{}, ErrNotOneLine
	}
	if !storage.ValidRoles(roles) {
		return storage.User{}, ErrInvalidRoles
	}
	org, err := a.Store.GetOrganization(ctx, orgID)
	if err != nil {
		return storage.User{}, err
	}
	inviter := "Sesame"
	if u, err := a.Store.GetUser(ctx, actor.ID); err == nil {
		inviter = u.Email
		if u.Name != "" {
			inviter = u.Name
		}
	}
	now := a.Now()
	u := storage.User{ID: storage.NewID("usr"), Email: strings.TrimSpace(email), Name: strings.TrimSpace(name), Locale: lang, CreatedAt: now, UpdatedAt: now}
	err = a.Store.Atomic(ctx, func(ctx context.Context) error {
		if err := a.Store.CreateUser(ctx, u, &storage.Membership{OrgID: orgID, Roles: storage.NormalizeRoles(roles)}); errors.Is(err, storage.ErrConflict) {
			return ErrEmailTaken
		} else if err != nil {
			return err
		}
		if err := a.invite(ctx, u, org.Name, inviter); err != nil {
			return err
		}
		return a.audit(ctx, actor, "member.invited", "user", u.ID, orgID, "roles="+strings.Join(storage.NormalizeRoles(roles), ","))
	})
	if err != nil {
		return storage.User{}, err
	}
	a.wake()
	return u, nil
}

// ResendInvitation mails a new link to a member who has not set a password.
func (a *Accounts) ResendInvitation(ctx context.Context, actor Actor, orgID, userID string) error {
	u, m, err := a.member(ctx, orgID, userID)
	if err != nil {
		return err
	}
	if u.PasswordHash != "" {
		return &web.Error{Status: http.StatusConflict, Key: "Errors.Members.AlreadyActive"}
	}
	org, err := a.Store.GetOrganization(ctx, m.OrgID)
	if err != nil {
		return err
	}
	err = a.Store.Atomic(ctx, func(ctx context.Context) error {
		if err := a.invite(ctx, u, org.Name, ""); err != nil {
			return err
		}
		return a.audit(ctx, actor, "member.invitation_resent", "user", u.ID, orgID, "")
	})
	if err == nil {
		a.wake()
	}
	return err
}

func (a *Accounts) member(ctx context.Context, orgID, userID string) (storage.User, storage.Membership, error) {
	m, err := a.Store.GetMembership(ctx, userID)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && m.OrgID != orgID) {
		return storage.User{}, m, ErrNotMember
	}
	if err != nil {
		return storage.User{}, m, err
	}
	u, err := a.Store.GetUser(ctx, userID)
	return u, m, err
}

// countAdmins counts the admins of an organization, in the caller's transaction.
func (a *Accounts) countAdmins(ctx context.Context, orgID string) (int, error) {
	list, err := a.Store.ListMemberships(ctx, orgID)
	n := 0
	for _, m := range list {
		for _, r := range m.Roles {
			if r == storage.RoleAdmin {
				n++
			}
		}
	}
	return n, err
}

func isAdmin(m storage.Membership) bool {
	for _, r := range m.Roles {
		if r == storage.RoleAdmin {
			return true
		}
	}
	return false
}

// SetRoles changes a member's roles; the last admin keeps theirs.
func (a *Accounts) SetRoles(ctx context.Context, actor Actor, orgID, userID string, roles []string) error {
	if !storage.ValidRoles(roles) {
		return ErrInvalidRoles
	}
	roles = storage.NormalizeRoles(roles)
	return a.Store.Atomic(ctx, func(ctx context.Context) error {
		_, m, err := a.member(ctx, orgID, userID)
		if err != nil {
			return err
		}
		if isAdmin(m) && !isAdmin(storage.Membership{Roles: roles}) {
			if n, err := a.countAdmins(ctx, orgID); err != nil {
				return err
			} else if n <= 1 {
				return ErrLastAdmin
			}
		}
		if err := a.Store.SetRoles(ctx, userID, roles); err != nil {
			return err
		}
		return a.audit(ctx, actor, "member.roles_changed", "user", userID, orgID, "roles="+strings.Join(roles, ","))
	})
}

// RemoveMember deletes a member's account; the last admin stays.
func (a *Accounts) RemoveMember(ctx context.Context, actor Actor, orgID, userID string) error {
	return a.Store.Atomic(ctx, func(ctx context.Context) error {
		u, m, err := a.member(ctx, orgID, userID)
		if err != nil {
			return err
		}
		if isAdmin(m) {
			if n, err := a.countAdmins(ctx, orgID); err != nil {
				return err
			} else if n <= 1 {
				return ErrLastAdmin
			}
		}
		if err := a.Store.DeleteUser(ctx, userID); err != nil {
			return err
		}
		return a.audit(ctx, actor, "member.removed", "user", userID, orgID, "email="+u.Email)
	})
}

// ValidateOrganization validates a pending (or rejected, or suspended)
// organization and mails every member.
func (a *Accounts) ValidateOrganization(ctx context.Context, actor Actor, orgID string) error {
	err := a.Store.Atomic(ctx, func(ctx context.Context) error {
		var org storage.Organization
		err := a.Store.UpdateOrganization(ctx, orgID, func(o *storage.Organization) error {
			if o.Status == storage.OrgValidated {
				return ErrNotPending
			}
			o.Status, o.ValidatedAt, o.ValidatedBy, o.RejectReason = storage.OrgValidated, a.Now(), actor.ID, ""
			org = *o
			return nil
		})
		if err != nil {
			return err
		}
		err = a.mailOrganization(ctx, orgID, false, "org_validated", "Mail.OrgValidated.Subject",
			orgMail{OrgName: org.Name, Link: a.Issuer + PathHome})
		if err != nil {
			return err
		}
		return a.audit(ctx, actor, "org.validated", "organization", orgID, orgID, "")
	})
	if err == nil {
		a.wake()
	}
	return err
}

// RejectOrganization rejects a pending organization and mails its admins the reason.
func (a *Accounts) RejectOrganization(ctx context.Context, actor Actor, orgID, reason string) error {
	if !OneLine(reason) {
		return ErrNotOneLine
	}
	err := a.Store.Atomic(ctx, func(ctx context.Context) error {
		var org storage.Organization
		err := a.Store.UpdateOrganization(ctx, orgID, func(o *storage.Organization) error {
			if o.Status != storage.OrgPending {
				return ErrNotPending
			}
			o.Status, o.RejectReason = storage.OrgRejected, reason
			org = *o
			return nil
		})
		if err != nil {
			return err
		}
		err = a.mailOrganization(ctx, orgID, true, "org_rejected", "Mail.OrgRejected.Subject",
			orgMail{OrgName: org.Name, Reason: reason})
		if err != nil {
			return err
		}
		return a.audit(ctx, actor, "org.rejected", "organization", orgID, orgID, "reason="+reason)
	})
	if err == nil {
		a.wake()
	}
	return err
}

// mailOrganization queues one mail per member of the organization (only its
// administrators when adminsOnly), each in the member's language, within the
// caller's transaction: two queries whatever the number of members.
func (a *Accounts) mailOrganization(ctx context.Context, orgID string, adminsOnly bool, kind, subjectKey string, data orgMail) error {
	users, err := a.Store.ListUsers(ctx, orgID)
	if err != nil {
		return err
	}
	var admins map[string]bool
	if adminsOnly {
		members, err := a.Store.ListMemberships(ctx, orgID)
		if err != nil {
			return err
		}
		admins = make(map[string]bool, len(members))
		for _, m := range members {
			admins[m.UserID] = isAdmin(m)
		}
	}
	for _, u := range users {
		if adminsOnly && !admins[u.ID] {
			continue
		}
		d := data
		d.MailData = templates.MailData{Lang: langOf(u)}
		m, err := a.compose(kind, subjectKey, u.Email, &d)
		if err != nil {
			return err
		}
		if err := a.Store.EnqueueMail(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

// CheckLink returns the live set-password link's token record.
func (a *Accounts) CheckLink(ctx context.Context, token string) (storage.ActionToken, error) {
	return a.checkLink(ctx, token, storage.PurposeSetPassword)
}

// checkLink returns the live link's token record; a link made for another
// purpose is invalid here (a reset link must not set a password without
// ending the sessions and notifying, as the reset does).
func (a *Accounts) checkLink(ctx context.Context, token, purpose string) (storage.ActionToken, error) {
	t, err := a.Store.GetActionToken(ctx, storage.HashToken(token))
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return t, ErrLinkInvalid
	case err != nil:
		return t, err
	case t.Purpose != purpose:
		return t, ErrLinkInvalid
	case !t.UsedAt.IsZero():
		return t, ErrLinkUsed
	case !a.Now().Before(t.ExpiresAt):
		return t, ErrLinkInvalid
	}
	return t, nil
}

// consumeLink marks the link used, in the caller's transaction, and returns
// its record; one made for another purpose is invalid, and the caller's
// rollback leaves it unused.
func (a *Accounts) consumeLink(ctx context.Context, token, purpose string) (storage.ActionToken, error) {
	t, err := a.Store.ConsumeActionToken(ctx, storage.HashToken(token), a.Now())
	switch {
	case errors.Is(err, storage.ErrAlreadyUsed):
		return t, ErrLinkUsed
	case errors.Is(err, storage.ErrNotFound):
		return t, ErrLinkInvalid
	case err != nil:
		return t, err
	case t.Purpose != purpose:
		return t, ErrLinkInvalid
	}
	return t, nil
}

// storePassword sets a person's password hash and returns them as stored.
func (a *Accounts) storePassword(ctx context.Context, userID, hash string) (storage.User, error) {
	var u storage.User
	now := a.Now()
	err := a.Store.UpdateUser(ctx, userID, func(x *storage.User) error {
		x.PasswordHash, x.PasswordSetAt, x.UpdatedAt = hash, now, now
		u = *x
		return nil
	})
	return u, err
}

// SetPassword consumes the link and stores the new password hash.
func (a *Accounts) SetPassword(ctx context.Context, actor Actor, token, hash string) (storage.User, error) {
	var u storage.User
	err := a.Store.Atomic(ctx, func(ctx context.Context) error {
		t, err := a.consumeLink(ctx, token, storage.PurposeSetPassword)
		if err != nil {
			return err
		}
		if u, err = a.storePassword(ctx, t.UserID, hash); err != nil {
			return err
		}
		orgID := a.orgOf(ctx, u.ID)
		if actor.ID == "" {
			actor.ID = u.ID
		}
		return a.audit(ctx, actor, "password.set", "user", u.ID, orgID, t.Purpose)
	})
	return u, err
}

// EndSession ends one browser session: the relying parties that asked are
// told (back-channel logout), its tokens are revoked, the session deleted.
func (a *Accounts) EndSession(ctx context.Context, s storage.Session) error {
	return a.Store.Atomic(ctx, func(ctx context.Context) error {
		if a.SessionEnded != nil {
			if err := a.SessionEnded(ctx, s); err != nil {
				return err
			}
		}
		if err := a.Store.RevokeSessionTokens(ctx, s.ID); err != nil {
			return err
		}
		return a.Store.DeleteSession(ctx, s.ID)
	})
}

// EndUserSessions ends every session of a person but exceptID.
func (a *Accounts) EndUserSessions(ctx context.Context, userID, exceptID string) (int, error) {
	list, err := a.Store.ListUserSessions(ctx, userID, a.Now())
	if err != nil {
		return 0, err
	}
	n := 0
	for _, s := range list {
		if s.ID == exceptID {
			continue
		}
		if err := a.EndSession(ctx, s); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// PathResetPassword is the screen a reset link opens.
const PathResetPassword = "/reset-password"

type linkMail struct {
	templates.MailData
	Link string
}

// loginFailureKey is the throttle key of an email address.
func loginFailureKey(email string) string {
	return "email:" + storage.HashToken(storage.NormalizeEmail(email))
}

// RequestReset mails a reset link when the account exists, and does the
// same amount of work when it does not, so that neither the answer nor its
// time tells which.
func (a *Accounts) RequestReset(ctx context.Context, actor Actor, email, lang string) error {
	u, err := a.Store.GetUserByEmail(ctx, email)
	known := err == nil && !u.Disabled
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	token := storage.NewSecret()
	now := a.Now()
	if known {
		lang = langOf(u)
	}
	m, err := a.compose("reset_password", "Mail.Reset.Subject", email, &linkMail{MailData: templates.MailData{Lang: lang},
		Link: a.Issuer + PathResetPassword + "?" + url.Values{"token": {token}}.Encode()})
	if err != nil {
		return err
	}
	err = a.Store.Atomic(ctx, func(ctx context.Context) error {
		if !known {
			return a.audit(ctx, actor, "password.reset_requested", "email", "", "", "unknown address")
		}
		if err := a.Store.CreateActionToken(ctx, storage.ActionToken{Hash: storage.HashToken(token), UserID: u.ID,
			Purpose: storage.PurposeResetPassword, CreatedAt: now, ExpiresAt: now.Add(a.ResetLifetime)}); err != nil {
			return err
		}
		m.To = u.Email
		if err := a.Store.EnqueueMail(ctx, m); err != nil {
			return err
		}
		return a.audit(ctx, actor, "password.reset_requested", "user", u.ID, a.orgOf(ctx, u.ID), "")
	})
	if err == nil && known {
		a.wake()
	}
	return err
}

func (a *Accounts) orgOf(ctx context.Context, userID string) string {
	if m, err := a.Store.GetMembership(ctx, userID); err == nil {
		return m.OrgID
	}
	return ""
}

// CheckResetLink returns the live reset link's token record.
func (a *Accounts) CheckResetLink(ctx context.Context, token string) (storage.ActionToken, error) {
	return a.checkLink(ctx, token, storage.PurposeResetPassword)
}

type noticeMail struct {
	templates.MailData
	Email string
	When  string
	Link  string
}

// notify queues the "your password changed" mail, in the caller's transaction.
func (a *Accounts) notify(ctx context.Context, u storage.User) error {
	m, err := a.compose("password_changed", "Mail.PasswordChanged.Subject", u.Email, &noticeMail{MailData: templates.MailData{Lang: langOf(u)},
		Email: u.Email, When: a.Now().UTC().Format("2006-01-02 15:04 UTC"), Link: a.Issuer + PathForgot})
	if err != nil {
		return err
	}
	return a.Store.EnqueueMail(ctx, m)
}

// ResetPassword consumes a reset link, sets the password, ends every
// session of the person and mails a notification.
func (a *Accounts) ResetPassword(ctx context.Context, actor Actor, token, hash string) (storage.User, error) {
	var u storage.User
	err := a.Store.Atomic(ctx, func(ctx context.Context) error {
		t, err := a.consumeLink(ctx, token, storage.PurposeResetPassword)
		if err != nil {
			return err
		}
		if u, err = a.storePassword(ctx, t.UserID, hash); err != nil {
			return err
		}
		if err := a.Store.ClearLoginFailures(ctx, loginFailureKey(u.Email)); err != nil {
			return err
		}
		if _, err := a.EndUserSessions(ctx, u.ID, ""); err != nil {
			return err
		}
		if err := a.notify(ctx, u); err != nil {
			return err
		}
		if actor.ID == "" {
			actor.ID = u.ID
		}
		return a.audit(ctx, actor, "password.reset", "user", u.ID, a.orgOf(ctx, u.ID), "")
	})
	if err == nil {
		a.wake()
	}
	return u, err
}

// ChangePassword sets a new password from the security settings, ends the
// person's other sessions and mails a notification.
func (a *Accounts) ChangePassword(ctx context.Context, actor Actor, userID, hash, keepSession string) error {
	err := a.Store.Atomic(ctx, func(ctx context.Context) error {
		u, err := a.storePassword(ctx, userID, hash)
		if err != nil {
			return err
		}
		if _, err := a.EndUserSessions(ctx, userID, keepSession); err != nil {
			return err
		}
		if err := a.notify(ctx, u); err != nil {
			return err
		}
		return a.audit(ctx, actor, "password.changed", "user", userID, a.orgOf(ctx, userID), "")
	})
	if err == nil {
		a.wake()
	}
	return err
}

// ResetSecondFactor removes a member's second factor (an admin of their
// organization, or the command line with orgID "").
func (a *Accounts) ResetSecondFactor(ctx context.Context, actor Actor, orgID, userID string) error {
	return a.Store.Atomic(ctx, func(ctx context.Context) error {
		if orgID != "" {
			if _, _, err := a.member(ctx, orgID, userID); err != nil {
				return err
			}
		} else if _, err := a.Store.GetUser(ctx, userID); err != nil {
			return err
		}
		if err := a.Store.DeleteTOTP(ctx, userID); err != nil {
			return err
		}
		return a.audit(ctx, actor, "2fa.reset", "user", userID, a.orgOf(ctx, userID), "")
	})
}

// SetRequireMFA makes the second factor mandatory (or not) for an organization.
func (a *Accounts) SetRequireMFA(ctx context.Context, actor Actor, orgID string, require bool) error {
	return a.Store.Atomic(ctx, func(ctx context.Context) error {
		if err := a.Store.UpdateOrganization(ctx, orgID, func(o *storage.Organization) error { o.RequireMFA = require; return nil }); err != nil {
			return err
		}
		return a.audit(ctx, actor, "org.require_mfa", "organization", orgID, orgID, fmt.Sprintf("require=%v", require))
	})
}

// DisableUser disables a person and ends their sessions.
func (a *Accounts) DisableUser(ctx context.Context, actor Actor, userID string) error {
	now := a.Now()
	if err := a.Store.UpdateUser(ctx, userID, func(u *storage.User) error { u.Disabled, u.UpdatedAt = true, now; return nil }); err != nil {
		return err
	}
	if _, err := a.EndUserSessions(ctx, userID, ""); err != nil {
		return err
	}
	return a.audit(ctx, actor, "user.disabled", "user", userID, a.orgOf(ctx, userID), "")
}
