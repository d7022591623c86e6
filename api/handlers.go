package api

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/sesame-idp/sesame/login"
	"github.com/sesame-idp/sesame/storage"
)

// handlers implements the generated StrictServerInterface: each operation
// reads with the Store and changes through login.Accounts.
type handlers struct{ s *Server }

var _ StrictServerInterface = (*handlers)(nil)

func (h *handlers) acc() *login.Accounts { return h.s.opts.Accounts }
func (h *handlers) st() Store            { return h.s.opts.Store }

func actor(ctx context.Context) login.Actor { return actorOf(ctx) }

func (h *handlers) GetOpenAPI(ctx context.Context, _ GetOpenAPIRequestObject) (GetOpenAPIResponseObject, error) {
	var m map[string]any
	if err := json.Unmarshal(h.s.docJSON, &m); err != nil {
		return nil, err
	}
	return GetOpenAPI200JSONResponse(m), nil
}

// --- organizations ---

func notFoundOrg(err error) error {
	if errors.Is(err, storage.ErrNotFound) {
		return login.ErrNoOrg
	}
	return err
}

func (h *handlers) ListOrganizations(ctx context.Context, req ListOrganizationsRequestObject) (ListOrganizationsResponseObject, error) {
	p := req.Params
	c, err := readCursor("organizations", p.Cursor)
	if err != nil {
		return nil, err
	}
	limit := limitOf(p.Limit)
	q := storage.OrgQuery{Limit: limit + 1, AfterCreated: c.at(), AfterID: c.ID}
	if p.Status != nil {
		q.Status = string(*p.Status)
	}
	if p.Siret != nil {
		q.SIRET = *p.Siret
	}
	if p.Q != nil {
		q.Q = *p.Q
	}
	list, err := h.st().ListOrganizationsPage(ctx, q)
	if err != nil {
		return nil, err
	}
	items, next := page(list, limit, "organizations", func(o storage.Organization) (time.Time, string) { return o.CreatedAt, o.ID })
	return ListOrganizations200JSONResponse{Items: each(items, toOrganization), NextCursor: next}, nil
}

func (h *handlers) CreateOrganization(ctx context.Context, req CreateOrganizationRequestObject) (CreateOrganizationResponseObject, error) {
	b := req.Body
	o, err := login.NewOrganization(b.Name, deref(b.Siret), deref(b.Country))
	if err != nil {
		return nil, err
	}
	lang := "fr"
	if b.Language != nil {
		lang = string(*b.Language)
	}
	org, err := h.acc().CreateOrganization(ctx, actor(ctx), o, b.FounderEmail, lang)
	if err != nil {
		return nil, err
	}
	if b.FounderName != nil && strings.TrimSpace(*b.FounderName) != "" {
		// The founder's name, when given: the sign-up form asks none.
		_ = h.nameFounder(ctx, org.ID, strings.TrimSpace(*b.FounderName))
	}
	body := toOrganization(org)
	return CreateOrganization201JSONResponse{Body: body, Headers: CreateOrganization201ResponseHeaders{ETag: etag(body),
		Location: Prefix + "organizations/" + org.ID}}, nil
}

