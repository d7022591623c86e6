package login

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/sesame-idp/sesame/internal/fail"

	"github.com/sesame-idp/sesame/login/cloudaccount"
	"github.com/sesame-idp/sesame/login/company"
	"github.com/sesame-idp/sesame/login/web"
	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/storage/secretbox"
	"github.com/sesame-idp/sesame/templates"
)

// signupFlow serves the creation of an organization: the founder's cloud
// account, then the company.
type signupFlow struct {
	*shared
	// Cloud checks the founder's cloud account; Directory finds companies.
	Cloud     cloudaccount.Verifier
	Directory company.Directory
	// Drafts seals the sign-up's progress between its steps.
	Drafts *secretbox.Box
	// SignupPerHour bounds sign-up attempts per IP address.
	SignupPerHour int
}

func (h *signupFlow) routes(r chi.Router) {
	r.Get(PathSignup, h.handleSignup)
	r.Post(PathSignup, h.handleSignupAccount)
	r.Post(PathSignupCompany, h.handleSignupCompany)
}

// Paths of the sign-up.
const (
	PathSignup        = "/signup"
	PathSignupCompany = "/signup/company"
)

// draftLifetime bounds the time between the cloud account check and the creation.
const draftLifetime = 30 * time.Minute

// draft is the sign-up's progress, sealed (encrypted and authenticated)
// into the form: the verified cloud account, never its password.
type draft struct {
	Account string `json:"a"`
	Email   string `json:"e"`
	Key     string `json:"k"` // the idempotency key of the creation
	Exp     int64  `json:"x"`
}

func (h *signupFlow) sealDraft(d draft) (string, error) {
	return seal(h.Drafts, d)
}

func (h *signupFlow) openDraft(s string) (draft, bool) {
	var d draft
	if !unseal(h.Drafts, s, &d) || h.now().Unix() > d.Exp {
		return d, false
	}
	return d, true
}

type signupPage struct {
	templates.Base
	Step      string // account, company, done
	Email     string
	Draft     string
	Domicile  string
	SIRET     string
	Company   *company.Company
	Name      string
	Country   string
	Countries []country
	Org       storage.Organization
}

func (h *signupFlow) renderSignup(w http.ResponseWriter, r *http.Request, problem error, p *signupPage) {
	status, errKey := h.problemOf(r, problem)
	p.Base = h.base(w, r, "Signup.Title", nil)
	p.Error = errKey
	if p.Step == "company" {
		p.Countries = countries(p.Lang)
		if p.Domicile != storage.DomicileFrance && p.Domicile != storage.DomicileAbroad {
			p.Domicile = "" // the choice comes first
		}
	}
	h.render(w, status, "signup", p)
}

func (h *signupFlow) handleSignup(w http.ResponseWriter, r *http.Request) {
	h.renderSignup(w, r, nil, &signupPage{Step: "account"})
}

// handleSignupAccount checks the cloud account (step 1).
func (h *signupFlow) handleSignupAccount(w http.ResponseWriter, r *http.Request) {
	email := strings.TrimSpace(r.PostFormValue("email"))
	p := &signupPage{Step: "account", Email: email}
	if !h.csrfValid(r) {
		h.renderSignup(w, r, errCSRF, p)
		return
	}
	if !h.limit(w, r, "signup:"+web.BudgetKey(r), h.SignupPerHour) {
		return
	}
	pw := r.PostFormValue("password")
	if email == "" || pw == "" || len(email) > 320 {
		h.renderSignup(w, r, fail.E(fail.Invalid, "Errors.Signup.Missing"), p)
		return
	}
	account, err := h.Cloud.Verify(r.Context(), email, pw)
	switch {
	case errors.Is(err, cloudaccount.ErrInvalid):
		h.Logger.InfoContext(r.Context(), "sign-up: cloud account refused", "ip", web.ClientIP(r))
		h.renderSignup(w, r, fail.E(fail.Unauthorized, "Errors.Signup.CloudInvalid"), p)
		return
	case errors.Is(err, cloudaccount.ErrLocked):
		h.renderSignup(w, r, fail.E(fail.TooMany, "Errors.Signup.CloudLocked"), p)
		return
	case err != nil:
		h.Logger.WarnContext(r.Context(), "sign-up: cloud provider unavailable", "err", err)
		h.renderSignup(w, r, fail.E(fail.Unavailable, "Errors.Signup.CloudDown"), p)
		return
	}
	d := draft{Account: account, Email: email, Key: storage.NewSecret(), Exp: h.now().Add(draftLifetime).Unix()}
	if p.Draft, err = h.sealDraft(d); err != nil {
		h.fail(w, r, err)
		return
	}
	p.Step = "company"
	h.renderSignup(w, r, nil, p)
}

