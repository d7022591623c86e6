package api

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/sesame-idp/sesame/internal/fail"
	"github.com/sesame-idp/sesame/login"
	"github.com/sesame-idp/sesame/login/domains"
	"github.com/sesame-idp/sesame/storage"
)

// An organization's domains and company sign-in (issue 17), through the
// same rules as the command line and the admins' screens
// (login.CompanySignIn): the API adds the representation, paging, ETags
// and If-Match, never a rule.

var errNoCompanies = fail.E(fail.Unavailable, "Errors.API.NotFound")

// companies is the domain layer of company sign-in, guarded by check
// inside each change's transaction when the request has an If-Match.
func (h *handlers) companies(ifMatch *string, check precondition) (*login.CompanySignIn, error) {
	c := h.s.opts.Companies
	if c == nil {
		return nil, errNoCompanies
	}
	if ifMatch == nil || check == nil {
		return c, nil
	}
	return c.WithStore(guardedStorage{Storage: c.Store, check: check}), nil
}

// guardedStorage is guarded for the company sign-in's store.
type guardedStorage struct {
	storage.Storage
	check precondition
}

func (g guardedStorage) Atomic(ctx context.Context, fn func(tx storage.Tx) error) error {
	return guarded{Store: g.Storage, check: g.check}.Atomic(ctx, fn)
}

func toDomain(d storage.Domain) Domain {
	return Domain{Name: d.Name, Verified: d.Verified(), VerifiedAt: optTime(d.VerifiedAt), CheckedAt: optTime(d.CheckedAt),
		CreatedAt: d.CreatedAt.UTC(), Record: DomainRecord{Type: "TXT", Name: domains.RecordName(d.Name), Value: d.Challenge,
			ZoneLine: domains.Record(d.Name, d.Challenge)}}
}

func domainName(s string) string {
	if n, err := domains.Normalize(s); err == nil {
		return n
	}
	return strings.ToLower(s)
}

// domain reads one domain of an organization (another organization's is
// not found under this one).
func domainOf(ctx context.Context, st interface {
	storage.Organizations
	storage.Domains
}, orgID, name string) (storage.Domain, error) {
	if _, err := st.GetOrganization(ctx, orgID); err != nil {
		return storage.Domain{}, notFoundOrg(err)
	}
	d, err := st.GetDomain(ctx, orgID, domainName(name))
	if errors.Is(err, storage.ErrNotFound) {
		return d, login.ErrDomainUnknown
	}
	return d, err
}

func (h *handlers) ListDomains(ctx context.Context, req ListDomainsRequestObject) (ListDomainsResponseObject, error) {
	c, err := readCursor("domains:"+req.OrgId, req.Params.Cursor)
	if err != nil {
		return nil, err
	}
	cs, err := h.companies(nil, nil)
	if err != nil {
		return nil, err
	}
	all, err := cs.ListDomains(ctx, req.OrgId)
	if err != nil {
		return nil, notFoundOrg(err)
	}
	slices.SortFunc(all, func(a, b storage.Domain) int { return strings.Compare(a.Name, b.Name) })
	key := func(d storage.Domain) (time.Time, string) { return time.Time{}, d.Name }
	items, next := page(after(all, c, key), limitOf(req.Params.Limit), "domains:"+req.OrgId, key)
	return ListDomains200JSONResponse{Items: each(items, toDomain), NextCursor: next}, nil
}

func (h *handlers) AddDomain(ctx context.Context, req AddDomainRequestObject) (AddDomainResponseObject, error) {
	cs, err := h.companies(nil, nil)
	if err != nil {
		return nil, err
	}
	if _, err := h.organization(ctx, req.OrgId); err != nil {
		return nil, err
	}
	d, err := cs.AddDomain(ctx, actor(ctx), req.OrgId, req.Body.Name)
	if err != nil {
		return nil, err
	}
	body := toDomain(d)
	return AddDomain201JSONResponse{Body: body, Headers: AddDomain201ResponseHeaders{ETag: etag(body),
		Location: Prefix + "organizations/" + req.OrgId + "/domains/" + d.Name}}, nil
}

func (h *handlers) GetDomain(ctx context.Context, req GetDomainRequestObject) (GetDomainResponseObject, error) {
	d, err := domainOf(ctx, h.s.opts.Store, req.OrgId, req.Domain)
	if err != nil {
		return nil, err
	}
	body := toDomain(d)
	return GetDomain200JSONResponse{DomainJSONResponse{Body: body, Headers: DomainResponseHeaders{ETag: etag(body)}}}, nil
}

func (h *handlers) VerifyDomain(ctx context.Context, req VerifyDomainRequestObject) (VerifyDomainResponseObject, error) {
	cs, err := h.companies(nil, nil)
	if err != nil {
		return nil, err
	}
	if _, err := domainOf(ctx, h.s.opts.Store, req.OrgId, req.Domain); err != nil {
		return nil, err
	}
	force := req.Body != nil && req.Body.Force != nil && *req.Body.Force
	if _, err := cs.VerifyDomain(ctx, actor(ctx), req.OrgId, req.Domain, force); err != nil {
		return nil, err
	}
	d, err := domainOf(ctx, h.s.opts.Store, req.OrgId, req.Domain)
	if err != nil {
		return nil, err
	}
	body := toDomain(d)
	return VerifyDomain200JSONResponse{DomainJSONResponse{Body: body, Headers: DomainResponseHeaders{ETag: etag(body)}}}, nil
}