// nameFounder sets the name of the organization's only member.
func (h *handlers) nameFounder(ctx context.Context, orgID, name string) error {
	if !login.OneLine(name) || len(name) > 200 {
		return nil
	}
	members, err := h.st().ListMemberships(ctx, orgID)
	if err != nil || len(members) != 1 {
		return err
	}
	return h.st().UpdateUser(ctx, members[0].UserID, func(u *storage.User) error { u.Name = name; return nil })
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (h *handlers) organization(ctx context.Context, id string) (Organization, error) {
	o, err := h.st().GetOrganization(ctx, id)
	if err != nil {
		return Organization{}, notFoundOrg(err)
	}
	return toOrganization(o), nil
}

// orgUnchanged is If-Match on an organization, checked inside the
// change's transaction with the organization's row held.
func orgUnchanged(id string, ifMatch *string) precondition {
	return func(ctx context.Context, tx storage.Tx) error {
		if err := tx.LockOrganization(ctx, id); err != nil {
			return notFoundOrg(err)
		}
		o, err := tx.GetOrganization(ctx, id)
		if err != nil {
			return notFoundOrg(err)
		}
		return matches(ifMatch, etag(toOrganization(o)))
	}
}

func (h *handlers) GetOrganization(ctx context.Context, req GetOrganizationRequestObject) (GetOrganizationResponseObject, error) {
	o, err := h.organization(ctx, req.OrgId)
	if err != nil {
		return nil, err
	}
	return GetOrganization200JSONResponse{OrganizationJSONResponse{Body: o, Headers: OrganizationResponseHeaders{ETag: etag(o)}}}, nil
}

// decide runs act with the domain layer guarded by If-Match (checked
// inside act's transaction), and answers the organization as it is then.
func (h *handlers) decide(ctx context.Context, id string, ifMatch *string, act func(*login.Accounts) error) (OrganizationJSONResponse, error) {
	if _, err := h.organization(ctx, id); err != nil {
		return OrganizationJSONResponse{}, err
	}
	if err := act(h.accIf(ifMatch, orgUnchanged(id, ifMatch))); err != nil {
		return OrganizationJSONResponse{}, err
	}
	o, err := h.organization(ctx, id)
	if err != nil {
		return OrganizationJSONResponse{}, err
	}
	return OrganizationJSONResponse{Body: o, Headers: OrganizationResponseHeaders{ETag: etag(o)}}, nil
}

func (h *handlers) ValidateOrganization(ctx context.Context, req ValidateOrganizationRequestObject) (ValidateOrganizationResponseObject, error) {
	resp, err := h.decide(ctx, req.OrgId, req.Params.IfMatch, func(acc *login.Accounts) error {
		return acc.ValidateOrganization(ctx, actor(ctx), req.OrgId)
	})
	if err != nil {
		return nil, err
	}
	return ValidateOrganization200JSONResponse{resp}, nil
}

func (h *handlers) RejectOrganization(ctx context.Context, req RejectOrganizationRequestObject) (RejectOrganizationResponseObject, error) {
	resp, err := h.decide(ctx, req.OrgId, req.Params.IfMatch, func(acc *login.Accounts) error {
		return acc.RejectOrganization(ctx, actor(ctx), req.OrgId, req.Body.Reason)
	})
	if err != nil {
		return nil, err
	}
	return RejectOrganization200JSONResponse{resp}, nil
}

func (h *handlers) SuspendOrganization(ctx context.Context, req SuspendOrganizationRequestObject) (SuspendOrganizationResponseObject, error) {
	reason := ""
	if req.Body != nil {
		reason = strings.TrimSpace(deref(req.Body.Reason))
	}
	resp, err := h.decide(ctx, req.OrgId, req.Params.IfMatch, func(acc *login.Accounts) error {
		return acc.SuspendOrganization(ctx, actor(ctx), req.OrgId, reason)
	})
	if err != nil {
		return nil, err
	}
	return SuspendOrganization200JSONResponse{resp}, nil
}

func (h *handlers) ReactivateOrganization(ctx context.Context, req ReactivateOrganizationRequestObject) (ReactivateOrganizationResponseObject, error) {
	resp, err := h.decide(ctx, req.OrgId, req.Params.IfMatch, func(acc *login.Accounts) error {
		return acc.ReactivateOrganization(ctx, actor(ctx), req.OrgId)
	})
	if err != nil {
		return nil, err
	}
	return ReactivateOrganization200JSONResponse{resp}, nil
}

// --- members ---

// reader is what a representation reads: the store, or a transaction.
type reader interface {
	storage.Organizations
	storage.Users
	storage.SecondFactors
}

func hasMFA(ctx context.Context, st reader, userID string) bool {
	t, err := st.GetTOTP(ctx, userID)
	return err == nil && !t.ConfirmedAt.IsZero()
}

// members lists the organization's members, oldest first (then by id).
func (h *handlers) members(ctx context.Context, orgID string) ([]Member, error) {
	if _, err := h.st().GetOrganization(ctx, orgID); err != nil {
		return nil, notFoundOrg(err)
	}
	ms, err := h.st().ListMemberships(ctx, orgID)
	if err != nil {
		return nil, err
	}
	users, err := h.st().ListUsers(ctx, orgID)
	if err != nil {
		return nil, err
	}
	roles := make(map[string]storage.Membership, len(ms))
	for _, m := range ms {
		roles[m.UserID] = m
	}
	out := make([]Member, 0, len(users))
	for _, u := range users {
		m, ok := roles[u.ID]
		if !ok {
			continue
		}
		out = append(out, toMember(u, m, hasMFA(ctx, h.st(), u.ID)))
	}
	slices.SortFunc(out, func(a, b Member) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.Id, b.Id)
	})
	return out, nil
}

