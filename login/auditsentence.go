package login

import (
	"context"
	"strings"

	"github.com/sesame-idp/sesame/storage"
)

// auditWords turns audit events into sentences in the page's language:
// "%[1]s" is who acted (their name, else their address), "%[2]s" what was
// acted on (a person's address, an organization's or application's name),
// "%[3]s" a detail (roles, a reason). An action without a sentence of its
// own reads "Audit.Event.Other", which names it.
type auditWords struct {
	ctx    context.Context
	store  auditNames
	t      func(key string, args ...any) string
	people map[string]storage.User
	orgs   map[string]string
}

// auditNames is what the sentences read: people and organizations.
type auditNames interface {
	storage.Users
	storage.Organizations
}

func newAuditWords(ctx context.Context, store auditNames, t func(key string, args ...any) string) *auditWords {
	return &auditWords{ctx: ctx, store: store, t: t, people: map[string]storage.User{}, orgs: map[string]string{}}
}

func (a *auditWords) user(id string) (storage.User, bool) {
	if u, ok := a.people[id]; ok {
		return u, u.ID != ""
	}
	u, err := a.store.GetUser(a.ctx, id)
	if err != nil {
		u = storage.User{}
	}
	a.people[id] = u
	return u, err == nil
}

// actor is who acted: a name, an address, the command line, or someone.
func (a *auditWords) actor(id string) string {
	switch id {
	case "":
		return a.t("Audit.Someone")
	case "cli":
		return a.t("Audit.CLI")
	}
	if u, ok := a.user(id); ok {
		if strings.TrimSpace(u.Name) != "" {
			return u.Name
		}
		return u.Email
	}
	return a.t("Audit.Deleted")
}

func (a *auditWords) org(id string) string {
	if n, ok := a.orgs[id]; ok {
		return n
	}
	n := a.t("Audit.Deleted")
	if o, err := a.store.GetOrganization(a.ctx, id); err == nil {
		n = o.Name
	}
	a.orgs[id] = n
	return n
}

// details reads the event's "key=value key=value" details; the last
// known key (reason=) takes the rest of the line.
func details(s string) map[string]string {
	out := map[string]string{}
	if i := strings.Index(s, "reason="); i >= 0 {
		out["reason"], s = s[i+len("reason="):], s[:i]
	}
	for _, f := range strings.Fields(s) {
		if k, v, ok := strings.Cut(f, "="); ok {
			out[k] = v
		}
	}
	return out
}

// sentence is the event as a sentence.
func (a *auditWords) sentence(e storage.AuditEvent) string {
	d := details(e.Details)
	var target string
	switch e.TargetType {
	case "user":
		if u, ok := a.user(e.TargetID); ok {
			target = u.Email
		} else if d["email"] != "" {
			target = d["email"]
		} else {
			target = a.t("Audit.Deleted")
		}
	case "organization":
		target = a.org(e.TargetID)
	default:
		target = e.TargetID
	}
	key := "Audit.Event." + e.Action
	var detail string
	switch e.Action {
	case "member.invited", "member.roles_changed":
		var names []string
		for _, r := range strings.Split(d["roles"], ",") {
			if r != "" {
				names = append(names, a.t("Audit.Role."+r))
			}
		}
		detail = strings.Join(names, ", ")
	case "org.rejected":
		detail = d["reason"]
	case "consent.granted", "consent.denied", "consent.revoked":
		detail = d["client"]
	case "org.require_mfa":
		key += map[bool]string{true: ".on", false: ".off"}[d["require"] == "true"]
	case "session.revoked":
		if d["others"] != "" {
			key += ".others"
		}
	}
	if s := a.t(key, a.actor(e.ActorID), target, detail); s != key {
		return s
	}
	return a.t("Audit.Event.Other", a.actor(e.ActorID), target, e.Action)
}