func (h *handlers) RemoveDomain(ctx context.Context, req RemoveDomainRequestObject) (RemoveDomainResponseObject, error) {
	if _, err := domainOf(ctx, h.s.opts.Store, req.OrgId, req.Domain); err != nil {
		return nil, err
	}
	cs, err := h.companies(req.Params.IfMatch, func(ctx context.Context, tx storage.Tx) error {
		if err := tx.LockOrganization(ctx, req.OrgId); err != nil {
			return notFoundOrg(err)
		}
		d, err := domainOf(ctx, tx, req.OrgId, req.Domain)
		if err != nil {
			return err
		}
		return matches(req.Params.IfMatch, etag(toDomain(d)))
	})
	if err != nil {
		return nil, err
	}
	if err := cs.RemoveDomain(ctx, actor(ctx), req.OrgId, req.Domain); err != nil {
		return nil, err
	}
	return RemoveDomain204Response{}, nil
}

// --- company sign-in ---

func (h *handlers) toSSO(c storage.SSOConnection) SSOConnection {
	out := SSOConnection{Issuer: c.Issuer, ClientId: c.ClientID, HasClientSecret: len(c.SecretEncrypted) > 0,
		Scopes: nonNil(c.Scopes), DefaultRoles: toRoles(c.DefaultRoles), SufficientAcr: nonNil(c.SufficientACR),
		Enforce: c.Enforce, BreakGlass: opt(c.BreakGlass), CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC(),
		CallbackUrl: strings.TrimSuffix(h.acc().Issuer, "/") + login.PathSSOCallback}
	return out
}

func (h *handlers) connection(ctx context.Context, st interface {
	storage.Organizations
	storage.SSOConnections
}, orgID string) (storage.SSOConnection, error) {
	if _, err := st.GetOrganization(ctx, orgID); err != nil {
		return storage.SSOConnection{}, notFoundOrg(err)
	}
	c, err := st.GetSSOConnection(ctx, orgID)
	if errors.Is(err, storage.ErrNotFound) {
		return c, login.ErrSSONone
	}
	return c, err
}

func (h *handlers) GetSSO(ctx context.Context, req GetSSORequestObject) (GetSSOResponseObject, error) {
	if _, err := h.companies(nil, nil); err != nil {
		return nil, err
	}
	c, err := h.connection(ctx, h.s.opts.Store, req.OrgId)
	if err != nil {
		return nil, err
	}
	body := h.toSSO(c)
	return GetSSO200JSONResponse{SSOConnectionJSONResponse{Body: body, Headers: SSOConnectionResponseHeaders{ETag: etag(body)}}}, nil
}

// ssoUnchanged is If-Match on the connection, inside the change's
// transaction with the organization's row held; no connection matches
// no ETag.
func (h *handlers) ssoUnchanged(orgID string, ifMatch *string) precondition {
	return func(ctx context.Context, tx storage.Tx) error {
		if err := tx.LockOrganization(ctx, orgID); err != nil {
			return notFoundOrg(err)
		}
		c, err := h.connection(ctx, tx, orgID)
		if errors.Is(err, login.ErrSSONone) {
			return errStale
		} else if err != nil {
			return err
		}
		return matches(ifMatch, etag(h.toSSO(c)))
	}
}

func (h *handlers) PutSSO(ctx context.Context, req PutSSORequestObject) (PutSSOResponseObject, error) {
	if _, err := h.organization(ctx, req.OrgId); err != nil {
		return nil, err
	}
	cs, err := h.companies(req.Params.IfMatch, h.ssoUnchanged(req.OrgId, req.Params.IfMatch))
	if err != nil {
		return nil, err
	}
	b := req.Body
	in := login.ConnectionInput{Issuer: b.Issuer, ClientID: b.ClientId, ClientSecret: deref(b.ClientSecret),
		Enforce: b.Enforce != nil && *b.Enforce, BreakGlass: deref(b.BreakGlass), KeepBreakGlass: b.BreakGlass == nil}
	if b.Scopes != nil {
		in.Scopes = *b.Scopes
	}
	if b.SufficientAcr != nil {
		in.SufficientACR = *b.SufficientAcr
	}
	if b.DefaultRoles != nil {
		in.DefaultRoles = fromRoles(*b.DefaultRoles)
	}
	saved, err := cs.SetConnection(ctx, actor(ctx), req.OrgId, in)
	if err != nil {
		return nil, err
	}
	body := h.toSSO(saved)
	return PutSSO200JSONResponse{SSOConnectionJSONResponse{Body: body, Headers: SSOConnectionResponseHeaders{ETag: etag(body)}}}, nil
}

func (h *handlers) DeleteSSO(ctx context.Context, req DeleteSSORequestObject) (DeleteSSOResponseObject, error) {
	if _, err := h.organization(ctx, req.OrgId); err != nil {
		return nil, err
	}
	cs, err := h.companies(req.Params.IfMatch, h.ssoUnchanged(req.OrgId, req.Params.IfMatch))
	if err != nil {
		return nil, err
	}
	if err := cs.RemoveConnection(ctx, actor(ctx), req.OrgId); err != nil {
		return nil, err
	}
	return DeleteSSO204Response{}, nil
}