func (h *handlers) member(ctx context.Context, orgID, userID string) (Member, error) {
	return member(ctx, h.st(), orgID, userID)
}

func member(ctx context.Context, st reader, orgID, userID string) (Member, error) {
	if _, err := st.GetOrganization(ctx, orgID); err != nil {
		return Member{}, notFoundOrg(err)
	}
	m, err := st.GetMembership(ctx, userID)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && m.OrgID != orgID) {
		return Member{}, login.ErrNotMember
	} else if err != nil {
		return Member{}, err
	}
	u, err := st.GetUser(ctx, userID)
	if errors.Is(err, storage.ErrNotFound) {
		return Member{}, login.ErrNotMember
	} else if err != nil {
		return Member{}, err
	}
	return toMember(u, m, hasMFA(ctx, st, u.ID)), nil
}

// memberUnchanged is If-Match on a member, checked inside the change's
// transaction with their organization's row held (as the member rules
// hold it).
func memberUnchanged(orgID, userID string, ifMatch *string) precondition {
	return func(ctx context.Context, tx storage.Tx) error {
		if err := tx.LockOrganization(ctx, orgID); err != nil {
			return notFoundOrg(err)
		}
		m, err := member(ctx, tx, orgID, userID)
		if err != nil {
			return err
		}
		return matches(ifMatch, etag(m))
	}
}

func (h *handlers) ListMembers(ctx context.Context, req ListMembersRequestObject) (ListMembersResponseObject, error) {
	c, err := readCursor("members:"+req.OrgId, req.Params.Cursor)
	if err != nil {
		return nil, err
	}
	all, err := h.members(ctx, req.OrgId)
	if err != nil {
		return nil, err
	}
	key := func(m Member) (time.Time, string) { return m.CreatedAt, m.Id }
	items, next := page(after(all, c, key), limitOf(req.Params.Limit), "members:"+req.OrgId, key)
	return ListMembers200JSONResponse{Items: each(items, same[Member]), NextCursor: next}, nil
}

func (h *handlers) InviteMember(ctx context.Context, req InviteMemberRequestObject) (InviteMemberResponseObject, error) {
	b := req.Body
	lang := "fr"
	if b.Language != nil {
		lang = string(*b.Language)
	}
	u, err := h.acc().Invite(ctx, actor(ctx), req.OrgId, b.Email, deref(b.Name), lang, fromRoles(b.Roles))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, login.ErrNoOrg
	} else if err != nil {
		return nil, err
	}
	m, err := h.member(ctx, req.OrgId, u.ID)
	if err != nil {
		return nil, err
	}
	return InviteMember201JSONResponse{Body: m, Headers: InviteMember201ResponseHeaders{ETag: etag(m),
		Location: Prefix + "organizations/" + req.OrgId + "/members/" + u.ID}}, nil
}

func (h *handlers) GetMember(ctx context.Context, req GetMemberRequestObject) (GetMemberResponseObject, error) {
	m, err := h.member(ctx, req.OrgId, req.UserId)
	if err != nil {
		return nil, err
	}
	return GetMember200JSONResponse{MemberJSONResponse{Body: m, Headers: MemberResponseHeaders{ETag: etag(m)}}}, nil
}

