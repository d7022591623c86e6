package login

import (
	"context"
	"errors"
	"fmt"
	"github.com/sesame-idp/sesame/internal/fail"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/sesame-idp/sesame/login/mail"
	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/templates"
)

// Accounts carries out the account operations that write more than one
// record: each one commits its records, its mail and its audit event in one
// transaction. The screens and the command line share it.
type Accounts struct {
	Store  Store
	Pages  *templates.Renderer
	Issuer string
	Now    func() time.Time
	// LinkLifetime is the validity of a set-password link (24 h).
	LinkLifetime time.Duration
	// Wake tells the mail worker there is mail (optional).
	Wake func()
	// ResetLifetime is the validity of a reset link (5 min).
	ResetLifetime time.Duration
	// PendingMembers bounds the members of an organization until it is
	// validated, PendingInvitesPerHour its invitations and resent ones per
	// hour (5 each when zero).
	PendingMembers, PendingInvitesPerHour int
	// SessionEnded is told of every session that ends, before its tokens
	// are revoked (back-channel logout). Optional.
	SessionEnded func(ctx context.Context, tx storage.Tx, s storage.Session) error
	// Sealer seals every mail's body before it is queued: a set-password
	// or reset link never lies in clear in the outbox. Required.
	Sealer *mail.Sealer
	// HashClientSecret is the stored form of a client secret
	// (provider.HashClientSecret under the master key): for the client
	// rules (clients.go).
	HashClientSecret func(secret string) (string, error)
	// ParseClientKeys reads a client's public keys (a JWK set in JSON)
	// into their stored form, NormalizeOrigin a browser origin
	// (provider.ParseClientJWKS, provider.NormalizeOrigin): for the
	// console's Applications form (clientprotocol_form.go). Without them
	// the form refuses keys and origins.
	ParseClientKeys func(raw []byte) (string, error)
	NormalizeOrigin func(raw string) (string, bool)
}

// Actor is who does something, for the audit trail.
type Actor struct {
	ID string // a user id, or "cli"
	IP string
	// Operator is the operator (the command line, the console): above an
	// organization's status, which bounds its own admins' powers.
	Operator bool
}

// Domain errors, each with its status and message.
var (
	ErrLastAdmin    = fail.E(fail.Conflict, "Errors.Members.LastAdmin")
	ErrEmailTaken   = fail.E(fail.Conflict, "Errors.Members.EmailTaken")
	ErrSIRETTaken   = fail.E(fail.Conflict, "Errors.Signup.SIRETTaken")
	ErrNotPending   = fail.E(fail.Conflict, "Errors.Operator.NotPending")
	ErrNotMember    = fail.E(fail.NotFound, "Errors.Members.NotFound")
	ErrLinkInvalid  = fail.E(fail.Gone, "Errors.Link.Invalid")
	ErrLinkUsed     = fail.E(fail.Gone, "Errors.Link.Used")
	ErrInvalidRoles = fail.E(fail.Invalid, "Errors.Members.Roles")
	// ErrBadEmail refuses an address that cannot be one, or a name too
	// long; ErrReason a rejection without a reason (or a too long one).
	ErrBadEmail = fail.E(fail.Invalid, "Errors.Members.Email")
	ErrReason   = fail.E(fail.Invalid, "Errors.Operator.Reason")
	// An organization earns its powers: until validated it invites a few
	// members, slowly; rejected or suspended, its admins only read.
	ErrOrgReadOnly      = fail.E(fail.Forbidden, "Errors.Org.ReadOnly")
	ErrPendingLimit     = fail.E(fail.Forbidden, "Errors.Org.PendingLimit")
	ErrInvitesPerHour   = fail.E(fail.TooMany, "Errors.Org.InvitesPerHour")
	ErrAccountExists    = fail.E(fail.Conflict, "Errors.Link.AccountExists")
	defaultPendingLimit = 5
)

// change is what an admin does to an organization's members.
type change int

const (
	changeMembers change = iota // roles, removal, second factor, policy
	changeResend                // a new invitation mail
	changeInvite                // a new member
)

