package api

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/sesame-idp/sesame/storage"
)

const minute = time.Minute

// etag is a strong ETag of a representation: a hash of its JSON.
func etag(v any) string {
	b, _ := json.Marshal(v)
	sum := sha256.Sum256(b)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
}

// matches applies If-Match: nil (absent) matches, "*" matches, else one
// of its entity tags must be the current one (RFC 9110 §13.1.1).
func matches(ifMatch *string, current string) error {
	if ifMatch == nil {
		return nil
	}
	for _, t := range strings.Split(*ifMatch, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || t == current {
			return nil
		}
	}
	return errStale
}

func opt(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

func toOrganization(o storage.Organization) Organization {
	return Organization{Id: o.ID, Name: o.Name, LegalName: opt(o.LegalName), Domicile: OrganizationDomicile(o.Domicile),
		Country: o.Country, Siret: opt(o.SIRET), Siren: opt(o.SIREN), Status: OrganizationStatus(o.Status),
		RejectReason: opt(o.RejectReason), CreatedAt: o.CreatedAt.UTC(), ValidatedAt: optTime(o.ValidatedAt),
		ValidatedBy: opt(o.ValidatedBy), RequireMfa: o.RequireMFA}
}

func toRoles(roles []string) []Role {
	out := make([]Role, 0, len(roles))
	for _, r := range roles {
		out = append(out, Role(r))
	}
	return out
}

func fromRoles(roles []Role) []string {
	out := make([]string, 0, len(roles))
	for _, r := range roles {
		out = append(out, string(r))
	}
	return out
}

func toMember(u storage.User, m storage.Membership, mfa bool) Member {
	status := Active
	switch {
	case u.Disabled:
		status = Disabled
	case u.PasswordHash == "":
		status = Invited
	}
	return Member{Id: u.ID, Email: u.Email, Name: u.Name, Roles: toRoles(m.Roles), Status: status, SecondFactor: mfa,
		CreatedAt: u.CreatedAt.UTC()}
}

func toUser(p storage.Person, mfa bool) User {
	u := p.User
	out := User{Id: u.ID, Email: u.Email, Name: u.Name, Locale: opt(u.Locale), Disabled: u.Disabled, Invited: u.PasswordHash == "",
		SecondFactor: mfa, Operator: u.IsOperator, CreatedAt: u.CreatedAt.UTC(), LastSignInAt: optTime(u.LastSignInAt)}
	if p.Membership != nil {
		out.OrganizationId = &p.Membership.OrgID
		roles := toRoles(p.Membership.Roles)
		out.Roles = &roles
	}
	return out
}

func toClient(c storage.Client) Client {
	out := Client{Id: c.ID, Name: c.Name, Public: c.Public, RedirectUris: nonNil(c.RedirectURIs),
		PostLogoutRedirectUris: nonNil(c.PostLogoutRedirectURIs), BackchannelLogoutUri: opt(c.BackchannelLogoutURI),
		Grants: []Grant{}, Scopes: []Scope{}, CreatedAt: c.CreatedAt.UTC()}
	for _, g := range c.GrantTypes() {
		out.Grants = append(out.Grants, Grant(g))
	}
	for _, s := range c.Scopes {
		out.Scopes = append(out.Scopes, Scope(s))
	}
	if c.IDTokenSignedAlg != "" {
		alg := ClientIdTokenSignedResponseAlg(c.IDTokenSignedAlg)
		out.IdTokenSignedResponseAlg = &alg
	}
	toProtocol(&out, c) // clientprotocol.go
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func toEvent(e storage.AuditEvent) AuditEvent {
	return AuditEvent{Id: e.ID, At: e.At.UTC(), Actor: e.ActorID, Action: e.Action, TargetType: e.TargetType,
		TargetId: e.TargetID, OrgId: e.OrgID, Ip: opt(e.IP), Details: e.Details}
}

// cursor is what an opaque cursor holds: the list it belongs to and the
// key of the last item given.
type cursor struct {
	List string `json:"l"`
	At   int64  `json:"t,omitempty"`
	ID   string `json:"i"`
}

func makeCursor(list string, at time.Time, id string) *string {
	c := cursor{List: list, ID: id}
	if !at.IsZero() {
		c.At = at.UnixNano()
	}
	b, _ := json.Marshal(c)
	s := base64.RawURLEncoding.EncodeToString(b)
	return &s
}

// readCursor decodes a cursor of list; nil is the first page.
func readCursor(list string, s *string) (cursor, error) {
	if s == nil {
		return cursor{}, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(*s)
	var c cursor
	if err != nil || json.Unmarshal(b, &c) != nil || c.List != list || c.ID == "" {
		return cursor{}, &paramsError{err: errCursor, params: []param{{Name: "cursor", Reason: "not a cursor of this list"}}}
	}
	return c, nil
}

func (c cursor) at() time.Time {
	if c.At == 0 {
		return time.Time{}
	}
	return time.Unix(0, c.At).UTC()
}

func limitOf(l *int) int {
	if l == nil {
		return 50
	}
	return *l
}