// changeMember runs act with the domain layer guarded by If-Match
// (checked inside act's transaction), and answers the member as they are
// then.
func (h *handlers) changeMember(ctx context.Context, orgID, userID string, ifMatch *string, act func(*login.Accounts) error) (MemberJSONResponse, error) {
	if _, err := h.member(ctx, orgID, userID); err != nil {
		return MemberJSONResponse{}, err
	}
	if err := act(h.accIf(ifMatch, memberUnchanged(orgID, userID, ifMatch))); err != nil {
		return MemberJSONResponse{}, err
	}
	m, err := h.member(ctx, orgID, userID)
	if err != nil {
		return MemberJSONResponse{}, err
	}
	return MemberJSONResponse{Body: m, Headers: MemberResponseHeaders{ETag: etag(m)}}, nil
}

func (h *handlers) ChangeMemberRoles(ctx context.Context, req ChangeMemberRolesRequestObject) (ChangeMemberRolesResponseObject, error) {
	resp, err := h.changeMember(ctx, req.OrgId, req.UserId, req.Params.IfMatch, func(acc *login.Accounts) error {
		return acc.SetRoles(ctx, actor(ctx), req.OrgId, req.UserId, fromRoles(req.Body.Roles))
	})
	if err != nil {
		return nil, err
	}
	return ChangeMemberRoles200JSONResponse{resp}, nil
}

func (h *handlers) ResendInvitation(ctx context.Context, req ResendInvitationRequestObject) (ResendInvitationResponseObject, error) {
	resp, err := h.changeMember(ctx, req.OrgId, req.UserId, nil, func(acc *login.Accounts) error {
		return acc.ResendInvitation(ctx, actor(ctx), req.OrgId, req.UserId)
	})
	if err != nil {
		return nil, err
	}
	return ResendInvitation200JSONResponse{resp}, nil
}

func (h *handlers) RemoveMember(ctx context.Context, req RemoveMemberRequestObject) (RemoveMemberResponseObject, error) {
	if _, err := h.member(ctx, req.OrgId, req.UserId); err != nil {
		return nil, err
	}
	acc := h.accIf(req.Params.IfMatch, memberUnchanged(req.OrgId, req.UserId, req.Params.IfMatch))
	if err := acc.RemoveMember(ctx, actor(ctx), req.OrgId, req.UserId); err != nil {
		return nil, err
	}
	return RemoveMember204Response{}, nil
}

// --- people ---

func (h *handlers) user(ctx context.Context, id string) (User, error) {
	return user(ctx, h.st(), id)
}

func user(ctx context.Context, st reader, id string) (User, error) {
	p, err := st.GetPerson(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return User{}, login.ErrNoUser
	} else if err != nil {
		return User{}, err
	}
	return toUser(p, hasMFA(ctx, st, id)), nil
}

// userUnchanged is If-Match on a person, checked inside the change's
// transaction with the person's row held (an update that changes
// nothing takes its lock).
func userUnchanged(id string, ifMatch *string) precondition {
	return func(ctx context.Context, tx storage.Tx) error {
		if err := tx.UpdateUser(ctx, id, func(*storage.User) error { return nil }); errors.Is(err, storage.ErrNotFound) {
			return login.ErrNoUser
		} else if err != nil {
			return err
		}
		u, err := user(ctx, tx, id)
		if err != nil {
			return err
		}
		return matches(ifMatch, etag(u))
	}
}

func (h *handlers) GetUser(ctx context.Context, req GetUserRequestObject) (GetUserResponseObject, error) {
	u, err := h.user(ctx, req.UserId)
	if err != nil {
		return nil, err
	}
	return GetUser200JSONResponse{UserJSONResponse{Body: u, Headers: UserResponseHeaders{ETag: etag(u)}}}, nil
}

func (h *handlers) changeUser(ctx context.Context, id string, ifMatch *string, act func(*login.Accounts) error) (UserJSONResponse, error) {
	if _, err := h.user(ctx, id); err != nil {
		return UserJSONResponse{}, err
	}
	if err := act(h.accIf(ifMatch, userUnchanged(id, ifMatch))); errors.Is(err, storage.ErrNotFound) {
		return UserJSONResponse{}, login.ErrNoUser
	} else if err != nil {
		return UserJSONResponse{}, err
	}
	u, err := h.user(ctx, id)
	if err != nil {
		return UserJSONResponse{}, err
	}
	return UserJSONResponse{Body: u, Headers: UserResponseHeaders{ETag: etag(u)}}, nil
}