// mayChange applies "organizations earn their powers" to a change of
// orgID's members by actor, in tx, holding the organization's row until
// tx ends (so that two changes counting members wait for each other), and
// returns the organization. The operator is above these rules.
func (a *Accounts) mayChange(ctx context.Context, tx storage.Tx, actor Actor, orgID string, c change) (storage.Organization, error) {
	if err := tx.LockOrganization(ctx, orgID); err != nil {
		return storage.Organization{}, err
	}
	org, err := tx.GetOrganization(ctx, orgID)
	if err != nil || actor.Operator {
		return org, err
	}
	switch org.Status {
	case storage.OrgRejected, storage.OrgSuspended:
		return org, ErrOrgReadOnly
	case storage.OrgPending:
		if c == changeInvite {
			members, err := tx.ListMemberships(ctx, orgID)
			if err != nil {
				return org, err
			}
			if len(members) >= orDefault(a.PendingMembers, defaultPendingLimit) {
				return org, ErrPendingLimit
			}
		}
		if c != changeMembers {
			n, _, err := tx.Hit(ctx, "invite:"+orgID, time.Hour, a.Now())
			if err != nil {
				return org, err
			}
			if n > orDefault(a.PendingInvitesPerHour, defaultPendingLimit) {
				return org, ErrInvitesPerHour
			}
		}
	}
	return org, nil
}

func orDefault(n, def int) int {
	if n > 0 {
		return n
	}
	return def
}

