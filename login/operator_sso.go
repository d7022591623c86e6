package login

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/sesame-idp/sesame/login/domains"
	"github.com/sesame-idp/sesame/storage"
)

// The operator's view of an organization's company sign-in, on its
// console page (operator_org.html): its domains (state, verified at, the
// record to publish) and its connection (issuer, client, enforce; never
// the secret). The operator can mark a domain verified by hand, as `sesame
// org domain verify --force` does: the same CompanySignIn.VerifyDomain,
// a CSRF-checked POST, audited "forced by the operator". A domain another
// organization has verified stays refused (Errors.Domains.Taken).

func init() {
	noticeKeys["domain-verified"] = "SSOConsole.Notice.Verified"
}

// consoleDomain is one domain on the console.
type consoleDomain struct {
	Name, Record string
	Verified     bool
	VerifiedAt   time.Time
	CheckedAt    time.Time
}

// consoleSSO is the company sign-in part of an organization's console
// page; nil when company sign-in is not configured.
type consoleSSO struct {
	Domains    []consoleDomain
	Pending    bool // some domain is not verified
	Connection *consoleConnection
}

// consoleConnection is what the console shows of a connection: never the
// secret.
type consoleConnection struct {
	Issuer, ClientID string
	Scopes           string
	DefaultRoles     []string
	Enforce          bool
	BreakGlass       string // the break-glass admin's address, or ""
	UpdatedAt        time.Time
}

// ssoRoutes mounts the console's company sign-in action.
func (h *operatorFlow) ssoRoutes(r chi.Router) {
	if h.Companies == nil {
		return
	}
	r.Post(PathOperator+"/{id}/domains/verify", h.handleOperatorDomainVerify)
}

// companySignIn reads the organization's domains and connection for its
// console page.
func (h *operatorFlow) companySignIn(ctx context.Context, orgID string) (*consoleSSO, error) {
	if h.Companies == nil {
		return nil, nil
	}
	ds, err := h.Store.ListDomains(ctx, orgID)
	if err != nil {
		return nil, err
	}
	out := &consoleSSO{}
	for _, d := range ds {
		out.Domains = append(out.Domains, consoleDomain{Name: d.Name, Record: domains.Record(d.Name, d.Challenge),
			Verified: d.Verified(), VerifiedAt: d.VerifiedAt, CheckedAt: d.CheckedAt})
		out.Pending = out.Pending || !d.Verified()
	}
	c, err := h.Store.GetSSOConnection(ctx, orgID)
	if errors.Is(err, storage.ErrNotFound) {
		return out, nil
	} else if err != nil {
		return nil, err
	}
	out.Connection = &consoleConnection{Issuer: c.Issuer, ClientID: c.ClientID, Scopes: strings.Join(c.Scopes, " "),
		DefaultRoles: storage.NormalizeRoles(c.DefaultRoles), Enforce: c.Enforce, UpdatedAt: c.UpdatedAt}
	if c.BreakGlass != "" {
		if u, err := h.Store.GetUser(ctx, c.BreakGlass); err == nil {
			out.Connection.BreakGlass = u.Email
		} else {
			out.Connection.BreakGlass = c.BreakGlass
		}
	}
	return out, nil
}

// handleOperatorDomainVerify marks the organization's domain verified
// without looking its record up (the operator vouches for it).
func (h *operatorFlow) handleOperatorDomainVerify(w http.ResponseWriter, r *http.Request) {
	orgID := chi.URLParam(r, "id")
	h.operatorAction(w, r, h.renderOperatorOrg, PathOperator+"/"+url.PathEscape(orgID), "domain-verified", func(v viewer) error {
		actor := actorOf(v, r)
		actor.Operator = true
		name := strings.TrimSpace(r.PostFormValue("domain"))
		if name == "" || len(name) > 300 {
			return ErrDomainUnknown
		}
		_, err := h.Companies.VerifyDomain(r.Context(), actor, orgID, name, true)
		return err
	})
}