func (h *handlers) DisableUser(ctx context.Context, req DisableUserRequestObject) (DisableUserResponseObject, error) {
	resp, err := h.changeUser(ctx, req.UserId, req.Params.IfMatch, func(acc *login.Accounts) error {
		return acc.DisableUser(ctx, actor(ctx), req.UserId)
	})
	if err != nil {
		return nil, err
	}
	return DisableUser200JSONResponse{resp}, nil
}

func (h *handlers) EnableUser(ctx context.Context, req EnableUserRequestObject) (EnableUserResponseObject, error) {
	resp, err := h.changeUser(ctx, req.UserId, req.Params.IfMatch, func(acc *login.Accounts) error {
		return acc.EnableUser(ctx, actor(ctx), req.UserId)
	})
	if err != nil {
		return nil, err
	}
	return EnableUser200JSONResponse{resp}, nil
}

func (h *handlers) ResetSecondFactor(ctx context.Context, req ResetSecondFactorRequestObject) (ResetSecondFactorResponseObject, error) {
	resp, err := h.changeUser(ctx, req.UserId, req.Params.IfMatch, func(acc *login.Accounts) error {
		return acc.ResetSecondFactor(ctx, actor(ctx), "", req.UserId)
	})
	if err != nil {
		return nil, err
	}
	return ResetSecondFactor200JSONResponse{resp}, nil
}

func (h *handlers) EndSessions(ctx context.Context, req EndSessionsRequestObject) (EndSessionsResponseObject, error) {
	n, err := h.acc().EndAllSessions(ctx, actor(ctx), req.UserId)
	if err != nil {
		return nil, err
	}
	return EndSessions200JSONResponse{SessionsEnded: n}, nil
}

// --- clients ---

func (h *handlers) ListClients(ctx context.Context, req ListClientsRequestObject) (ListClientsResponseObject, error) {
	c, err := readCursor("clients", req.Params.Cursor)
	if err != nil {
		return nil, err
	}
	all, err := h.st().ListClients(ctx) // by id
	if err != nil {
		return nil, err
	}
	key := func(c storage.Client) (time.Time, string) { return time.Time{}, c.ID }
	items, next := page(after(all, c, key), limitOf(req.Params.Limit), "clients", key)
	return ListClients200JSONResponse{Items: each(items, toClient), NextCursor: next}, nil
}

func strs[T ~string](in []T) []string {
	out := make([]string, 0, len(in))
	for _, v := range in {
		out = append(out, string(v))
	}
	return out
}

func (h *handlers) CreateClient(ctx context.Context, req CreateClientRequestObject) (CreateClientResponseObject, error) {
	b := req.Body
	c := storage.Client{ID: b.Id, Name: deref(b.Name), BackchannelLogoutURI: deref(b.BackchannelLogoutUri)}
	if b.Public != nil {
		c.Public = *b.Public
	}
	if b.RedirectUris != nil {
		c.RedirectURIs = *b.RedirectUris
	}
	if b.PostLogoutRedirectUris != nil {
		c.PostLogoutRedirectURIs = *b.PostLogoutRedirectUris
	}
	if b.Grants != nil {
		c.Grants = strs(*b.Grants)
	}
	if b.Scopes != nil {
		c.Scopes = strs(*b.Scopes)
	}
	if b.IdTokenSignedResponseAlg != nil {
		c.IDTokenSignedAlg = string(*b.IdTokenSignedResponseAlg)
	}
	proto := protocolOfCreate(b)
	jwks, origins, err := proto.parse()
	if err != nil {
		return nil, err
	}
	proto.apply(&c.Protocol, jwks, origins)
	c, secret, err := h.acc().RegisterClient(ctx, actor(ctx), c, "")
	if err != nil {
		return nil, err
	}
	body := ClientCreated{Client: toClient(c), ClientSecret: opt(secret)}
	return CreateClient201JSONResponse{Body: body, Headers: CreateClient201ResponseHeaders{ETag: etag(body.Client),
		Location: Prefix + "clients/" + c.ID}}, nil
}

