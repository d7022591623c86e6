package login

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/sesame-idp/sesame/internal/vocab"
	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/templates"
)

// The operator console's Applications page: the relying parties, listed,
// registered (the secret shown once), their secret rotated, removed. The
// rules are the command line's and the API's (clients.go); a refusal is
// shown with its message and the field at fault, the form kept.

// PathApplications is the console's Applications page.
const PathApplications = "/admin/applications"

func (h *operatorFlow) applicationRoutes(r chi.Router) {
	r.Get(PathApplications, h.handleApplications)
	r.Post(PathApplications, h.handleRegisterApplication)
	r.Post(PathApplications+"/{id}/rotate", h.handleRotateApplication)
	r.Post(PathApplications+"/{id}/remove", h.handleRemoveApplication)
}

type applicationRow struct {
	storage.Client
	Kind   string // confidential or public
	Grants string
	Scopes string
}

// applicationForm is the registration form, kept after a refusal.
type applicationForm struct {
	ID, Name, RedirectURIs, PostLogoutURIs, BackchannelURI, Alg string
	Public, Code, ClientCredentials                             bool
	ThirdParty                                                  bool // asks people's consent (consent.go)
	Device                                                      bool // the device_code grant (device.go)
	Scopes                                                      []string
	Protocol                                                    protocolForm // clientprotocol_form.go
}

type applicationsPage struct {
	templates.Base
	Apps   []applicationRow
	Notice string
	// Secret is the secret just made, shown this once, for SecretFor.
	Secret, SecretFor string
	// Field and Problem say what the rules refused.
	Field, Problem string
	Form           applicationForm
	AllScopes      []string
	Algs           []string
}

func (h *operatorFlow) renderApplications(w http.ResponseWriter, r *http.Request, v viewer, problem error, p *applicationsPage) {
	status, errKey := h.problemOf(r, problem)
	var fe *FieldError
	if errors.As(problem, &fe) {
		p.Field, p.Problem = fe.Field, fe.Problem
	}
	list, err := h.Store.ListClients(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, c := range list {
		row := applicationRow{Client: c, Kind: "Applications.Confidential", Grants: strings.Join(c.GrantTypes(), ", "),
			Scopes: strings.Join(c.Scopes, ", ")}
		if c.Public {
			row.Kind = "Applications.Public"
		}
		p.Apps = append(p.Apps, row)
	}
	p.AllScopes, p.Algs = vocab.APIScopes, IDTokenAlgorithms
	p.Base = h.spaceBase(w, r, v, "Applications.Title")
	p.Error = errKey
	// A page with a secret on it is not kept by anyone.
	w.Header().Set("Cache-Control", "no-store")
	h.render(w, status, "applications", p)
}

func (h *operatorFlow) handleApplications(w http.ResponseWriter, r *http.Request) {
	v, ok := h.operator(w, r)
	if !ok {
		return
	}
	h.renderApplications(w, r, v, nil, &applicationsPage{Notice: applicationNotices[r.URL.Query().Get("done")],
		Form: applicationForm{Code: true}})
}

var applicationNotices = map[string]string{"removed": "Applications.Notice.Removed"}

// lines splits a textarea into its non-empty lines.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func (h *operatorFlow) handleRegisterApplication(w http.ResponseWriter, r *http.Request) {
	v, ok := h.operator(w, r)
	if !ok {
		return
	}
	f := applicationForm{ID: strings.TrimSpace(r.PostFormValue("id")), Name: strings.TrimSpace(r.PostFormValue("name")),
		RedirectURIs: r.PostFormValue("redirect_uris"), PostLogoutURIs: r.PostFormValue("post_logout_redirect_uris"),
		BackchannelURI: strings.TrimSpace(r.PostFormValue("backchannel_logout_uri")), Alg: r.PostFormValue("alg"),
		Public: r.PostFormValue("kind") == "public", Code: r.PostFormValue("grant_code") != "",
		ClientCredentials: r.PostFormValue("grant_client_credentials") != "", Scopes: r.PostForm["scope"],
		ThirdParty: r.PostFormValue("third_party") != "",
		Device:     r.PostFormValue("grant_device_code") != ""}
	p := &applicationsPage{Form: f}
	if !h.csrfValid(r) {
		h.renderApplications(w, r, v, errCSRF, p)
		return
	}
	c := storage.Client{ID: f.ID, Name: f.Name, Public: f.Public, RedirectURIs: lines(f.RedirectURIs),
		PostLogoutRedirectURIs: lines(f.PostLogoutURIs), BackchannelLogoutURI: f.BackchannelURI, IDTokenSignedAlg: f.Alg,
		Scopes: slices.Clone(f.Scopes)}
	c.Protocol.ThirdParty = f.ThirdParty
	if f.Code {
		c.Grants = append(c.Grants, storage.GrantAuthorizationCode)
	}
	if f.ClientCredentials {
		c.Grants = append(c.Grants, storage.GrantClientCredentials)
	}
	if f.Device {
		c.Grants = append(c.Grants, storage.GrantDeviceCode)
	}
	if len(c.Grants) == 0 {
		c.Grants = []string{"none"} // refused by the rules, as an empty --grant list is not
	}
	p.Form.Protocol = readProtocolForm(r)
	if err := h.Accounts.applyProtocolForm(p.Form.Protocol, &c.Protocol); err != nil {
		h.renderApplications(w, r, v, err, p)
		return
	}
	actor := actorOf(v, r)
	actor.Operator = true
	c, secret, err := h.Accounts.RegisterClient(r.Context(), actor, c, "")
	if err != nil {
		if h.refused(w, r, err) {
			h.renderApplications(w, r, v, err, p)
		}
		return
	}
	// The secret is shown on this answer, never again: no redirect.
	h.renderApplications(w, r, v, nil, &applicationsPage{Notice: "Applications.Notice.Registered",
		Secret: secret, SecretFor: c.ID, Form: applicationForm{Code: true}})
}

func (h *operatorFlow) handleRotateApplication(w http.ResponseWriter, r *http.Request) {
	v, ok := h.operator(w, r)
	if !ok {
		return
	}
	p := &applicationsPage{Form: applicationForm{Code: true}}
	if !h.csrfValid(r) {
		h.renderApplications(w, r, v, errCSRF, p)
		return
	}
	actor := actorOf(v, r)
	actor.Operator = true
	c, secret, err := h.Accounts.RotateClientSecret(r.Context(), actor, chi.URLParam(r, "id"), nil)
	if err != nil {
		if h.refused(w, r, err) {
			h.renderApplications(w, r, v, err, p)
		}
		return
	}
	p.Notice, p.Secret, p.SecretFor = "Applications.Notice.Rotated", secret, c.ID
	h.renderApplications(w, r, v, nil, p)
}

func (h *operatorFlow) handleRemoveApplication(w http.ResponseWriter, r *http.Request) {
	h.operatorAction(w, r, func(w http.ResponseWriter, r *http.Request, v viewer, problem error, notice string) {
		h.renderApplications(w, r, v, problem, &applicationsPage{Notice: notice, Form: applicationForm{Code: true}})
	}, PathApplications, "removed", func(v viewer) error {
		actor := actorOf(v, r)
		actor.Operator = true
		return h.Accounts.RemoveClient(r.Context(), actor, chi.URLParam(r, "id"), nil)
	})
}