// handleSignupCompany searches the SIRET, or creates the organization (steps 2 to 4).
func (h *signupFlow) handleSignupCompany(w http.ResponseWriter, r *http.Request) {
	f := r.PostForm
	p := &signupPage{Step: "company", Draft: f.Get("draft"), Domicile: f.Get("domicile"), SIRET: strings.TrimSpace(f.Get("siret")),
		Name: strings.TrimSpace(f.Get("name")), Country: strings.ToUpper(strings.TrimSpace(f.Get("country")))}
	if !h.csrfValid(r) {
		h.renderSignup(w, r, errCSRF, p)
		return
	}
	d, ok := h.openDraft(p.Draft)
	if !ok {
		h.renderSignup(w, r, fail.E(fail.Invalid, "Errors.Signup.Expired"), &signupPage{Step: "account"})
		return
	}
	p.Email = d.Email
	if !h.limit(w, r, "signup:"+web.BudgetKey(r), h.SignupPerHour) {
		return
	}
	// Step 2 first asks where the company is domiciled, then shows the
	// form of that choice alone (France: the SIRET search; abroad: the
	// name and country), with one button that creates.
	switch f.Get("action") {
	case "choose":
		if p.Domicile != storage.DomicileFrance && p.Domicile != storage.DomicileAbroad {
			h.renderSignup(w, r, fail.E(fail.Invalid, "Errors.Signup.Domicile"), p)
			return
		}
		h.renderSignup(w, r, nil, p)
		return
	case "change":
		p.Domicile = map[string]string{storage.DomicileFrance: storage.DomicileAbroad}[p.Domicile]
		if p.Domicile == "" {
			p.Domicile = storage.DomicileFrance
		}
		h.renderSignup(w, r, nil, p)
		return
	}
	org := storage.Organization{CloudAccountID: d.Account, SignupKey: d.Key}
	switch p.Domicile {
	case storage.DomicileFrance:
		siret, err := company.ParseSIRET(p.SIRET)
		if errors.Is(err, company.ErrSIRETKey) {
			h.renderSignup(w, r, fail.E(fail.Invalid, "Errors.Signup.SIRETKey"), p)
			return
		} else if err != nil {
			h.renderSignup(w, r, fail.E(fail.Invalid, "Errors.Signup.SIRETFormat"), p)
			return
		}
		c, err := h.Directory.Lookup(r.Context(), siret)
		switch {
		case errors.Is(err, company.ErrUnknown):
			h.renderSignup(w, r, fail.E(fail.Invalid, "Errors.Signup.SIRETUnknown"), p)
			return
		case errors.Is(err, company.ErrClosed):
			h.renderSignup(w, r, fail.E(fail.Gone, "Errors.Signup.SIRETClosed"), p)
			return
		case err != nil:
			h.Logger.WarnContext(r.Context(), "sign-up: company directory unavailable", "err", err)
			var rl *company.RateLimitedError
			if errors.As(err, &rl) {
				w.Header().Set("Retry-After", formatSeconds(rl.RetryAfter))
			}
			h.renderSignup(w, r, fail.E(fail.Unavailable, "Errors.Signup.DirectoryDown"), p)
			return
		}
		p.SIRET, p.Company = siret, &c
		if f.Get("action") != "create" {
			h.renderSignup(w, r, nil, p)
			return
		}
		org.Name, org.LegalName, org.Address = c.Name, c.LegalName, c.Address
		org.Domicile, org.Country, org.SIRET, org.SIREN = storage.DomicileFrance, "FR", c.SIRET, c.SIREN
	case storage.DomicileAbroad:
		if p.Name == "" || len(p.Name) > 200 {
			h.renderSignup(w, r, fail.E(fail.Invalid, "Errors.Signup.Name"), p)
			return
		}
		if _, err := AbroadCountry(p.Country); err != nil {
			h.renderSignup(w, r, err, p)
			return
		}
		org.Name, org.LegalName, org.Domicile, org.Country = p.Name, p.Name, storage.DomicileAbroad, p.Country
	default:
		h.renderSignup(w, r, fail.E(fail.Invalid, "Errors.Signup.Domicile"), p)
		return
	}
	// The founder's mail speaks the language of the sign-up.
	created, err := h.Accounts.CreateOrganization(r.Context(), Actor{IP: web.ClientIP(r)}, org, d.Email, h.lang(w, r, nil))
	if err != nil {
		h.renderSignup(w, r, err, p)
		return
	}
	h.Logger.InfoContext(r.Context(), "organization created", "org", created.ID, "ip", web.ClientIP(r))
	h.renderSignup(w, r, nil, &signupPage{Step: "done", Email: d.Email, Org: created})
}

func formatSeconds(d time.Duration) string {
	return strconvItoa(max(int(d.Seconds()), 1))
}