func (a *Accounts) audit(ctx context.Context, tx auditTrail, actor Actor, action, targetType, targetID, orgID, details string) error {
	return tx.RecordEvent(ctx, storage.AuditEvent{ID: storage.NewID("evt"), At: a.Now(), ActorID: actor.ID, Action: action,
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
func (a *Accounts) invite(ctx context.Context, tx storage.Tx, u storage.User, orgName, inviter string) error {
	token := storage.NewSecret()
	now := a.Now()
	if err := tx.CreateActionToken(ctx, storage.ActionToken{Hash: storage.HashToken(token), UserID: u.ID,
		Purpose: storage.PurposeSetPassword, CreatedAt: now, ExpiresAt: now.Add(a.LinkLifetime)}); err != nil {
		return err
	}
	link := a.Issuer + PathSetPassword + "?" + url.Values{"token": {token}}.Encode()
	m, err := a.compose("set_password", "Mail.SetPassword.Subject", u.Email,
		&setPasswordMail{MailData: templates.MailData{Lang: langOf(u)}, OrgName: orgName, Inviter: inviter, Link: link})
	if err != nil {
		return err
	}
	return tx.EnqueueMail(ctx, m)
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
	if !plausibleEmail(strings.TrimSpace(founderEmail)) {
		return storage.Organization{}, ErrBadEmail
	}
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
	err := a.Store.Atomic(ctx, func(tx storage.Tx) error {
		// A conflict aborts the transaction (PostgreSQL refuses any further
		// statement in it): what it means is looked at after the rollback.
		if err := tx.CreateOrganization(ctx, org); errors.Is(err, storage.ErrConflict) {
			return errOrgConflict
		} else if err != nil {
			return err
		}
		if err := tx.CreateUser(ctx, founder, &storage.Membership{OrgID: org.ID, Roles: []string{storage.RoleAdmin, storage.RoleUser}}); errors.Is(err, storage.ErrConflict) {
			return ErrEmailTaken
		} else if err != nil {
			return err
		}
		if err := a.invite(ctx, tx, founder, org.Name, ""); err != nil {
			return err
		}
		if err := a.audit(ctx, tx, actor, "org.created", "organization", org.ID, org.ID, "founder="+founder.ID+" siret="+org.SIRET); err != nil {
			return err
		}
		return a.audit(ctx, tx, actor, "member.invited", "user", founder.ID, org.ID, "roles=admin,user")
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
	if !plausibleEmail(strings.TrimSpace(email)) || len(strings.TrimSpace(name)) > 200 {
		return storage.User{}, ErrBadEmail
	}
	if !OneLine(name) {
		return storage.User{}, ErrNotOneLine
	}
	if !storage.ValidRoles(roles) {
		return storage.User{}, ErrInvalidRoles
	}
	now := a.Now()
	u := storage.User{ID: storage.NewID("usr"), Email: strings.TrimSpace(email), Name: strings.TrimSpace(name), Locale: lang, CreatedAt: now, UpdatedAt: now}
	err := a.Store.Atomic(ctx, func(tx storage.Tx) error {
		org, err := a.mayChange(ctx, tx, actor, orgID, changeInvite)
		if err != nil {
			return err
		}
		// One's own members are known: inviting one again is refused. An
		// address with an account elsewhere is invited like any other
		// (the answer tells nothing); accepting is refused to it then.
		if users, err := tx.ListUsers(ctx, orgID); err != nil {
			return err
		} else if slices.ContainsFunc(users, func(x storage.User) bool { return storage.NormalizeEmail(x.Email) == storage.NormalizeEmail(u.Email) }) {
			return ErrEmailTaken
		}
		inviter := "Sesame"
		if u, err := tx.GetUser(ctx, actor.ID); err == nil {
			inviter = u.Email
			if u.Name != "" {
				inviter = u.Name
			}
		}
		if err := tx.CreateUser(ctx, u, &storage.Membership{OrgID: orgID, Roles: storage.NormalizeRoles(roles)}); errors.Is(err, storage.ErrConflict) {
			return ErrEmailTaken
		} else if err != nil {
			return err
		}
		if err := a.invite(ctx, tx, u, org.Name, inviter); err != nil {
			return err
		}
		return a.audit(ctx, tx, actor, "member.invited", "user", u.ID, orgID, "roles="+strings.Join(storage.NormalizeRoles(roles), ","))
	})
	if err != nil {
		return storage.User{}, err
	}
	a.wake()
	return u, nil
}

// AddAccount creates an account that has its password already (the
// command line's `user add --password-stdin`, an operator), with its
// membership when m is set, in one transaction with its audit event. Like
// an accepted invitation, it takes the address: the address's invitations
// not yet accepted, in any organization, are void. ErrEmailTaken when an
// account has it.
func (a *Accounts) AddAccount(ctx context.Context, actor Actor, u storage.User, m *storage.Membership) error {
	if !OneLine(u.Name) {
		return ErrNotOneLine
	}
	return a.Store.Atomic(ctx, func(tx storage.Tx) error {
		if err := tx.CreateUser(ctx, u, m); errors.Is(err, storage.ErrConflict) {
			return ErrEmailTaken
		} else if err != nil {
			return err
		}
		if err := a.takeAddress(ctx, tx, actor, u, "an account took the address"); err != nil {
			return err
		}
		orgID, details := "", "operator"
		if m != nil {
			orgID, details = m.OrgID, "roles="+strings.Join(storage.NormalizeRoles(m.Roles), ",")
		}
		return a.audit(ctx, tx, actor, "user.created", "user", u.ID, orgID, details)
	})
}

// takeAddress voids, in tx, every other invitation not yet accepted of u's
// address, in any organization, now that u's account holds the address, and
// audits each with why.
func (a *Accounts) takeAddress(ctx context.Context, tx storage.Tx, actor Actor, u storage.User, why string) error {
	dropped, err := tx.DropInvitations(ctx, u.Email, u.ID)
	if err != nil {
		return err
	}
	for _, d := range dropped {
		if err := a.audit(ctx, tx, actor, "member.invitation_voided", "user", d.UserID, d.OrgID, why); err != nil {
			return err
		}
	}
	return nil
}

// ResendInvitation mails a new link to a member who has not set a password.
func (a *Accounts) ResendInvitation(ctx context.Context, actor Actor, orgID, userID string) error {
	err := a.Store.Atomic(ctx, func(tx storage.Tx) error {
		u, m, err := a.member(ctx, tx, orgID, userID)
		if err != nil {
			return err
		}
		if u.PasswordHash != "" {
			return fail.E(fail.Conflict, "Errors.Members.AlreadyActive")
		}
		org, err := a.mayChange(ctx, tx, actor, m.OrgID, changeResend)
		if err != nil {
			return err
		}
		if err := a.invite(ctx, tx, u, org.Name, ""); err != nil {
			return err
		}
		return a.audit(ctx, tx, actor, "member.invitation_resent", "user", u.ID, orgID, "")
	})
	if err == nil {
		a.wake()
	}
	return err
}

func (a *Accounts) member(ctx context.Context, tx storage.Tx, orgID, userID string) (storage.User, storage.Membership, error) {
	m, err := tx.GetMembership(ctx, userID)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && m.OrgID != orgID) {
		return storage.User{}, m, ErrNotMember
	}
	if err != nil {
		return storage.User{}, m, err
	}
	u, err := tx.GetUser(ctx, userID)
	return u, m, err
}

// activeAdmins counts the admins of an organization who can act — their
// account is active (a password set) and enabled — in the caller's
// transaction: an invited admin who never came administers nothing.
func (a *Accounts) activeAdmins(ctx context.Context, tx storage.Tx, orgID string) (int, error) {
	members, err := tx.ListMemberships(ctx, orgID)
	if err != nil {
		return 0, err
	}
	users, err := tx.ListUsers(ctx, orgID)
	if err != nil {
		return 0, err
	}
	active := make(map[string]bool, len(users))
	for _, u := range users {
		active[u.ID] = isActive(u)
	}
	n := 0
	for _, m := range members {
		if isAdmin(m) && active[m.UserID] {
			n++
		}
	}
	return n, nil
}

// isActive says whether a person can sign in: a password set, not disabled.
func isActive(u storage.User) bool { return u.PasswordHash != "" && !u.Disabled }

// keepsAnAdmin refuses a change that takes an active admin away from the
// organization when they are its last one.
func (a *Accounts) keepsAnAdmin(ctx context.Context, tx storage.Tx, orgID string, u storage.User, m storage.Membership) error {
	if !isAdmin(m) || !isActive(u) {
		return nil
	}
	n, err := a.activeAdmins(ctx, tx, orgID)
	if err != nil {
		return err
	}
	if n <= 1 {
		return ErrLastAdmin
	}
	return nil
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
	return a.Store.Atomic(ctx, func(tx storage.Tx) error {
		if _, err := a.mayChange(ctx, tx, actor, orgID, changeMembers); err != nil {
			return err
		}
		u, m, err := a.member(ctx, tx, orgID, userID)
		if err != nil {
			return err
		}
		if !isAdmin(storage.Membership{Roles: roles}) {
			if err := a.keepsAnAdmin(ctx, tx, orgID, u, m); err != nil {
				return err
			}
		}
		if err := tx.SetRoles(ctx, userID, roles); err != nil {
			return err
		}
		return a.audit(ctx, tx, actor, "member.roles_changed", "user", userID, orgID, "roles="+strings.Join(roles, ","))
	})
}

// RemoveMember deletes a member's account, signing them out everywhere
// first (the relying parties that asked are told, as when a person is
// disabled); the last active admin stays.
func (a *Accounts) RemoveMember(ctx context.Context, actor Actor, orgID, userID string) error {
	return a.Store.Atomic(ctx, func(tx storage.Tx) error {
		if _, err := a.mayChange(ctx, tx, actor, orgID, changeMembers); err != nil {
			return err
		}
		u, m, err := a.member(ctx, tx, orgID, userID)
		if err != nil {
			return err
		}
		if err := a.keepsAnAdmin(ctx, tx, orgID, u, m); err != nil {
			return err
		}
		if _, err := a.endUserSessions(ctx, tx, userID, ""); err != nil {
			return err
		}
		if err := tx.DeleteUser(ctx, userID); err != nil {
			return err
		}
		return a.audit(ctx, tx, actor, "member.removed", "user", userID, orgID, "email="+u.Email)
	})
}

// ValidateOrganization validates a pending (or rejected, or suspended)
// organization and mails every member.
func (a *Accounts) ValidateOrganization(ctx context.Context, actor Actor, orgID string) error {
	err := a.Store.Atomic(ctx, func(tx storage.Tx) error {
		var org storage.Organization
		err := tx.UpdateOrganization(ctx, orgID, func(o *storage.Organization) error {
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
		err = a.mailOrganization(ctx, tx, orgID, false, "org_validated", "Mail.OrgValidated.Subject",
			orgMail{OrgName: org.Name, Link: a.Issuer + PathHome})
		if err != nil {
			return err
		}
		return a.audit(ctx, tx, actor, "org.validated", "organization", orgID, orgID, "")
	})
	if err == nil {
		a.wake()
	}
	return err
}

// RejectOrganization rejects a pending organization and mails its admins the reason.
func (a *Accounts) RejectOrganization(ctx context.Context, actor Actor, orgID, reason string) error {
	reason = strings.TrimSpace(reason)
	if reason == "" || len(reason) > 1000 {
		return ErrReason
	}
	if !OneLine(reason) {
		return ErrNotOneLine
	}
	err := a.Store.Atomic(ctx, func(tx storage.Tx) error {
		var org storage.Organization
		err := tx.UpdateOrganization(ctx, orgID, func(o *storage.Organization) error {
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
		err = a.mailOrganization(ctx, tx, orgID, true, "org_rejected", "Mail.OrgRejected.Subject",
			orgMail{OrgName: org.Name, Reason: reason})
		if err != nil {
			return err
		}
		return a.audit(ctx, tx, actor, "org.rejected", "organization", orgID, orgID, "reason="+reason)
	})
	if err == nil {
		a.wake()
	}
	return err
}

// mailOrganization queues one mail per member of the organization (only its
// administrators when adminsOnly), each in the member's language, within the
// caller's transaction: two queries whatever the number of members.
func (a *Accounts) mailOrganization(ctx context.Context, tx storage.Tx, orgID string, adminsOnly bool, kind, subjectKey string, data orgMail) error {
	users, err := tx.ListUsers(ctx, orgID)
	if err != nil {
		return err
	}
	var admins map[string]bool
	if adminsOnly {
		members, err := tx.ListMemberships(ctx, orgID)
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
		if err := tx.EnqueueMail(ctx, m); err != nil {
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
func (a *Accounts) consumeLink(ctx context.Context, tx storage.Tx, token, purpose string) (storage.ActionToken, error) {
	t, err := tx.ConsumeActionToken(ctx, storage.HashToken(token), a.Now())
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
// Every live link of the account is voided with it: a new password, by a
// link or from the settings, leaves no other way to set one.
func (a *Accounts) storePassword(ctx context.Context, tx storage.Tx, userID, hash string) (storage.User, error) {
	var u storage.User
	now := a.Now()
	err := tx.UpdateUser(ctx, userID, func(x *storage.User) error {
		x.PasswordHash, x.PasswordSetAt, x.UpdatedAt = hash, now, now
		u = *x
		return nil
	})
	if err != nil {
		return u, err
	}
	return u, tx.VoidActionTokens(ctx, userID, now)
}

// SetPassword consumes the link and stores the new password hash, and
// voids every other link of the account. A set-password link serves an
// account that has no password yet: once it has one (another link was
// used), any link left is refused.
// lang, when "fr" or "en", is the language the person chose on the
// activation form: recorded as their choice, and their mail's language.
func (a *Accounts) SetPassword(ctx context.Context, actor Actor, token, hash, lang string) (storage.User, error) {
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
		if u, err = a.storePassword(ctx, tx, t.UserID, hash); errors.Is(err, storage.ErrConflict) {
			return ErrAccountExists // the address has an account already
		} else if err != nil {
			return err
		}
		// The first invitation accepted wins.
		if err := a.takeAddress(ctx, tx, actor, u, "accepted elsewhere"); err != nil {
			return err
		}
		if validLang(lang) {
			if err := tx.UpdateUser(ctx, u.ID, func(x *storage.User) error { x.ChosenLang, x.Locale = lang, lang; return nil }); err != nil {
				return err
			}
			u.ChosenLang, u.Locale = lang, lang
		}
		orgID := a.orgOf(ctx, tx, u.ID)
		if actor.ID == "" {
			actor.ID = u.ID
		}
		return a.audit(ctx, tx, actor, "password.set", "user", u.ID, orgID, t.Purpose)
	})
	return u, err
}

// EndSession ends one browser session: the relying parties that asked are
// told (back-channel logout), its tokens are revoked, the session deleted.
func (a *Accounts) EndSession(ctx context.Context, s storage.Session) error {
	return a.Store.Atomic(ctx, func(tx storage.Tx) error { return a.endSession(ctx, tx, s) })
}

// endSession is EndSession in the caller's transaction.
func (a *Accounts) endSession(ctx context.Context, tx storage.Tx, s storage.Session) error {
	if a.SessionEnded != nil {
		if err := a.SessionEnded(ctx, tx, s); err != nil {
			return err
		}
	}
	if err := tx.RevokeSessionTokens(ctx, s.ID); err != nil {
		return err
	}
	return tx.DeleteSession(ctx, s.ID)
}

// EndUserSessions ends every session of a person but exceptID.
func (a *Accounts) EndUserSessions(ctx context.Context, userID, exceptID string) (n int, err error) {
	err = a.Store.Atomic(ctx, func(tx storage.Tx) error {
		n, err = a.endUserSessions(ctx, tx, userID, exceptID)
		return err
	})
	return n, err
}

// endUserSessions is EndUserSessions in the caller's transaction.
func (a *Accounts) endUserSessions(ctx context.Context, tx storage.Tx, userID, exceptID string) (int, error) {
	list, err := tx.ListUserSessions(ctx, userID, a.Now())
	if err != nil {
		return 0, err
	}
	n := 0
	for _, s := range list {
		if s.ID == exceptID {
			continue
		}
		if err := a.endSession(ctx, tx, s); err != nil {
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
	err = a.Store.Atomic(ctx, func(tx storage.Tx) error {
		if !known {
			return a.audit(ctx, tx, actor, "password.reset_requested", "email", "", "", "unknown address")
		}
		if err := tx.CreateActionToken(ctx, storage.ActionToken{Hash: storage.HashToken(token), UserID: u.ID,
			Purpose: storage.PurposeResetPassword, CreatedAt: now, ExpiresAt: now.Add(a.ResetLifetime)}); err != nil {
			return err
		}
		m.To = u.Email
		if err := tx.EnqueueMail(ctx, m); err != nil {
			return err
		}
		return a.audit(ctx, tx, actor, "password.reset_requested", "user", u.ID, a.orgOf(ctx, tx, u.ID), "")
	})
	if err == nil && known {
		a.wake()
	}
	return err
}

func (a *Accounts) orgOf(ctx context.Context, tx storage.Users, userID string) string {
	if m, err := tx.GetMembership(ctx, userID); err == nil {
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
func (a *Accounts) notify(ctx context.Context, tx storage.Tx, u storage.User) error {
	m, err := a.compose("password_changed", "Mail.PasswordChanged.Subject", u.Email, &noticeMail{MailData: templates.MailData{Lang: langOf(u)},
		Email: u.Email, When: a.Now().UTC().Format("2006-01-02 15:04 UTC"), Link: a.Issuer + PathForgot})
	if err != nil {
		return err
	}
	return tx.EnqueueMail(ctx, m)
}

// notifySecondFactor queues the "your second factor changed" mail, in the
// caller's transaction.
func (a *Accounts) notifySecondFactor(ctx context.Context, tx storage.Tx, u storage.User) error {
	m, err := a.compose("second_factor_changed", "Mail.SecondFactor.Subject", u.Email, &noticeMail{MailData: templates.MailData{Lang: langOf(u)},
		Email: u.Email, When: a.Now().UTC().Format("2006-01-02 15:04 UTC"), Link: a.Issuer + PathForgot})
	if err != nil {
		return err
	}
	return tx.EnqueueMail(ctx, m)
}

// ResetPassword consumes a reset link, sets the password, ends every
// session of the person and mails a notification.
func (a *Accounts) ResetPassword(ctx context.Context, actor Actor, token, hash string) (storage.User, error) {
	var u storage.User
	err := a.Store.Atomic(ctx, func(tx storage.Tx) error {
		t, err := a.consumeLink(ctx, tx, token, storage.PurposeResetPassword)
		if err != nil {
			return err
		}
		if u, err = a.storePassword(ctx, tx, t.UserID, hash); err != nil {
			return err
		}
		if err := tx.ClearLoginFailures(ctx, loginFailureKey(u.Email)); err != nil {
			return err
		}
		if _, err := a.endUserSessions(ctx, tx, u.ID, ""); err != nil {
			return err
		}
		if err := a.notify(ctx, tx, u); err != nil {
			return err
		}
		if actor.ID == "" {
			actor.ID = u.ID
		}
		return a.audit(ctx, tx, actor, "password.reset", "user", u.ID, a.orgOf(ctx, tx, u.ID), "")
	})
	if err == nil {
		a.wake()
	}
	return u, err
}

// ChangePassword sets a new password from the security settings, ends the
// person's other sessions and mails a notification.
func (a *Accounts) ChangePassword(ctx context.Context, actor Actor, userID, hash, keepSession string) error {
	err := a.Store.Atomic(ctx, func(tx storage.Tx) error {
		u, err := a.storePassword(ctx, tx, userID, hash)
		if err != nil {
			return err
		}
		if _, err := a.endUserSessions(ctx, tx, userID, keepSession); err != nil {
			return err
		}
		if err := a.notify(ctx, tx, u); err != nil {
			return err
		}
		return a.audit(ctx, tx, actor, "password.changed", "user", userID, a.orgOf(ctx, tx, userID), "")
	})
	if err == nil {
		a.wake()
	}
	return err
}

// ResetSecondFactor removes a member's second factor (an admin of their
// organization, or the command line with orgID "").
func (a *Accounts) ResetSecondFactor(ctx context.Context, actor Actor, orgID, userID string) error {
	return a.Store.Atomic(ctx, func(tx storage.Tx) error {
		if orgID != "" {
			if _, err := a.mayChange(ctx, tx, actor, orgID, changeMembers); err != nil {
				return err
			}
			if _, _, err := a.member(ctx, tx, orgID, userID); err != nil {
				return err
			}
		} else if _, err := tx.GetUser(ctx, userID); err != nil {
			return err
		}
		if err := tx.DeleteTOTP(ctx, userID); err != nil {
			return err
		}
		// Passkeys are second factors too: a reset removes them.
		n, err := tx.DeletePasskeys(ctx, userID)
		if err != nil {
			return err
		}
		return a.audit(ctx, tx, actor, "2fa.reset", "user", userID, a.orgOf(ctx, tx, userID), fmt.Sprintf("passkeys=%d", n))
	})
}

// SetRequireMFA makes the second factor mandatory (or not) for an organization.
func (a *Accounts) SetRequireMFA(ctx context.Context, actor Actor, orgID string, require bool) error {
	return a.Store.Atomic(ctx, func(tx storage.Tx) error {
		if _, err := a.mayChange(ctx, tx, actor, orgID, changeMembers); err != nil {
			return err
		}
		if err := tx.UpdateOrganization(ctx, orgID, func(o *storage.Organization) error { o.RequireMFA = require; return nil }); err != nil {
			return err
		}
		return a.audit(ctx, tx, actor, "org.require_mfa", "organization", orgID, orgID, fmt.Sprintf("require=%v", require))
	})
}

// DisableUser disables a person and ends their sessions.
func (a *Accounts) DisableUser(ctx context.Context, actor Actor, userID string) error {
	now := a.Now()
	return a.Store.Atomic(ctx, func(tx storage.Tx) error {
		if err := tx.UpdateUser(ctx, userID, func(u *storage.User) error { u.Disabled, u.UpdatedAt = true, now; return nil }); err != nil {
			return err
		}
		if _, err := a.endUserSessions(ctx, tx, userID, ""); err != nil {
			return err
		}
		return a.audit(ctx, tx, actor, "user.disabled", "user", userID, a.orgOf(ctx, tx, userID), "")
	})
}