func (h *handlers) GetClient(ctx context.Context, req GetClientRequestObject) (GetClientResponseObject, error) {
	c, err := h.st().GetClient(ctx, req.ClientId)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, login.ErrNoClient
	} else if err != nil {
		return nil, err
	}
	body := toClient(c)
	return GetClient200JSONResponse{ClientJSONResponse{Body: body, Headers: ClientResponseHeaders{ETag: etag(body)}}}, nil
}

// ifMatchClient is If-Match checked inside the client's transaction.
func ifMatchClient(ifMatch *string) func(storage.Client) error {
	return func(c storage.Client) error { return matches(ifMatch, etag(toClient(c))) }
}

func (h *handlers) UpdateClient(ctx context.Context, req UpdateClientRequestObject) (UpdateClientResponseObject, error) {
	b := req.Body
	proto := protocolOfUpdate(b)
	jwks, origins, err := proto.parse()
	if err != nil {
		return nil, err
	}
	c, err := h.acc().UpdateClient(ctx, actor(ctx), req.ClientId, ifMatchClient(req.Params.IfMatch), func(c *storage.Client) {
		proto.apply(&c.Protocol, jwks, origins)
		if b.Name != nil {
			c.Name = *b.Name
		}
		if b.RedirectUris != nil {
			c.RedirectURIs = *b.RedirectUris
		}
		if b.PostLogoutRedirectUris != nil {
			c.PostLogoutRedirectURIs = *b.PostLogoutRedirectUris
		}
		if b.BackchannelLogoutUri != nil {
			c.BackchannelLogoutURI = *b.BackchannelLogoutUri
		}
		if b.Grants != nil {
			c.Grants = strs(*b.Grants)
		}
		if b.Scopes != nil {
			c.Scopes = strs(*b.Scopes)
		}
		if b.IdTokenSignedResponseAlg != nil {
			c.IDTokenSignedAlg = string(*b.IdTokenSignedResponseAlg)
		}
	})
	if err != nil {
		return nil, err
	}
	body := toClient(c)
	return UpdateClient200JSONResponse{ClientJSONResponse{Body: body, Headers: ClientResponseHeaders{ETag: etag(body)}}}, nil
}

func (h *handlers) RotateClientSecret(ctx context.Context, req RotateClientSecretRequestObject) (RotateClientSecretResponseObject, error) {
	c, secret, err := h.acc().RotateClientSecret(ctx, actor(ctx), req.ClientId, ifMatchClient(req.Params.IfMatch))
	if err != nil {
		return nil, err
	}
	body := ClientCreated{Client: toClient(c), ClientSecret: &secret}
	return RotateClientSecret200JSONResponse{Body: body, Headers: RotateClientSecret200ResponseHeaders{ETag: etag(body.Client)}}, nil
}

func (h *handlers) DeleteClient(ctx context.Context, req DeleteClientRequestObject) (DeleteClientResponseObject, error) {
	if err := h.acc().RemoveClient(ctx, actor(ctx), req.ClientId, ifMatchClient(req.Params.IfMatch)); err != nil {
		return nil, err
	}
	return DeleteClient204Response{}, nil
}

// --- audit ---

func (h *handlers) ListAuditEvents(ctx context.Context, req ListAuditEventsRequestObject) (ListAuditEventsResponseObject, error) {
	p := req.Params
	c, err := readCursor("audit", p.Cursor)
	if err != nil {
		return nil, err
	}
	limit := limitOf(p.Limit)
	f := storage.AuditFilter{OrgID: deref(p.Org), ActorID: deref(p.Actor), Action: deref(p.Action), Limit: limit + 1,
		BeforeAt: c.at(), BeforeID: c.ID}
	if p.Since != nil {
		f.Since = *p.Since
	}
	if p.Until != nil {
		f.Until = *p.Until
	}
	list, err := h.st().ListEvents(ctx, f)
	if err != nil {
		return nil, err
	}
	items, next := page(list, limit, "audit", func(e storage.AuditEvent) (time.Time, string) { return e.At, e.ID })
	return ListAuditEvents200JSONResponse{Items: each(items, toEvent), NextCursor: next}, nil
}
